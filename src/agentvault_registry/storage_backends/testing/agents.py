"""The conformance suite of the agents records every records backend must pass."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid

import pytest

from agentvault_registry.core.errors import Conflict, NotFound, PreconditionFailed
from agentvault_registry.storage_backends.accounts import UserRecord
from agentvault_registry.storage_backends.agents import (
    DELETED,
    DEPRECATED,
    INACTIVE,
    AgentEvent,
    AgentFilter,
    AgentRecord,
    agent_snapshot,
)
from agentvault_registry.storage_backends.base import RecordsBackend

from .accounts_data import NOW, TwoUsers

LATER = NOW + dt.timedelta(hours=1)
CONCURRENT_UPDATERS = 10


def make_agent(number: int, developer_id: str, **changes: object) -> AgentRecord:
    """Agent ``number``, created ``number`` seconds after NOW, with a capitalised slug."""
    agent_id = str(uuid.UUID(int=number))
    created = NOW + dt.timedelta(seconds=number)
    agent = AgentRecord(
        id=agent_id,
        did=f"did:agentvault:{agent_id}",
        name=f"Agent {number}",
        agent_type="a2a",
        status="active",
        description=f"The agent number {number}.",
        developer_id=developer_id,
        human_readable_id=f"Agent-{number}",
        created_at=created,
        updated_at=created,
        capabilities=("chat",),
    )
    return dataclasses.replace(agent, **changes)


def created_event(agent: AgentRecord) -> AgentEvent:
    return AgentEvent("created", agent.id, agent.developer_id, agent.created_at, {})


def updated_event(agent_id: str, at: dt.datetime = LATER) -> AgentEvent:
    return AgentEvent("updated", agent_id, "user-alice", at, {})


class AgentsConformance(TwoUsers):
    """Agents and their change feed in a :class:`RecordsBackend`.

    The subclass (named ``Test...`` so pytest collects it) provides one async fixture:

    ``records``
        A records backend on a fresh, empty database, already opened and migrated; the
        fixture closes it after the test.
    """

    @pytest.fixture
    async def agent(self, records: RecordsBackend, alice: UserRecord) -> AgentRecord:
        created = make_agent(1, alice.id)
        return await records.create_agent(created, created_event(created))

    async def create(self, records: RecordsBackend, agent: AgentRecord) -> AgentRecord:
        return await records.create_agent(agent, created_event(agent))

    # ------------------------------------------------------------ create and get

    async def test_create_agent_returns_it_and_get_finds_it_by_id(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        agent = make_agent(1, alice.id)
        assert await self.create(records, agent) == agent
        assert await records.get_agent(agent.id) == agent

    async def test_get_agent_by_did(self, records: RecordsBackend, agent: AgentRecord) -> None:
        assert await records.get_agent(agent.did) == agent

    async def test_get_agent_by_slug_ignores_case(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        assert await records.get_agent("aGENT-1") == agent

    async def test_get_unknown_agent_is_none(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        assert await records.get_agent("no-such-agent") is None

    async def test_slug_taken_in_another_case_conflicts_on_human_readable_id(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        with pytest.raises(Conflict) as caught:
            await self.create(
                records, make_agent(2, agent.developer_id, human_readable_id="AGENT-1")
            )
        assert caught.value.details == {"field": "human_readable_id"}
        assert [event.agent_id for event in await records.list_agent_events()] == [agent.id]

    async def test_agent_of_an_unknown_developer_conflicts(self, records: RecordsBackend) -> None:
        with pytest.raises(Conflict):
            await self.create(records, make_agent(1, "no-such-user"))

    async def test_json_fields_round_trip(self, records: RecordsBackend, alice: UserRecord) -> None:
        agent = make_agent(
            1,
            alice.id,
            pricing={"model": "per_call", "amount": 0.25, "currency": "USD"},
            metadata={"team": {"name": "core", "members": ["a", "b"]}, "tier": 2, "beta": None},
            card_summary={"skills": ["translate"], "modes": {"input": ["text/plain"]}},
            api_endpoints=("https://agent.example/a2a",),
            tags=("finance", "translation"),
        )
        await self.create(records, agent)
        assert await records.get_agent(agent.id) == agent

    async def test_timestamps_come_back_as_the_same_instant_in_utc(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        elsewhere = dt.timezone(dt.timedelta(hours=-5))
        agent = make_agent(1, alice.id, verified=True, verified_at=NOW.astimezone(elsewhere))
        await self.create(records, agent)
        stored = await records.get_agent(agent.id)
        assert stored is not None
        assert stored.verified_at == NOW
        assert stored.verified_at.utcoffset() == dt.timedelta(0)

    # --------------------------------------------------------------- events

    async def test_each_write_appends_an_event_with_increasing_seq_and_snapshot(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        updated = await records.update_agent(
            agent.id, 1, {"name": "Renamed"}, updated_event(agent.id)
        )
        events = await records.list_agent_events()
        assert [(event.event_type, event.agent_id) for event in events] == [
            ("created", agent.id),
            ("updated", agent.id),
        ]
        assert 0 < events[0].seq < events[1].seq
        assert events[1].occurred_at == LATER
        assert events[1].actor_id == "user-alice"
        assert [event.snapshot for event in events] == [
            agent_snapshot(agent),
            agent_snapshot(updated),
        ]
        assert events[1].snapshot["name"] == "Renamed"
        assert events[1].snapshot["updated_at"] == LATER.isoformat()
        assert events[1].snapshot["capabilities"] == ["chat"]

    async def test_list_agent_events_pages_after_seq(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for number in range(1, 6):
            await self.create(records, make_agent(number, alice.id))
        first = await records.list_agent_events(limit=2)
        second = await records.list_agent_events(after_seq=first[-1].seq, limit=2)
        rest = await records.list_agent_events(after_seq=second[-1].seq)
        names = [event.snapshot["name"] for event in first + second + rest]
        assert names == [f"Agent {number}" for number in range(1, 6)]
        assert await records.list_agent_events(after_seq=rest[-1].seq) == []

    # --------------------------------------------------------------- updates

    async def test_update_changes_fields_bumps_version_and_updated_at(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        changes = {"status": INACTIVE, "capabilities": ("chat", "search"), "pricing": {"a": 1}}
        updated = await records.update_agent(agent.id, 1, changes, updated_event(agent.id))
        assert updated == dataclasses.replace(agent, **changes, updated_at=LATER, version=2)
        assert await records.get_agent(agent.id) == updated

    async def test_update_of_the_slug_finds_the_agent_by_the_new_one(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        await records.update_agent(
            agent.id, 1, {"human_readable_id": "New-Slug"}, updated_event(agent.id)
        )
        assert await records.get_agent("new-slug") is not None
        assert await records.get_agent("agent-1") is None

    async def test_update_to_a_taken_slug_conflicts_on_human_readable_id(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        other = await self.create(records, make_agent(2, agent.developer_id))
        with pytest.raises(Conflict) as caught:
            await records.update_agent(
                other.id, 1, {"human_readable_id": "agent-1"}, updated_event(other.id)
            )
        assert caught.value.details == {"field": "human_readable_id"}
        assert await records.get_agent(other.id) == other

    async def test_update_of_a_stale_version_fails_and_changes_nothing(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        await records.update_agent(agent.id, 1, {"name": "First"}, updated_event(agent.id))
        before = await records.get_agent(agent.id)
        with pytest.raises(PreconditionFailed):
            await records.update_agent(agent.id, 1, {"name": "Second"}, updated_event(agent.id))
        assert await records.get_agent(agent.id) == before
        assert len(await records.list_agent_events()) == 2

    async def test_update_of_an_absent_agent_is_not_found(self, records: RecordsBackend) -> None:
        with pytest.raises(NotFound):
            await records.update_agent("no-such-agent", 1, {"name": "x"}, updated_event("x"))
        assert await records.list_agent_events() == []

    async def test_update_refuses_a_field_it_may_not_change(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        with pytest.raises(ValueError, match="developer_id"):
            await records.update_agent(agent.id, 1, {"developer_id": "x"}, updated_event(agent.id))
        assert await records.get_agent(agent.id) == agent

    async def test_concurrent_updates_of_one_version_succeed_once(
        self, records: RecordsBackend, agent: AgentRecord
    ) -> None:
        results = await asyncio.gather(
            *(
                records.update_agent(agent.id, 1, {"name": f"Name {n}"}, updated_event(agent.id))
                for n in range(CONCURRENT_UPDATERS)
            ),
            return_exceptions=True,
        )
        winners = [result for result in results if isinstance(result, AgentRecord)]
        losers = [result for result in results if not isinstance(result, AgentRecord)]
        assert len(winners) == 1
        assert all(isinstance(result, PreconditionFailed) for result in losers)
        assert await records.get_agent(agent.id) == winners[0]
        assert len(await records.list_agent_events()) == 2

    # --------------------------------------------------------------- listing

    async def test_list_is_newest_first_and_hides_deleted_by_default(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for number, status in enumerate(("active", INACTIVE, DEPRECATED, DELETED), start=1):
            await self.create(records, make_agent(number, alice.id, status=status))
        page = await records.list_agents(AgentFilter(), limit=10)
        assert [agent.name for agent in page.agents] == ["Agent 3", "Agent 2", "Agent 1"]
        assert (page.total, page.total_exact, page.next_after) == (3, True, None)

    async def test_list_filters_by_statuses(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for number, status in enumerate(("active", DELETED, DELETED), start=1):
            await self.create(records, make_agent(number, alice.id, status=status))
        page = await records.list_agents(AgentFilter(statuses=(DELETED,)), limit=10)
        assert [agent.name for agent in page.agents] == ["Agent 3", "Agent 2"]

    async def test_list_filters_by_developer(
        self, records: RecordsBackend, alice: UserRecord, bob: UserRecord
    ) -> None:
        for number, developer in enumerate((alice, bob, alice), start=1):
            await self.create(records, make_agent(number, developer.id))
        page = await records.list_agents(AgentFilter(developer_id=bob.id), limit=10)
        assert [agent.name for agent in page.agents] == ["Agent 2"]
        assert page.total == 1

    async def test_list_filters_by_agent_type(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for number, agent_type in enumerate(("a2a", "mcp", "a2a"), start=1):
            await self.create(records, make_agent(number, alice.id, agent_type=agent_type))
        page = await records.list_agents(AgentFilter(agent_type="mcp"), limit=10)
        assert [agent.name for agent in page.agents] == ["Agent 2"]

    async def test_list_filters_by_capability(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        capabilities = [("chat",), ("translate", "chat"), ("search",), ("translation",)]
        for number, offered in enumerate(capabilities, start=1):
            await self.create(records, make_agent(number, alice.id, capabilities=offered))
        page = await records.list_agents(AgentFilter(capability="translate"), limit=10)
        assert [agent.name for agent in page.agents] == ["Agent 2"]

    async def test_keyset_pages_cover_every_agent_once_even_with_equal_created_at(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for number in range(1, 8):
            await self.create(
                records,
                make_agent(number, alice.id, created_at=NOW + dt.timedelta(seconds=number // 3)),
            )
        everything = (await records.list_agents(AgentFilter(), limit=100)).agents
        seen, after = [], None
        while True:
            page = await records.list_agents(AgentFilter(), limit=3, after=after)
            seen += page.agents
            if page.next_after is None:
                break
            assert page.next_after == (page.agents[-1].created_at, page.agents[-1].id)
            after = page.next_after
        assert seen == everything
        assert len({agent.id for agent in seen}) == 7
        keys = [(agent.created_at, agent.id) for agent in seen]
        assert keys == sorted(keys, reverse=True)

    async def test_list_count_is_capped_at_count_limit(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for number in range(1, 6):
            await self.create(records, make_agent(number, alice.id))
        capped = await records.list_agents(AgentFilter(), limit=2, count_limit=3)
        assert (capped.total, capped.total_exact, len(capped.agents)) == (3, False, 2)
        exact = await records.list_agents(AgentFilter(), limit=2, count_limit=5)
        assert (exact.total, exact.total_exact) == (5, True)
