"""Who may ask for a TEG token, and with what body: agents only, active ones, within their
rate limit; the body is optional, and anything but a valid one is refused before the TEG is
asked."""

from __future__ import annotations

import io

import pytest
from teg_helpers import TOKEN, ask_token, onboarded_agent


@pytest.fixture
async def registry_and_agent(bridged_registry):
    client = await bridged_registry()
    return client, await onboarded_agent(client)


@pytest.mark.parametrize("body", [{}, {"scope": "agent:economics agent:reputation"}])
async def test_an_empty_object_or_a_full_scope_asks_for_everything(
    registry_and_agent, fake_teg, body
):
    client, agent = registry_and_agent
    response = await ask_token(client, agent, body)
    assert response.status == 200, await response.text()
    assert fake_teg.issued[-1].form["scope"] == "agent:economics agent:reputation"


async def test_malformed_json_is_a_bad_request(registry_and_agent, fake_teg):
    client, agent = registry_and_agent
    response = await ask_token(client, agent, data=b'{"scope": ', content_type="application/json")
    assert response.status == 400
    assert (await response.json())["error"] == "malformed_json"
    assert fake_teg.calls == []


async def test_a_body_that_is_not_json_is_refused(registry_and_agent, fake_teg):
    client, agent = registry_and_agent
    response = await ask_token(
        client, agent, data=b"scope=agent:economics", content_type="text/plain"
    )
    assert response.status == 415
    assert fake_teg.calls == []


async def test_an_oversized_body_is_refused(registry_and_agent, fake_teg):
    client, agent = registry_and_agent
    huge = b'{"scope": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = await ask_token(
        client, agent, data=io.BytesIO(huge), content_type="application/json"
    )
    assert response.status == 413
    assert fake_teg.calls == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": 5}, "scope"),
        ({"scope": None}, "scope"),
        ({"scope": ["agent:economics"]}, "scope"),
        ({"scope": ""}, "scope"),
        ({"scope": "agent:economics  agent:reputation"}, "scope"),
        ({"scope": " agent:economics"}, "scope"),
        ({"scope": "agent:economics agent:payroll"}, "scope"),
        ({"scope": "admin"}, "scope"),
        ({"scopes": "agent:economics"}, "scopes"),
        ({"scope": "agent:economics", "agent_id": "someone-else"}, "agent_id"),
        (["agent:economics"], "_schema"),
        ("agent:economics", "_schema"),
    ],
)
async def test_a_bad_body_names_the_field(registry_and_agent, fake_teg, body, field):
    client, agent = registry_and_agent
    response = await ask_token(client, agent, body)
    assert response.status == 422
    answer = await response.json()
    assert answer["error"] == "validation_failed"
    assert field in answer["details"], answer
    assert fake_teg.calls == []


async def test_an_unknown_scope_says_which_scopes_there_are(registry_and_agent):
    client, agent = registry_and_agent
    response = await ask_token(client, agent, {"scope": "agent:payroll agent:economics"})
    [message] = (await response.json())["details"]["scope"]
    assert "'agent:payroll'" in message
    assert "agent:economics agent:reputation" in message


async def test_anonymous_callers_must_authenticate(registry_and_agent, fake_teg):
    client, _ = registry_and_agent
    response = await client.post(TOKEN)
    assert response.status == 401
    assert (await response.json())["error"] == "authentication_required"
    bad_key = await client.post(TOKEN, headers={"X-API-Key": "avk_" + "x" * 43})
    assert bad_key.status == 401
    assert fake_teg.calls == []


async def test_a_developer_is_no_agent(registry_and_agent, fake_teg):
    client, agent = registry_and_agent
    session = await client.post(TOKEN, headers=agent.developer)
    assert session.status == 403
    assert "agent" in (await session.json())["message"]
    created = await client.post(
        "/api/v1/auth/api-keys",
        json={"name": "ci", "scopes": ["agents:read"]},
        headers=agent.developer,
    )
    assert created.status == 201, await created.text()
    developer_key = {"X-API-Key": (await created.json())["key"]}
    assert (await client.post(TOKEN, headers=developer_key)).status == 403
    assert fake_teg.calls == []


@pytest.mark.parametrize("status", ["inactive", "deprecated"])
async def test_only_an_active_agent_gets_a_token(registry_and_agent, fake_teg, status):
    client, agent = registry_and_agent
    changed = await client.patch(
        f"/api/v1/agents/{agent.id}", json={"status": status}, headers=agent.developer
    )
    assert changed.status == 200, await changed.text()
    response = await ask_token(client, agent)
    assert response.status == 403
    body = await response.json()
    assert body["error"] == "agent_not_active"
    assert body["message"] == f"Only an active agent gets TEG tokens; this agent is {status}."
    assert fake_teg.calls == []


async def test_a_cached_token_is_not_handed_to_an_agent_gone_inactive(registry_and_agent):
    client, agent = registry_and_agent
    assert (await ask_token(client, agent)).status == 200
    await client.patch(
        f"/api/v1/agents/{agent.id}", json={"status": "inactive"}, headers=agent.developer
    )
    assert (await ask_token(client, agent)).status == 403


async def test_token_requests_are_limited_per_agent(bridged_registry, fake_teg):
    client = await bridged_registry(rate_limits={"teg.token": "3/day"})
    agent, other = await onboarded_agent(client, "Ada"), await onboarded_agent(client, "Bob")
    statuses = [(await ask_token(client, agent)).status for _ in range(3)]
    assert statuses == [200] * 3
    limited = await ask_token(client, agent)
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert (await limited.json())["error"] == "rate_limited"
    # Another agent has an allowance of its own.
    assert (await ask_token(client, other)).status == 200
