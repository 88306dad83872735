"""The bridge's hooks: a plugin answering ``agent_assertion`` supplies the assertion the TEG
sees, and other plugins get agents' tokens through ``agent_teg_token``."""

from __future__ import annotations

import json

import pytest
from teg_helpers import (
    PRICING,
    PROBE,
    WALLET,
    Declining,
    EconomicsProbe,
    WorkloadIdentity,
    app_overrides,
    ask_token,
    onboarded_agent,
)

from agentvault_registry.core.appkeys import PLUGIN_MANAGER
from agentvault_registry.core.asyncutils import first_result
from agentvault_registry.plugins.agents.appkeys import AGENT_SERVICE
from agentvault_registry.plugins.teg_bridge.errors import AgentNotActive


@pytest.fixture
def workload_identity(fake_teg) -> WorkloadIdentity:
    identity = WorkloadIdentity()
    fake_teg.trusted_keys[identity.KID] = identity.public_key
    return identity


async def test_a_workload_identity_is_the_assertion_the_teg_sees(
    bridged_registry, fake_teg, workload_identity
):
    client = await bridged_registry(plugins=[("workload_identity", workload_identity)])
    agent = await onboarded_agent(client, tegWalletAddress=WALLET, pricing=PRICING)
    response = await ask_token(client, agent)
    assert response.status == 200, await response.text()
    [call] = fake_teg.issued
    assert call.assertion_header["kid"] == workload_identity.KID
    assert call.claims["iss"] == WorkloadIdentity.ISSUER
    assert call.claims["sub"] == workload_identity.spiffe_id(agent.id)
    assert workload_identity.audiences == [fake_teg.url]
    # A JWT-SVID carries no economics: the form does.
    assert "teg_wallet_address" not in call.claims
    assert call.form["teg_wallet_address"] == WALLET
    assert json.loads(call.form["pricing"]) == PRICING


async def test_a_replayed_workload_assertion_is_the_tegs_refusal(
    bridged_registry, fake_teg, workload_identity
):
    client = await bridged_registry(plugins=[("workload_identity", workload_identity)])
    agent = await onboarded_agent(client)
    assert (await ask_token(client, agent, {"scope": "agent:economics"})).status == 200
    workload_identity.replay = fake_teg.issued[0].form["assertion"]
    response = await ask_token(client, agent, {"scope": "agent:reputation"})
    assert response.status == 502
    body = await response.json()
    assert body["error"] == "teg_refused"
    assert body["details"] == {
        "status": 400,
        "error": "invalid_grant",
        "error_description": "The assertion was already used.",
    }


async def test_the_registry_signs_when_no_plugin_vouches(bridged_registry, fake_teg):
    declining = Declining()
    client = await bridged_registry(plugins=[("declining", declining)])
    agent = await onboarded_agent(client)
    assert (await ask_token(client, agent)).status == 200
    assert declining.asked == 1
    assert fake_teg.issued[0].claims["sub"] == agent.did


async def test_another_plugin_gets_an_agents_token_through_the_hook(bridged_registry, fake_teg):
    client = await bridged_registry(plugins=[("economics_probe", EconomicsProbe())])
    agent = await onboarded_agent(client)
    probed = await client.get(PROBE.format(agent_id=agent.id), params={"scope": "agent:reputation"})
    assert probed.status == 200, await probed.text()
    token = (await probed.json())["token"]
    assert token["access_token"] == "teg-access-1"
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "agent:reputation"
    assert 3590 <= token["expires_in"] <= 3600
    assert "teg-access-1" not in token["repr"]
    # The agent's own request for that scope is served from the same cache.
    mine = await (await ask_token(client, agent, {"scope": "agent:reputation"})).json()
    assert mine["access_token"] == "teg-access-1"
    assert len(fake_teg.calls) == 1


async def test_the_hook_refuses_an_inactive_agent(bridged_registry):
    client = await bridged_registry()
    agent = await onboarded_agent(client)
    await client.patch(
        f"/api/v1/agents/{agent.id}", json={"status": "inactive"}, headers=agent.developer
    )
    app = client.app
    record = await app[AGENT_SERVICE].get(agent.id)
    with pytest.raises(AgentNotActive):
        await first_result(
            app[PLUGIN_MANAGER].hook.agent_teg_token(app=app, agent=record, scope=None)
        )


async def test_without_a_teg_the_hook_answers_none(aiohttp_client, make_app):
    client = await aiohttp_client(
        make_app(app_overrides(), plugins=[("economics_probe", EconomicsProbe())])
    )
    agent = await onboarded_agent(client)
    probed = await client.get(PROBE.format(agent_id=agent.id))
    assert probed.status == 200
    assert await probed.json() == {"token": None}
