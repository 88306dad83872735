"""The conformance suite of the health records every records backend must pass."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections import Counter
from typing import Any

import pytest

from agentvault_registry.core.errors import NotFound
from agentvault_registry.storage_backends.accounts import UserRecord
from agentvault_registry.storage_backends.agents import (
    DELETED,
    HEALTH_STATUSES,
    INACTIVE,
    AgentRecord,
)
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.discovery import DiscoveryQuery, term
from agentvault_registry.storage_backends.health import (
    UPTIME_WINDOW,
    ProbeState,
    Uptime,
    uptime_hour,
)

from .accounts_data import LATER, NOW, SOON, TwoUsers
from .agents import created_event, make_agent, updated_event

CONCURRENT_PROBES = 30
CONCURRENT_AGENTS = 12
ORIGIN = "https://agent.example.org:443"
KEEP_SINCE = uptime_hour(NOW - UPTIME_WINDOW)
HOUR = dt.timedelta(hours=1)


def make_probed_agent(number: int, developer_id: str, **changes: object) -> AgentRecord:
    """Agent ``number`` (see ``make_agent``) with an interface URL, so the prober wants it."""
    return make_agent(number, developer_id, api_endpoints=(f"{ORIGIN}/a2a/{number}",), **changes)


def make_probe(
    agent_id: str, at: dt.datetime, *, reachable: bool = True, **changes: Any
) -> ProbeState:
    """A probe of ``agent_id`` at ``at`` that got the agent's card (or, not ``reachable``, no
    answer at all)."""
    probe = ProbeState(
        agent_id=agent_id,
        checked_at=at,
        origin=ORIGIN,
        reachable=reachable,
        http_status=200 if reachable else None,
        latency_ms=12.5 if reachable else None,
        etag='"card-1"' if reachable else None,
        card_path="/.well-known/agent-card.json" if reachable else None,
        served_card_hash="ab" * 32 if reachable else None,
        error=None if reachable else "could not connect to agent.example.org",
    )
    return dataclasses.replace(probe, **changes)


def make_health(status: str, at: dt.datetime = NOW, **changes: Any) -> dict[str, Any]:
    health = {
        "status": status,
        "last_checked_at": at.isoformat(),
        "uptime_7d": 1.0,
        "latency_ms": 12.5,
        "card_drift": False,
        "http_status": 200,
    }
    return health | changes


async def health_counts(records: RecordsBackend) -> dict[str, int]:
    """Agents per health status, from the index's running counts."""
    counts = await records.count_terms(DiscoveryQuery(), kind="health")
    assert counts.exact
    return {value: number for value, number in counts.counts.items() if number}


async def with_health(records: RecordsBackend, status: str) -> list[str]:
    """Ids of the agents discovery finds with health ``status``."""
    query = DiscoveryQuery(groups=((term("health", status),),))
    return [agent.id for agent in (await records.search_agents(query, limit=100)).agents]


class HealthConformance(TwoUsers):
    """Probe states, uptime and agents' health in a :class:`RecordsBackend` (its
    :class:`~agentvault_registry.storage_backends.health.HealthRecords` part).

    The subclass (named ``Test...`` so pytest collects it) provides one async fixture:

    ``records``
        A records backend on a fresh, empty database, already opened and migrated; the
        fixture closes it after the test.
    """

    @pytest.fixture
    async def agent(self, records: RecordsBackend, alice: UserRecord) -> AgentRecord:
        return await self.create(records, make_probed_agent(1, alice.id))

    async def create(self, records: RecordsBackend, agent: AgentRecord) -> AgentRecord:
        return await records.create_agent(agent, created_event(agent))

    async def record(self, records: RecordsBackend, probe: ProbeState, **keep: dt.datetime):
        return await records.record_probe(probe, keep_since=keep.get("keep_since", KEEP_SINCE))

    # -------------------------------------------------------------- probe states

    async def test_an_agent_never_probed_has_no_probe_state(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        assert await records.get_probe_state(agent.id) is None

    async def test_a_recorded_probe_becomes_the_agents_probe_state(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        probe = make_probe(agent.id, NOW)
        recorded = await self.record(records, probe)
        assert recorded.state == dataclasses.replace(probe, last_reachable_at=NOW)
        assert recorded.uptime == Uptime(answered=1, probes=1)
        assert await records.get_probe_state(agent.id) == recorded.state

    async def test_failures_count_in_a_row_until_the_origin_answers_again(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        await self.record(records, make_probe(agent.id, NOW))
        await self.record(records, make_probe(agent.id, SOON, reachable=False))
        failed = await self.record(
            records, make_probe(agent.id, SOON + dt.timedelta(seconds=1), reachable=False)
        )
        assert failed.state.consecutive_failures == 2
        assert failed.state.last_reachable_at == NOW
        assert failed.state.error == "could not connect to agent.example.org"
        answered = await self.record(records, make_probe(agent.id, LATER))
        assert answered.state.consecutive_failures == 0
        assert answered.state.last_reachable_at == LATER
        assert answered.state.error is None

    async def test_the_counts_a_caller_sends_are_ignored(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        probe = make_probe(
            agent.id, NOW, reachable=False, consecutive_failures=7, last_reachable_at=LATER
        )
        recorded = await self.record(records, probe)
        assert (recorded.state.consecutive_failures, recorded.state.last_reachable_at) == (1, None)

    async def test_an_older_probe_counts_in_the_uptime_but_keeps_the_newer_state(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        newer = await self.record(records, make_probe(agent.id, SOON, reachable=False))
        older = await self.record(records, make_probe(agent.id, NOW))
        assert older.state == newer.state
        assert older.uptime == Uptime(answered=1, probes=2)
        assert await records.get_probe_state(agent.id) == newer.state

    async def test_a_probe_of_an_unknown_agent_is_not_found_and_stores_nothing(
        self, records: RecordsBackend
    ) -> None:
        with pytest.raises(NotFound):
            await self.record(records, make_probe("no-such-agent", NOW))
        assert await records.get_probe_state("no-such-agent") is None

    # -------------------------------------------------------------------- uptime

    async def test_the_uptime_counts_every_probe_of_the_hours_kept(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        for at, reachable in (
            (NOW, True),
            (NOW + HOUR, False),
            (NOW + 2 * HOUR, True),
            (NOW + 2 * HOUR + dt.timedelta(minutes=1), True),
        ):
            recorded = await self.record(records, make_probe(agent.id, at, reachable=reachable))
        assert recorded.uptime == Uptime(answered=3, probes=4)
        assert recorded.uptime.ratio == 0.75

    async def test_hours_before_keep_since_are_pruned_for_good(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        await self.record(records, make_probe(agent.id, NOW))
        later = await self.record(
            records,
            make_probe(agent.id, NOW + 3 * HOUR),
            keep_since=uptime_hour(NOW + 2 * HOUR),
        )
        assert later.uptime == Uptime(answered=1, probes=1)
        # Looking further back again finds nothing of the pruned hour.
        again = await self.record(
            records,
            make_probe(agent.id, NOW + 4 * HOUR, reachable=False),
            keep_since=uptime_hour(NOW - UPTIME_WINDOW),
        )
        assert again.uptime == Uptime(answered=1, probes=2)

    async def test_a_rolling_window_counts_the_hours_it_covers_only(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        moments = [NOW + n * 6 * HOUR for n in range(40)]  # ten days, every six hours
        for at in moments:
            recorded = await self.record(
                records, make_probe(agent.id, at), keep_since=uptime_hour(at - UPTIME_WINDOW)
            )
        window_start = uptime_hour(moments[-1] - UPTIME_WINDOW)
        expected = sum(1 for at in moments if uptime_hour(at) >= window_start)
        assert recorded.uptime == Uptime(answered=expected, probes=expected)

    async def test_a_ratio_needs_a_probe(self) -> None:
        assert Uptime(answered=0, probes=0).ratio is None
        assert Uptime(answered=0, probes=2).ratio == 0.0

    async def test_concurrent_probes_all_count_and_the_latest_state_stays(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        probes = [
            make_probe(agent.id, NOW + dt.timedelta(seconds=n), reachable=n % 2 == 0)
            for n in range(CONCURRENT_PROBES)
        ]
        results = await asyncio.gather(*(self.record(records, probe) for probe in probes))
        assert max(result.uptime.probes for result in results) == CONCURRENT_PROBES
        final = await self.record(records, make_probe(agent.id, SOON))
        assert final.uptime == Uptime(
            answered=CONCURRENT_PROBES // 2 + 1, probes=CONCURRENT_PROBES + 1
        )
        stored = await records.get_probe_state(agent.id)
        assert stored is not None and stored.checked_at == SOON

    # -------------------------------------------------------------------- health

    async def test_health_is_stored_without_a_new_version_or_event(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        events = await records.list_agent_events()
        stored = await records.set_agent_health(agent.id, make_health("healthy"), NOW)
        assert stored == dataclasses.replace(agent, health=make_health("healthy"))
        assert await records.get_agent(agent.id) == stored
        assert await records.list_agent_events() == events

    async def test_a_changed_health_status_is_found_by_discovery_at_once(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        assert await health_counts(records) == {"unknown": 1}
        await records.set_agent_health(agent.id, make_health("healthy"), NOW)
        assert await health_counts(records) == {"healthy": 1}
        assert await with_health(records, "healthy") == [agent.id]
        await records.set_agent_health(agent.id, make_health("unreachable"), SOON)
        assert await health_counts(records) == {"unreachable": 1}
        assert await with_health(records, "healthy") == []
        assert await with_health(records, "unreachable") == [agent.id]

    async def test_a_new_latency_with_the_same_status_leaves_discovery_as_it_was(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        await records.set_agent_health(agent.id, make_health("degraded"), NOW)
        stored = await records.set_agent_health(
            agent.id, make_health("degraded", SOON, latency_ms=3000.0), SOON
        )
        assert stored is not None and stored.health["latency_ms"] == 3000.0
        assert await health_counts(records) == {"degraded": 1}
        assert await with_health(records, "degraded") == [agent.id]

    async def test_an_update_of_the_agent_keeps_its_health(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        await records.set_agent_health(agent.id, make_health("healthy"), NOW)
        updated = await records.update_agent(
            agent.id, agent.version, {"name": "Renamed"}, updated_event(agent.id)
        )
        assert (updated.name, updated.version) == ("Renamed", agent.version + 1)
        assert updated.health == make_health("healthy")

    async def test_the_health_of_an_older_probe_is_not_written(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        newer = make_health("unreachable", SOON)
        await records.set_agent_health(agent.id, newer, SOON)
        assert await records.set_agent_health(agent.id, make_health("healthy"), NOW) is None
        stored = await records.get_agent(agent.id)
        assert stored is not None and stored.health == newer
        assert await health_counts(records) == {"unreachable": 1}

    async def test_unknown_and_deleted_agents_get_no_health(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        assert await records.set_agent_health("no-such-agent", make_health("healthy"), NOW) is None
        deleted = await records.update_agent(
            agent.id, agent.version, {"status": DELETED}, updated_event(agent.id)
        )
        assert await records.set_agent_health(agent.id, make_health("healthy"), NOW) is None
        assert await records.get_agent(agent.id) == deleted
        assert await health_counts(records) == {}

    async def test_concurrent_health_changes_keep_discovery_counts_exact(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        agents = [
            await self.create(records, make_probed_agent(n, alice.id))
            for n in range(1, CONCURRENT_AGENTS + 1)
        ]
        statuses = [HEALTH_STATUSES[n % len(HEALTH_STATUSES)] for n in range(len(agents))]
        await asyncio.gather(
            *(
                records.set_agent_health(agent.id, make_health(status), NOW)
                for agent, status in zip(agents, statuses, strict=True)
            )
        )
        assert await health_counts(records) == dict(Counter(statuses))

    # ---------------------------------------------------------------- due probes

    async def test_due_agents_are_active_ones_with_interfaces_not_probed_lately(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        never = await self.create(records, make_probed_agent(1, alice.id))
        long_ago = await self.create(records, make_probed_agent(2, alice.id))
        recently = await self.create(records, make_probed_agent(3, alice.id))
        await self.create(records, make_probed_agent(4, alice.id, status=INACTIVE))
        deleted = await self.create(records, make_probed_agent(5, alice.id))
        await records.update_agent(
            deleted.id, deleted.version, {"status": DELETED}, updated_event(deleted.id)
        )
        await self.create(records, make_agent(6, alice.id))
        never_too = await self.create(records, make_probed_agent(7, alice.id))
        await records.set_agent_health(long_ago.id, make_health("healthy"), NOW)
        await records.set_agent_health(recently.id, make_health("healthy", LATER), LATER)

        due = await records.agents_due_for_probe(probed_before=SOON, limit=10)

        assert [agent.id for agent in due] == [never.id, never_too.id, long_ago.id]
        assert due[2].health == make_health("healthy")

    async def test_the_never_probed_come_first_then_the_least_recently_probed(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        agents = [await self.create(records, make_probed_agent(n, alice.id)) for n in (1, 2, 3)]
        first, second, third = agents
        await records.set_agent_health(first.id, make_health("healthy", SOON), SOON)
        await records.set_agent_health(second.id, make_health("healthy"), NOW)

        async def due(limit: int) -> list[str]:
            page = await records.agents_due_for_probe(probed_before=LATER, limit=limit)
            return [agent.id for agent in page]

        assert await due(10) == [third.id, second.id, first.id]
        assert await due(1) == [third.id]
        assert await due(2) == [third.id, second.id]

    async def test_a_limit_below_one_is_refused(self, records: RecordsBackend) -> None:
        with pytest.raises(ValueError, match="limit"):
            await records.agents_due_for_probe(probed_before=NOW, limit=0)
