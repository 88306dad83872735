"""The scheduled prober: a round probes the agents due, a host with many agents is never asked
more than the per-host limit at once while other hosts go on, requests to one host are spaced
by the politeness delay, and of two registries sharing a cache one runs each round."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from liveness_helpers import (
    AGENTS,
    CARD_PATH,
    Flights,
    app_overrides,
    card_at,
    developer,
    health,
    register,
)

from agentvault_registry.core.appkeys import PERIODIC_TASKS
from agentvault_registry.core.periodic import collect_periodic_tasks, current_round, run_round
from agentvault_registry.plugins.liveness import probe_agents
from agentvault_registry.plugins.liveness.appkeys import LIVENESS_SERVICE

TASK = "liveness.probe_agents"
#: Upper bound of the wait for a scheduled round; reached only when none ever runs.
PATIENCE = 10.0
AGENTS_ON_ONE_HOST = 50
PER_HOST = 3
OTHER_HOSTS = 2
#: Room for the busy host's limit and one request to each other host.
TOTAL = PER_HOST + OTHER_HOSTS


async def plain_agent(client, headers, origin, number: int) -> dict:
    """A card-less agent with an interface at ``origin`` (its card is derived)."""
    return await register(
        client,
        headers,
        name=f"Agent {number}",
        description="One of many on one host.",
        apiEndpoints=[f"{origin.url}/a2a/{number}"],
    )


async def test_a_round_probes_the_agents_due_once_per_probe_interval(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    origin.card = card_at(origin.url)
    agents = [await register(client, ada, card=card_at(origin.url)) for _ in range(3)]

    await probe_agents(client.app)
    assert len(origin.requests_to(CARD_PATH)) == 3
    assert [(await health(client, agent["id"]))["status"] for agent in agents] == ["healthy"] * 3

    # Every agent was probed just now: none is due again within the probe interval.
    assert await client.app[LIVENESS_SERVICE].probe_due() == 0
    assert len(origin.seen) == 3


async def test_a_round_leaves_inactive_agents_alone(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    origin.card = card_at(origin.url)
    agent = await register(client, ada, card=card_at(origin.url))
    patched = await client.patch(
        f"{AGENTS}/{agent['id']}", json={"status": "inactive"}, headers=ada
    )
    assert patched.status == 200

    assert await client.app[LIVENESS_SERVICE].probe_due() == 0
    assert origin.seen == []
    assert (await health(client, agent["id"]))["status"] == "unknown"


async def test_a_round_probes_at_most_a_batch_never_probed_first(liveness_app, origins):
    client = await liveness_app(batch_size=2)
    ada = await developer(client, "ada")
    origin = await origins()
    origin.card = card_at(origin.url)
    agents = [await register(client, ada, card=card_at(origin.url)) for _ in range(3)]
    service = client.app[LIVENESS_SERVICE]

    assert await service.probe_due() == 2
    assert await service.probe_due() == 1
    assert await service.probe_due() == 0
    statuses = [(await health(client, agent["id"]))["status"] for agent in agents]
    assert statuses == ["healthy"] * 3


async def test_a_busy_host_gets_its_limit_and_other_hosts_are_not_kept_waiting(
    liveness_app, origins
):
    client = await liveness_app(
        max_concurrency=TOTAL, per_host_concurrency=PER_HOST, batch_size=100, request_timeout=5
    )
    ada = await developer(client, "ada")
    everywhere = Flights()
    busy = await origins(flights=everywhere)
    others = [await origins(flights=everywhere) for _ in range(OTHER_HOSTS)]
    released = False

    def busy_at_its_limit(_) -> bool:
        # Each other host answers only while the busy one has its limit in flight, and the
        # busy one holds those until every other host answered: were places of the total
        # taken by the busy host's queue, the other hosts would wait, the busy one never be
        # released, and the probes time out.
        return released or busy.in_flight.now >= PER_HOST

    def others_answered(_) -> bool:
        nonlocal released
        released = released or (
            busy.in_flight.now >= PER_HOST and all(other.answered for other in others)
        )
        return released

    busy.hold = others_answered
    for other in others:
        other.hold = busy_at_its_limit
        other.watched_by.append(busy)
        busy.watched_by.append(other)
    agents = [await plain_agent(client, ada, busy, n) for n in range(AGENTS_ON_ONE_HOST)]
    agents += [await plain_agent(client, ada, other, 0) for other in others]
    for origin in (busy, *others):
        origin.card = card_at(origin.url)

    probed = await client.app[LIVENESS_SERVICE].probe_due()

    assert probed == AGENTS_ON_ONE_HOST + OTHER_HOSTS
    assert busy.in_flight.most == PER_HOST
    assert len(busy.seen) == AGENTS_ON_ONE_HOST
    assert everywhere.most <= TOTAL
    for agent in agents:
        report = await health(client, agent["id"])
        assert (report["status"], report["card_drift"]) == ("healthy", None), report


async def test_requests_to_one_host_are_spaced_by_the_politeness_delay(liveness_app, origins):
    delay = 0.25
    client = await liveness_app(per_host_delay=delay, per_host_concurrency=2)
    ada = await developer(client, "ada")
    origin = await origins()
    origin.card = card_at(origin.url)
    for _ in range(3):
        await register(client, ada, card=card_at(origin.url))

    assert await client.app[LIVENESS_SERVICE].probe_due() == 3

    arrivals = [seen.at for seen in origin.seen]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # Measured where the requests arrive, which may shift each by its own transit time.
    assert len(gaps) == 2 and min(gaps) >= delay * 0.8, gaps


async def test_a_round_that_runs_out_of_time_leaves_the_rest_to_the_next(liveness_app, origins):
    client = await liveness_app(round_interval=1, per_host_delay=2, per_host_concurrency=1)
    ada = await developer(client, "ada")
    origin = await origins()
    origin.card = card_at(origin.url)
    agents = [await register(client, ada, card=card_at(origin.url)) for _ in range(2)]
    service = client.app[LIVENESS_SERVICE]

    # The second probe's turn at the host would come two seconds after the first, past the
    # round's one second: it is not started.
    assert await service.probe_due() == 1
    assert len(origin.seen) == 1
    statuses = sorted([(await health(client, agent["id"]))["status"] for agent in agents])
    assert statuses == ["healthy", "unknown"]


async def test_the_scheduled_prober_probes_while_the_app_is_up(liveness_app, origins):
    client = await liveness_app(enabled=True, round_interval=1, probe_interval=3600)
    ada = await developer(client, "ada")
    origin = await origins()
    origin.card = card_at(origin.url)
    agent = await register(client, ada, card=card_at(origin.url))

    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while (await health(client, agent["id"]))["status"] == "unknown":
        assert loop.time() < deadline, "no round probed the agent"
        await asyncio.sleep(0.1)
    assert (await health(client, agent["id"]))["status"] == "healthy"


def test_the_scheduled_prober_runs_on_its_round_interval(make_settings):
    settings, pm = make_settings({"plugins": {"liveness": {"round_interval": 30}}})
    tasks = {task.name: task for task in collect_periodic_tasks(settings, pm)}
    assert (tasks[TASK].interval, tasks[TASK].exclusive) == (30, True)
    assert tasks[TASK].run is probe_agents

    settings, pm = make_settings({"plugins": {"liveness": {"enabled": False}}})
    assert TASK not in {task.name for task in collect_periodic_tasks(settings, pm)}


@pytest.mark.redis
async def test_of_two_registries_sharing_a_cache_one_runs_each_round(
    aiohttp_client, make_app, records_overrides, redis_server_url, redis_key_prefix, origins
):
    # One records database and one cache: two processes of one registry.
    overrides = app_overrides(
        {"enabled": True, "round_interval": 3600, "probe_interval": 86_400},
        storage={
            **records_overrides,
            "cache": {"backend": "redis", "url": redis_server_url, "key_prefix": redis_key_prefix},
        },
    )
    first = await aiohttp_client(make_app(overrides))
    second = await aiohttp_client(make_app(overrides))
    ada = await developer(first, "ada")
    origin = await origins()
    origin.card = card_at(origin.url)
    agent = await register(first, ada, card=card_at(origin.url))
    tasks = [
        next(task for task in client.app[PERIODIC_TASKS] if task.name == TASK)
        for client in (first, second)
    ]
    number = current_round(tasks[0])

    ran = await asyncio.gather(
        run_round(first.app, tasks[0], "first", number=number),
        run_round(second.app, tasks[1], "second", number=number),
    )

    assert sorted(ran) == [False, True]
    assert len(origin.seen) == 1
    assert (await health(second, agent["id"]))["status"] == "healthy"
