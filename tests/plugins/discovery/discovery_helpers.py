"""Helpers shared by the discovery tests: apps, accounts, cards and a small fleet of agents."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from agentvault_registry.a2a.derive import extract_search_fields
from agentvault_registry.core.appkeys import PLUGIN_MANAGER, STORAGE
from agentvault_registry.core.asyncutils import await_me_maybe
from agentvault_registry.storage_backends.agents import AgentEvent, AgentRecord
from support import merged

PASSWORD = "correct horse battery staple 42"
LIMITS = (
    "auth.login",
    "auth.register",
    "auth.refresh",
    "auth.login_failures",
    "agents.create",
    "discovery.search",
)
AUDIT_EXTENSION = "https://ext.example.org/audit"


def app_overrides(**extra: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "plugins": {"auth": {"bcrypt_cost": 4}},
        "rate_limits": {name: "100000/minute" for name in LIMITS},
    }
    return merged(overrides, extra)


async def account(client, username: str) -> tuple[dict[str, str], str]:
    """Register and log in ``username``; return bearer headers and the user id."""
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": f"{username}@example.org", "username": username, "password": PASSWORD},
    )
    assert response.status == 201, await response.text()
    user_id = (await response.json())["id"]
    login = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    token = (await login.json())["access_token"]
    return {"Authorization": f"Bearer {token}"}, user_id


def card(
    name: str,
    description: str,
    *,
    skills: list[dict[str, Any]],
    bindings: tuple[str, ...] = ("JSONRPC",),
    streaming: bool = False,
    push: bool = False,
    input_modes: tuple[str, ...] = ("text/plain",),
    output_modes: tuple[str, ...] = ("text/plain",),
    schemes: dict[str, Any] | None = None,
    extensions: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An A2A 1.0 card answering at ``https://<slug of name>.example.net``."""
    host = name.lower().replace(" ", "-") + ".example.net"
    capabilities: dict[str, Any] = {"streaming": streaming, "pushNotifications": push}
    if extensions:
        capabilities["extensions"] = [{"uri": uri} for uri in extensions]
    document: dict[str, Any] = {
        "name": name,
        "description": description,
        "version": "1.0.0",
        "supportedInterfaces": [
            {
                "url": f"https://{host}/a2a/{index}",
                "protocolBinding": binding,
                "protocolVersion": "1.0",
            }
            for index, binding in enumerate(bindings)
        ],
        "capabilities": capabilities,
        "defaultInputModes": list(input_modes),
        "defaultOutputModes": list(output_modes),
        "skills": skills,
    }
    if schemes:
        document["securitySchemes"] = schemes
    return document


def skill(skill_id: str, name: str, *tags: str, **extra: Any) -> dict[str, Any]:
    return {"id": skill_id, "name": name, "description": f"{name}.", "tags": list(tags)} | extra


API_KEY = {"key": {"apiKeySecurityScheme": {"location": "header", "name": "X-Key"}}}
OAUTH = {
    "oauth": {
        "oauth2SecurityScheme": {
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "https://auth.example.net/token",
                    "scopes": {"read": "Read"},
                }
            }
        }
    }
}
OIDC = {
    "oidc": {
        "openIdConnectSecurityScheme": {
            "openIdConnectUrl": "https://auth.example.net/.well-known/openid-configuration"
        }
    }
}
MTLS_AND_HTTP = {
    "mtls": {"mtlsSecurityScheme": {}},
    "bearer": {"httpAuthSecurityScheme": {"scheme": "bearer"}},
}

#: The fleet the filter tests search: name -> (owner, registration body).
FLEET: dict[str, tuple[str, dict[str, Any]]] = {
    "Polyglot Translator": (
        "alice",
        {
            "agentType": "assistant",
            "capabilities": ["translate"],
            "tags": ["language"],
            "pricing": {"model": "per_call", "base_price": "0.02", "currency": "USD"},
            "card": card(
                "Polyglot Translator",
                "Turns documents from one language into another.",
                skills=[skill("translate", "Translate documents", "language")],
                streaming=True,
                schemes=API_KEY,
            ),
        },
    ),
    "Invoice Reader": (
        "alice",
        {
            "agentType": "tool",
            "capabilities": ["extract-tables", "pdf"],
            "tags": ["finance"],
            "pricing": {"model": "subscription", "currency": "EUR"},
            "card": card(
                "Invoice Reader",
                "Reads invoices and returns their line items.",
                skills=[skill("extract-tables", "Extract tables", "pdf")],
                bindings=("GRPC", "HTTP+JSON"),
                push=True,
                input_modes=("application/pdf",),
                output_modes=("application/json",),
                schemes=OAUTH,
                extensions=(AUDIT_EXTENSION,),
            ),
        },
    ),
    "Travel Planner": (
        "alice",
        {
            "agentType": "orchestrator",
            "capabilities": ["plan-trip", "translate"],
            "tags": ["travel"],
            "card": card(
                "Travel Planner",
                "Plans journeys and books them.",
                skills=[
                    skill("plan-trip", "Plan a trip", "travel", outputModes=["text/html"]),
                    skill("translate", "Phrasebook", "language"),
                ],
                streaming=True,
                schemes=OIDC,
            ),
        },
    ),
    "Code Reviewer": (
        "bob",
        {
            "agentType": "tool",
            "capabilities": ["review-code"],
            "card": card(
                "Code Reviewer",
                "Reviews pull requests.",
                skills=[skill("review-code", "Review code", "code")],
                bindings=("HTTP+JSON",),
                schemes=MTLS_AND_HTTP,
            ),
        },
    ),
    "Weather Oracle": (
        "bob",
        {
            "name": "Weather Oracle",
            "description": "Forecasts the weather for any city.",
            "apiEndpoints": ["https://weather-oracle.example.net/a2a"],
            "capabilities": ["forecast"],
            "tags": ["weather"],
        },
    ),
    "Ghost Translator": (
        "bob",
        {
            "name": "Ghost Translator",
            "description": "A translator that was deleted.",
            "apiEndpoints": ["https://ghost.example.net/a2a"],
            "capabilities": ["translate"],
        },
    ),
}


@dataclasses.dataclass
class Fleet:
    """The registered fleet: agents by name, owners' headers and ids."""

    agents: dict[str, dict[str, Any]]
    headers: dict[str, dict[str, str]]
    user_ids: dict[str, str]

    def id_of(self, name: str) -> str:
        return self.agents[name]["id"]


async def register_fleet(client) -> Fleet:
    """Register :data:`FLEET`; then Code Reviewer is made inactive, Weather Oracle verified
    and Ghost Translator deleted."""
    headers, user_ids = {}, {}
    for owner in ("alice", "bob"):
        headers[owner], user_ids[owner] = await account(client, owner)
    agents = {}
    for name, (owner, body) in FLEET.items():
        response = await client.post("/api/v1/agents", json=body, headers=headers[owner])
        assert response.status == 201, await response.text()
        agents[name] = await response.json()
    fleet = Fleet(agents, headers, user_ids)
    patched = await client.patch(
        f"/api/v1/agents/{fleet.id_of('Code Reviewer')}",
        json={"status": "inactive"},
        headers=headers["bob"],
    )
    assert patched.status == 200, await patched.text()
    deleted = await client.delete(
        f"/api/v1/agents/{fleet.id_of('Ghost Translator')}", headers=headers["bob"]
    )
    assert deleted.status in (200, 204), await deleted.text()
    await mark_verified(client, fleet.id_of("Weather Oracle"))
    return fleet


async def mark_verified(client, agent_id: str) -> None:
    """Verify an agent as a passed ownership challenge would (the challenge needs a public
    host, which tests do not have); then tell plugins, as the agents service does."""
    records = client.app[STORAGE].records
    agent = await records.get_agent(agent_id)
    now = dt.datetime.now(dt.UTC)
    verified = await records.update_agent(
        agent.id,
        agent.version,
        {"verified": True, "verified_at": now},
        AgentEvent("updated", agent.id, None, now, {}),
    )
    for result in client.app[PLUGIN_MANAGER].hook.agent_changed(
        app=client.app, event_type="updated", agent=verified, actor=None
    ):
        await await_me_maybe(result)


def synthetic_agent(number: int, developer_id: str, created_at: dt.datetime) -> AgentRecord:
    """A plain agent for bulk seeding through ``import_agents``."""
    agent_id = str(uuid.uuid4())
    derived = {
        "name": f"Bulk {number}",
        "description": f"Bulk agent number {number}.",
        "supportedInterfaces": [
            {
                "url": f"https://bulk{number}.example.net/a2a",
                "protocolBinding": "JSONRPC",
                "protocolVersion": "1.0",
            }
        ],
        "capabilities": {},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [{"id": "bulk", "name": "Bulk", "description": "Bulk.", "tags": ["bulk"]}],
    }
    return AgentRecord(
        id=agent_id,
        did=f"did:agentvault:{agent_id}",
        name=f"Bulk {number}",
        agent_type="bulk",
        status="active",
        description=f"Bulk agent number {number}.",
        developer_id=developer_id,
        human_readable_id=f"bulk-{number}-{agent_id[:8]}",
        created_at=created_at,
        updated_at=created_at,
        api_endpoints=(f"https://bulk{number}.example.net/a2a",),
        capabilities=("bulk",),
        card_summary=extract_search_fields(derived),
    )


def names(document: dict[str, Any]) -> list[str]:
    return [agent["name"] for agent in document["agents"]]
