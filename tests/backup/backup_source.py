"""A registry with something in every table, built through the HTTP API, and the neutral
dump of a registry's records and blobs that backups are compared by."""

from __future__ import annotations

import base64
import json
from typing import Any, NamedTuple

from agentvault_registry.core.app import create_app
from agentvault_registry.storage_backends.backup import DERIVED_META_KEYS
from agentvault_registry.storage_backends.base import BlobBackend, RecordsBackend
from sample_cards import V1_CARD
from support import PASSWORD, fast_registry, self_onboarded, sign_up


class Filled(NamedTuple):
    api_key: str
    agent_ids: list[str]


LIMITS = ("auth.login", "auth.register", "agents.create", "bootstrap.request")
PEERS = "/api/v1/admin/federation/peers"
ENDPOINT = "https://agents.example.net/a2a"


def registry_overrides(**storage: Any) -> dict[str, Any]:
    return fast_registry(
        LIMITS,
        plugins={"federation": {"allow_http": True, "allow_private_peers": True}},
        storage=storage,
    )


async def fill_registry(aiohttp_client, settings, pm) -> Filled:
    """Users (one admin), an API key, agents with and without a card, an update, a deleted
    agent, an unused and a consumed bootstrap token (with its agent key), a peer; returns
    the API key and the agents' ids."""
    client = await aiohttp_client(create_app(settings, pm))
    admin = await sign_up(client, "grace", role="admin")
    ada = await sign_up(client, "ada")
    await sign_up(client, "unverified", verified=False)
    key = await client.post(
        "/api/v1/auth/api-keys", json={"name": "ci", "scopes": ["agents:read"]}, headers=ada.headers
    )
    assert key.status == 201, await key.text()
    api_key = (await key.json())["key"]
    carded = await client.post("/api/v1/agents", json={"card": V1_CARD}, headers=ada.headers)
    assert carded.status == 201, await carded.text()
    plain = await client.post(
        "/api/v1/agents",
        json={
            "name": "Weather Oracle",
            "description": "Forecasts.",
            "capabilities": ["forecast"],
            "apiEndpoints": ["https://weather.example.net/a2a"],
        },
        headers=ada.headers,
    )
    assert plain.status == 201, await plain.text()
    plain_id = (await plain.json())["id"]
    patched = await client.patch(
        f"/api/v1/agents/{plain_id}", json={"tags": ["weather"]}, headers=ada.headers
    )
    assert patched.status == 200, await patched.text()
    doomed = await client.post(
        "/api/v1/agents",
        json={"name": "Doomed", "description": "Gone.", "apiEndpoints": [ENDPOINT]},
        headers=ada.headers,
    )
    gone = await client.delete(f"/api/v1/agents/{(await doomed.json())['id']}", headers=ada.headers)
    assert gone.status == 204, await gone.text()
    unused = await client.post(
        "/api/v1/onboard/bootstrap/request-token", json={}, headers=ada.headers
    )
    assert unused.status == 201, await unused.text()
    await self_onboarded(
        client,
        ada.headers,
        {"name": "Self Made", "description": "Onboarded itself.", "apiEndpoints": [ENDPOINT]},
    )
    peer = await client.post(
        PEERS,
        json={
            "name": "Partner",
            "registry_url": "http://127.0.0.1:9/",
            "admin_contact": "ops@partner.example.org",
            "federation_access_token": "partner-token-" + "x" * 32,
        },
        headers=admin.headers,
    )
    assert peer.status == 201, await peer.text()
    listed = await client.get("/api/v1/agents", params={"per_page": 100}, headers=ada.headers)
    agent_ids = [agent["id"] for agent in (await listed.json())["agents"]]
    await client.close()
    return Filled(api_key, agent_ids)


def signed_by(document: dict[str, Any]) -> dict[str, Any]:
    """A served card with each registry signature reduced to its key id: the rest of its
    header names the serving address (jku), which differs between two test servers."""
    if "signatures" not in document:
        return document
    kids = [
        json.loads(base64.urlsafe_b64decode(s["protected"] + "==="))["kid"]
        for s in document["signatures"]
    ]
    return {**document, "signatures": kids}


async def served(client, filled: Filled) -> dict[str, Any]:
    """What the registry serves of ``filled``: each agent and its card, as the API key sees
    them (the key itself must still work), and whether ada's password still logs in."""
    key = {"X-API-Key": filled.api_key}
    seen: dict[str, Any] = {}
    for agent_id in filled.agent_ids:
        for path in (f"/api/v1/agents/{agent_id}", f"/api/v1/agents/{agent_id}/card"):
            response = await client.get(path, headers=key)
            assert response.status == 200, await response.text()
            seen[path] = signed_by(await response.json())
    login = await client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    seen["login"] = login.status
    return seen


async def dump(records: RecordsBackend, blobs: BlobBackend) -> dict[str, Any]:
    """Every exported table's neutral rows (sorted: the backends' collations differ) and
    every blob with its content type."""
    tables = await records.backup_tables()
    rows: dict[str, list[str]] = {table.name: [] for table in tables}
    async for table, row in records.export_rows(tables):
        if table == "registry_meta" and row["key"] in DERIVED_META_KEYS:
            continue  # who built the index, and when: each side's own
        rows[table].append(json.dumps(row, sort_keys=True))
    stored = {}
    async for key in blobs.list():
        blob = await blobs.get(key)
        stored[key] = (blob.info.content_type, blob.data)
    return {"tables": {name: sorted(found) for name, found in rows.items()}, "blobs": stored}
