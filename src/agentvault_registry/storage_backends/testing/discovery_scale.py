"""Discovery over terms too common to read whole: the plans a backend keeps for scale."""

from __future__ import annotations

import pytest

from agentvault_registry.storage_backends.accounts import UserRecord
from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.discovery import DiscoveryQuery

from .accounts_data import TwoUsers
from .discovery_data import ACTIVE_ONLY, any_of, crowd_agent, find, in_sort_order, walk
from .discovery_facets import counted

#: Enough agents that every group of the queries below matches thousands of them (more than
#: a backend should read whole and sort), few enough to import in about a second.
MULTITUDE = 4_000
LIMIT = 1_000


def common(sort: str = "created_at") -> DiscoveryQuery:
    """A query every active agent of the multitude matches, by a word and by two filters."""
    return find("agent", ACTIVE_ONLY, any_of("capability", "chat"), sort=sort)


def active(agents: list[AgentRecord]) -> list[AgentRecord]:
    return [agent for agent in agents if agent.status == "active"]


class DiscoveryScale(TwoUsers):
    """:class:`DiscoveryRecords` on common terms: keyset walks stay exact, counts and ranking
    stop at their limits."""

    @pytest.fixture
    async def multitude(self, records: RecordsBackend, alice: UserRecord) -> list[AgentRecord]:
        agents = [crowd_agent(number, alice.id) for number in range(1, MULTITUDE + 1)]
        await records.import_agents(agents)
        return agents

    async def test_keyset_walks_through_common_terms_return_every_match_once(
        self, records: RecordsBackend, multitude: list[AgentRecord]
    ) -> None:
        for sort in ("created_at", "updated_at", "name"):
            seen = await walk(records, common(sort), limit=250)
            assert [agent.id for agent in seen] == [
                agent.id for agent in in_sort_order(active(multitude), sort)
            ], sort

    async def test_totals_ranking_and_samples_of_common_terms_stop_at_their_limits(
        self, records: RecordsBackend, multitude: list[AgentRecord]
    ) -> None:
        matches = len(active(multitude))
        assert matches > 2 * LIMIT
        page = await records.search_agents(common(), limit=10, count_limit=LIMIT)
        assert (len(page.agents), page.total, page.total_exact) == (10, LIMIT, False)
        exact = await records.search_agents(common(), limit=10, count_limit=matches)
        assert (exact.total, exact.total_exact) == (matches, True)

        ranked = common("relevance")
        first = await records.search_agents(ranked, limit=50, rank_limit=LIMIT)
        assert (len(first.agents), first.total, first.total_exact) == (50, LIMIT, False)
        last = await records.search_agents(ranked, limit=50, offset=LIMIT - 30, rank_limit=LIMIT)
        assert len(last.agents) == 30
        assert not {agent.id for agent in first.agents} & {agent.id for agent in last.agents}

        sampled = await records.count_terms(common(), kind="agent_type", sample_limit=LIMIT)
        assert (sum(sampled.counts.values()), sampled.exact) == (LIMIT, False)
        running = await records.count_terms(find("", ACTIVE_ONLY), kind="capability")
        translators = [agent for agent in active(multitude) if "translate" in agent.capabilities]
        assert (counted(running), running.exact) == (
            {"chat": matches, "translate": len(translators)},
            True,
        )
