"""Facet counts of discovery: running counts per status, and samples of other matches."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentvault_registry.storage_backends.accounts import UserRecord
from agentvault_registry.storage_backends.agents import DELETED, INACTIVE, AgentRecord
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.discovery import DiscoveryQuery, TermCounts

from .accounts_data import TwoUsers
from .agents import updated_event
from .discovery_data import ACTIVE_ONLY, add, any_of, find, make_listed_agent

INACTIVE_ONLY = any_of("status", INACTIVE)
CONCURRENT_WRITERS = 20
#: For each kind the running counts are checked on: two of its values.
COUNTED_KINDS = {
    "capability": ("translate", "summarize"),
    "binding": ("GRPC", "HTTP+JSON"),
    "agent_type": ("mcp", "a2a"),
}


def having(kind: str, value: str, agent: AgentRecord | None = None) -> dict[str, Any]:
    """The changes giving an agent the one ``value`` of ``kind`` (to create or update it)."""
    if kind == "capability":
        return {"capabilities": (value,)}
    if kind == "agent_type":
        return {"agent_type": value}
    if agent is None:
        return {"card": {"bindings": [value]}}
    return {"card_summary": {**agent.card_summary, "bindings": [value]}}


def counted(counts: TermCounts) -> dict[str, int]:
    """The values some matching agent has, with their counts."""
    return {value: number for value, number in counts.counts.items() if number}


async def update(records: RecordsBackend, agent: AgentRecord, **changes: Any) -> AgentRecord:
    return await records.update_agent(agent.id, agent.version, changes, updated_event(agent.id))


class DiscoveryFacets(TwoUsers):
    """``count_terms`` of :class:`DiscoveryRecords`."""

    async def four_agents(self, records: RecordsBackend, developer_id: str) -> None:
        await add(
            records,
            make_listed_agent(1, developer_id, capabilities=("translate", "chat")),
            make_listed_agent(2, developer_id, capabilities=("chat",)),
            make_listed_agent(3, developer_id, capabilities=("summarize",), status=INACTIVE),
            make_listed_agent(4, developer_id, capabilities=("chat", "sing"), status=DELETED),
        )

    async def translators(self, records: RecordsBackend, developer_id: str) -> None:
        translate = {"capabilities": ("translate",)}
        await add(
            records,
            make_listed_agent(1, developer_id, card={"bindings": ["GRPC"]}, **translate),
            make_listed_agent(2, developer_id, **translate),
            make_listed_agent(3, developer_id, card={"bindings": ["GRPC"]}),
            make_listed_agent(
                4, developer_id, status=INACTIVE, card={"bindings": ["GRPC"]}, **translate
            ),
        )

    # --------------------------------------------------------- running counts

    async def test_counts_of_active_agents_are_exact(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await self.four_agents(records, alice.id)
        counts = await records.count_terms(find("", ACTIVE_ONLY), kind="capability")
        assert (counted(counts), counts.exact) == ({"translate": 1, "chat": 2}, True)

    async def test_counts_without_groups_cover_every_status_but_deleted(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await self.four_agents(records, alice.id)
        counts = await records.count_terms(DiscoveryQuery(), kind="capability")
        assert (counted(counts), counts.exact) == (
            {"translate": 1, "chat": 2, "summarize": 1},
            True,
        )
        statuses = await records.count_terms(DiscoveryQuery(), kind="status")
        assert (counted(statuses), statuses.exact) == ({"active": 2, "inactive": 1}, True)

    async def test_counts_of_several_statuses_add_up(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await self.four_agents(records, alice.id)
        query = find("", any_of("status", "active", INACTIVE))
        counts = await records.count_terms(query, kind="capability")
        assert (counted(counts), counts.exact) == (
            {"translate": 1, "chat": 2, "summarize": 1},
            True,
        )

    async def test_status_only_counts_are_exact_whatever_the_sample_limit(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await self.four_agents(records, alice.id)
        for query in (find("", ACTIVE_ONLY), DiscoveryQuery()):
            counts = await records.count_terms(query, kind="capability", sample_limit=1)
            assert counts.exact
            assert counted(counts)["chat"] == 2

    async def test_boolean_kinds_count_both_values(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, card={"streaming": True}),
            make_listed_agent(2, alice.id, card={"streaming": True}),
            make_listed_agent(3, alice.id),
        )
        counts = await records.count_terms(find("", ACTIVE_ONLY), kind="streaming")
        assert (counted(counts), counts.exact) == ({"true": 2, "false": 1}, True)

    @pytest.mark.parametrize("kind", list(COUNTED_KINDS))
    async def test_running_counts_follow_creates_updates_and_deletes(
        self, records: RecordsBackend, alice: UserRecord, kind: str
    ) -> None:
        first, second = COUNTED_KINDS[kind]

        async def active() -> dict[str, int]:
            return counted(await records.count_terms(find("", ACTIVE_ONLY), kind=kind))

        async def inactive() -> dict[str, int]:
            return counted(await records.count_terms(find("", INACTIVE_ONLY), kind=kind))

        one, two, three = await add(
            records,
            make_listed_agent(1, alice.id, **having(kind, first)),
            make_listed_agent(2, alice.id, **having(kind, first)),
            make_listed_agent(3, alice.id, status=INACTIVE, **having(kind, first)),
        )
        assert (await active(), await inactive()) == ({first: 2}, {first: 1})
        await update(records, one, **having(kind, second, one))
        assert await active() == {first: 1, second: 1}
        await update(records, two, status=INACTIVE)
        assert (await active(), await inactive()) == ({second: 1}, {first: 2})
        await update(records, three, status=DELETED)
        assert (await active(), await inactive()) == ({second: 1}, {first: 1})
        everything = await records.count_terms(DiscoveryQuery(), kind=kind)
        assert counted(everything) == {first: 1, second: 1}
        await add(records, make_listed_agent(4, alice.id, **having(kind, second)))
        assert await active() == {second: 2}

    async def test_an_update_that_keeps_the_terms_keeps_the_counts(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        (agent,) = await add(records, make_listed_agent(1, alice.id))
        for round_number in range(3):
            agent = await update(records, agent, metadata={"round": round_number})
        counts = await records.count_terms(find("", ACTIVE_ONLY), kind="capability")
        assert counted(counts) == {"chat": 1}

    async def test_concurrent_writes_keep_the_running_counts_exact(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        agents = [
            make_listed_agent(number, alice.id, capabilities=("translate", "chat"))
            for number in range(1, CONCURRENT_WRITERS + 1)
        ]
        created = await asyncio.gather(*(add(records, agent) for agent in agents))
        stored = [agent for (agent,) in created]
        half = CONCURRENT_WRITERS // 2
        # The first half stop translating while two of the others are deleted.
        await asyncio.gather(
            *(update(records, agent, capabilities=("chat",)) for agent in stored[:half]),
            *(update(records, agent, status=DELETED) for agent in stored[half : half + 2]),
        )
        counts = await records.count_terms(find("", ACTIVE_ONLY), kind="capability")
        assert counted(counts) == {"chat": CONCURRENT_WRITERS - 2, "translate": half - 2}

    # --------------------------------------------------------------- samples

    async def test_counts_with_a_filter_count_the_matching_agents_only(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await self.translators(records, alice.id)
        query = find("", any_of("capability", "translate"), ACTIVE_ONLY)
        counts = await records.count_terms(query, kind="binding")
        assert (counted(counts), counts.exact) == ({"GRPC": 1, "JSONRPC": 1}, True)

    async def test_counts_with_words_count_the_matching_agents_only(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await self.translators(records, alice.id)
        counts = await records.count_terms(find("translation"), kind="binding")
        assert (counted(counts), counts.exact) == ({"GRPC": 2, "JSONRPC": 1}, True)
        active = await records.count_terms(find("translation", ACTIVE_ONLY), kind="binding")
        assert (counted(active), active.exact) == ({"GRPC": 1, "JSONRPC": 1}, True)

    @pytest.mark.parametrize(
        "query",
        [find("", any_of("capability", "translate")), find("translation")],
        ids=["filter", "words"],
    )
    async def test_sampled_counts_are_exact_up_to_the_sample_limit(
        self, records: RecordsBackend, alice: UserRecord, query: DiscoveryQuery
    ) -> None:
        await add(
            records,
            *(
                make_listed_agent(
                    number,
                    alice.id,
                    capabilities=("translate",),
                    agent_type="mcp" if number % 2 else "a2a",
                )
                for number in range(1, 6)
            ),
            make_listed_agent(6, alice.id, agent_type="mcp"),
        )
        whole = await records.count_terms(query, kind="agent_type", sample_limit=5)
        assert (counted(whole), whole.exact) == ({"mcp": 3, "a2a": 2}, True)
        sampled = await records.count_terms(query, kind="agent_type", sample_limit=4)
        assert not sampled.exact
        assert sum(sampled.counts.values()) == 4
        assert all(number <= counted(whole)[value] for value, number in counted(sampled).items())
