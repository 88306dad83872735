"""Tokens are reused from the cache backend (memory and Redis) until refresh_margin before
they expire, and concurrent requests for one agent and scope share one exchange."""

from __future__ import annotations

import asyncio

import pytest
from teg_helpers import WALLET, Clock, ask_token, onboarded_agent

from agentvault_registry.core.appkeys import STORAGE
from agentvault_registry.plugins.agents.appkeys import AGENT_SERVICE
from agentvault_registry.plugins.teg_bridge.appkeys import TEG_SERVICE
from agentvault_registry.plugins.teg_bridge.service import cache_key
from fake_teg import oauth_error

CONCURRENT = 8


@pytest.fixture
async def cached_registry(bridged_registry, cache_overrides):
    client = await bridged_registry({"refresh_margin": 30}, **cache_overrides)
    clock = Clock()
    client.app[TEG_SERVICE].clock = clock
    return client, clock


async def test_a_second_request_is_answered_from_the_cache(cached_registry, fake_teg):
    client, clock = cached_registry
    agent = await onboarded_agent(client)
    first = await (await ask_token(client, agent)).json()
    clock.advance(1000)
    second = await ask_token(client, agent)
    assert second.status == 200
    assert second.headers["Cache-Control"] == "no-store"
    again = await second.json()
    assert again["access_token"] == first["access_token"]
    assert again["expires_in"] == 2600  # what is left, not what the TEG first said
    assert len(fake_teg.calls) == 1


async def test_a_token_is_renewed_refresh_margin_before_it_expires(cached_registry, fake_teg):
    client, clock = cached_registry
    agent = await onboarded_agent(client)
    first = await (await ask_token(client, agent)).json()
    clock.advance(3600 - 30 - 1)
    still = await (await ask_token(client, agent)).json()
    assert still["access_token"] == first["access_token"]
    assert still["expires_in"] == 31
    clock.advance(1)
    renewed = await (await ask_token(client, agent)).json()
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == 3600
    assert len(fake_teg.issued) == 2


async def test_a_token_too_short_lived_for_the_margin_is_never_reused(cached_registry, fake_teg):
    client, _ = cached_registry
    fake_teg.expires_in = 20
    agent = await onboarded_agent(client)
    for _ in range(2):
        assert (await (await ask_token(client, agent)).json())["expires_in"] == 20
    assert len(fake_teg.issued) == 2


async def test_each_scope_and_each_agent_has_its_own_token(cached_registry, fake_teg):
    client, _ = cached_registry
    ada = await onboarded_agent(client, "Ada")
    bob = await onboarded_agent(client, "Bob")
    tokens = {
        (await (await ask_token(client, agent, {"scope": scope})).json())["access_token"]
        for agent in (ada, bob)
        for scope in ("agent:economics", "agent:reputation", "agent:economics")
    }
    assert len(tokens) == 4
    assert len(fake_teg.issued) == 4
    assert {call.claims["sub"] for call in fake_teg.issued} == {ada.did, bob.did}


async def test_a_new_wallet_gets_a_new_token(cached_registry, fake_teg):
    client, _ = cached_registry
    agent = await onboarded_agent(client, tegWalletAddress=WALLET)
    first = await (await ask_token(client, agent)).json()
    changed = await client.patch(
        f"/api/v1/agents/{agent.id}",
        json={"tegWalletAddress": "0x0000000000000000000000000000000000000001"},
        headers=agent.developer,
    )
    assert changed.status == 200, await changed.text()
    second = await (await ask_token(client, agent)).json()
    assert second["access_token"] != first["access_token"]
    assert fake_teg.issued[-1].form["teg_wallet_address"].endswith("0001")


async def _concurrently(client, agent, count: int):
    return await asyncio.gather(*(ask_token(client, agent) for _ in range(count)))


async def _first_call_held(fake_teg) -> None:
    """Wait until the TEG holds the first call, then give the others time to line up."""
    while not fake_teg.calls:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)


async def test_concurrent_requests_share_one_exchange(cached_registry, fake_teg):
    client, _ = cached_registry
    agent = await onboarded_agent(client)
    fake_teg.gate = asyncio.Event()
    requests = asyncio.ensure_future(_concurrently(client, agent, CONCURRENT))
    await _first_call_held(fake_teg)
    fake_teg.gate.set()
    responses = await requests
    assert [response.status for response in responses] == [200] * CONCURRENT
    tokens = {(await response.json())["access_token"] for response in responses}
    assert tokens == {"teg-access-1"}
    assert len(fake_teg.calls) == 1


async def test_concurrent_requests_share_one_failure_each_with_its_own_headers(
    cached_registry, fake_teg
):
    client, _ = cached_registry
    agent = await onboarded_agent(client)
    fake_teg.gate = asyncio.Event()

    async def refuse(request):
        return oauth_error(400, "invalid_grant", "Agent unknown to the TEG.")

    fake_teg.behaviour = refuse
    requests = asyncio.ensure_future(_concurrently(client, agent, CONCURRENT))
    await _first_call_held(fake_teg)
    fake_teg.gate.set()
    responses = await requests
    assert [response.status for response in responses] == [502] * CONCURRENT
    assert len(fake_teg.calls) == 1
    # Each response says how much of the caller's own allowance is left.
    remaining = {response.headers["X-RateLimit-Remaining"] for response in responses}
    assert len(remaining) == CONCURRENT
    bodies = [await response.json() for response in responses]
    assert {body["details"]["error"] for body in bodies} == {"invalid_grant"}
    assert len({body["request_id"] for body in bodies}) == CONCURRENT


async def test_a_failure_is_not_cached(cached_registry, fake_teg):
    client, _ = cached_registry
    agent = await onboarded_agent(client)

    async def failing(request):
        return oauth_error(503, "temporarily_unavailable", "Maintenance.")

    fake_teg.behaviour = failing
    assert (await ask_token(client, agent)).status == 503
    fake_teg.behaviour = None
    assert (await ask_token(client, agent)).status == 200
    assert len(fake_teg.calls) == 2


@pytest.mark.parametrize("stored", [b"not json", b"{}", b'{"access_token": "x", "expires_at": 1}'])
async def test_a_cache_entry_of_another_shape_is_exchanged_anew(cached_registry, fake_teg, stored):
    client, _ = cached_registry
    agent = await onboarded_agent(client)
    record = await client.app[AGENT_SERVICE].get(agent.id)
    key = cache_key(record, "agent:economics agent:reputation")
    await client.app[STORAGE].cache.set(key, stored, ttl=600)
    response = await ask_token(client, agent)
    assert response.status == 200
    assert (await response.json())["access_token"] == "teg-access-1"
    assert len(fake_teg.issued) == 1
