"""In which order discovery returns its matches, page by page, and how it counts them."""

from __future__ import annotations

import datetime as dt

import pytest

from agentvault_registry.storage_backends.accounts import UserRecord
from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.discovery import DiscoveryQuery, indexed, sort_key

from .accounts_data import NOW, TwoUsers
from .discovery_data import (
    ACTIVE_ONLY,
    BOLD_AGENT,
    FULLWIDTH_AGENT,
    add,
    any_of,
    crowd_agent,
    find,
    in_sort_order,
    make_listed_agent,
    walk,
)

CROWD_SIZE = 240
#: Not a divisor of the crowd's size: walks end on a short page.
PAGE = 17
KEYSET_SORTS = ("created_at", "updated_at", "name")
MARSUPIALS = "Looks after small marsupials."
#: Queries of each shape a backend may plan differently, and how many agents of
#: :meth:`DiscoveryOrder.seven_agents` each matches.
COUNTED_QUERIES = {
    "everything": (find(""), 7),
    "filter": (find("", any_of("capability", "translate"), ACTIVE_ONLY), 5),
    "words": (find("translation"), 6),
    "words-and-filter": (find("translation", any_of("capability", "translate"), ACTIVE_ONLY), 5),
}


def ids(agents: list[AgentRecord]) -> list[str]:
    return [agent.id for agent in agents]


class DiscoveryOrder(TwoUsers):
    """Sorts, keyset and offset paging, relevance and totals of :class:`DiscoveryRecords`."""

    @pytest.fixture
    async def crowd(self, records: RecordsBackend, alice: UserRecord) -> list[AgentRecord]:
        agents = [crowd_agent(number, alice.id) for number in range(1, CROWD_SIZE + 1)]
        await records.import_agents(agents)
        return agents

    async def seven_agents(self, records: RecordsBackend, developer_id: str) -> None:
        """Agents 1 to 5 translate; 6 does not; 7 translates but is inactive."""
        await add(
            records,
            *(
                make_listed_agent(number, developer_id, capabilities=("translate",))
                for number in range(1, 6)
            ),
            make_listed_agent(6, developer_id),
            make_listed_agent(7, developer_id, capabilities=("translate",), status="inactive"),
        )

    # ------------------------------------------------------------- relevance

    async def test_a_name_match_outranks_a_keyword_match_which_outranks_a_description_match(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        fillers = [make_listed_agent(number, alice.id) for number in range(1, 6)]
        await add(
            records,
            *fillers,
            make_listed_agent(6, alice.id, name="Quokka Finder", description=MARSUPIALS),
            make_listed_agent(
                7, alice.id, name="Island Scout", capabilities=("quokka",), description=MARSUPIALS
            ),
            make_listed_agent(
                8, alice.id, name="Island Guide", description="Looks after the quokka colony."
            ),
        )
        page = await records.search_agents(find("quokka", sort="relevance"), limit=10)
        assert [agent.name for agent in page.agents] == [
            "Quokka Finder",
            "Island Scout",
            "Island Guide",
        ]
        assert (page.total, page.total_exact, page.next_after) == (3, True, None)
        scores = [page.scores[agent.id] for agent in page.agents]
        assert scores == sorted(scores, reverse=True)
        assert scores[0] > scores[1] > scores[2]

    async def test_equal_scores_rank_newest_first_then_by_id(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        # Creation seconds by agent number: ranked 3, 1 (second 2), 5, 4 (second 1), 2.
        seconds = {1: 2, 2: 0, 3: 2, 4: 1, 5: 1}
        twins = [
            make_listed_agent(
                number,
                alice.id,
                description=MARSUPIALS,
                created_at=NOW + dt.timedelta(seconds=second),
            )
            for number, second in seconds.items()
        ]
        await add(records, *twins, make_listed_agent(6, alice.id), make_listed_agent(7, alice.id))
        page = await records.search_agents(find("marsupial", sort="relevance"), limit=10)
        assert [agent.name for agent in page.agents] == [
            "Agent 3",
            "Agent 1",
            "Agent 5",
            "Agent 4",
            "Agent 2",
        ]

    async def test_relevance_ranks_only_agents_matching_the_filters(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Quokka Finder", status="inactive"),
            make_listed_agent(2, alice.id, name="Island Guide", description="Meets a quokka."),
            make_listed_agent(3, alice.id, name="Island Scout"),
        )
        page = await records.search_agents(find("quokka", ACTIVE_ONLY, sort="relevance"), limit=10)
        assert [agent.name for agent in page.agents] == ["Island Guide"]
        assert set(page.scores) >= {page.agents[0].id}

    async def test_relevance_ranks_at_most_rank_limit_most_recent_matches(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        # The best match is the oldest: ranking every match would put it first.
        await add(
            records,
            make_listed_agent(1, alice.id, name="Quokka Finder", description="Finds a quokka."),
            *(
                make_listed_agent(number, alice.id, description="Once met a quokka.")
                for number in range(2, 6)
            ),
        )
        query = find("quokka", sort="relevance")
        capped = await records.search_agents(query, limit=10, rank_limit=3)
        assert sorted(agent.name for agent in capped.agents) == ["Agent 3", "Agent 4", "Agent 5"]
        assert (capped.total, capped.total_exact, capped.next_after) == (3, False, None)
        assert set(capped.scores) >= set(ids(capped.agents))
        nearly = await records.search_agents(query, limit=10, rank_limit=4)
        assert (len(nearly.agents), nearly.total, nearly.total_exact) == (4, 4, False)
        everything = await records.search_agents(query, limit=10, rank_limit=5)
        assert (everything.total, everything.total_exact) == (5, True)
        assert everything.agents[0].name == "Quokka Finder"

    async def test_relevance_pages_by_offset(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Quokka Finder"),
            make_listed_agent(2, alice.id, description="Once met a quokka."),
            make_listed_agent(3, alice.id, capabilities=("quokka",)),
            make_listed_agent(4, alice.id, description="Once met a quokka."),
            make_listed_agent(5, alice.id, tags=("quokka",)),
            make_listed_agent(6, alice.id),
        )
        query = find("quokka", sort="relevance")
        whole = await records.search_agents(query, limit=10)
        assert len(whole.agents) == 5
        paged: list[AgentRecord] = []
        for offset in (0, 2, 4):
            page = await records.search_agents(query, limit=2, offset=offset)
            assert (page.total, page.total_exact, page.next_after) == (5, True, None)
            assert set(page.scores) >= set(ids(page.agents))
            paged += page.agents
        assert ids(paged) == ids(whole.agents)
        beyond = await records.search_agents(query, limit=2, offset=5)
        assert (beyond.agents, beyond.total) == ([], 5)

    async def test_other_sorts_carry_no_scores(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(records, make_listed_agent(1, alice.id, name="Quokka Finder"))
        for sort in KEYSET_SORTS:
            page = await records.search_agents(find("quokka", sort=sort), limit=10)
            assert (len(page.agents), dict(page.scores)) == (1, {}), sort

    # ------------------------------------------------------------ keyset sorts

    @pytest.mark.parametrize("sort", KEYSET_SORTS)
    async def test_a_keyset_walk_returns_every_match_once_in_sort_order(
        self, records: RecordsBackend, crowd: list[AgentRecord], sort: str
    ) -> None:
        seen = await walk(records, DiscoveryQuery(sort=sort), limit=PAGE)
        assert ids(seen) == ids(in_sort_order([agent for agent in crowd if indexed(agent)], sort))

    @pytest.mark.parametrize("sort", KEYSET_SORTS)
    async def test_a_keyset_walk_through_filters_returns_every_match_once(
        self, records: RecordsBackend, crowd: list[AgentRecord], sort: str
    ) -> None:
        query = find("", any_of("capability", "translate"), ACTIVE_ONLY, sort=sort)
        seen = await walk(records, query, limit=PAGE)
        expected = [
            agent
            for agent in crowd
            if "translate" in agent.capabilities and agent.status == "active"
        ]
        assert ids(seen) == ids(in_sort_order(expected, sort))

    @pytest.mark.parametrize("sort", KEYSET_SORTS)
    async def test_a_keyset_walk_through_words_returns_every_match_once(
        self, records: RecordsBackend, crowd: list[AgentRecord], sort: str
    ) -> None:
        seen = await walk(records, find("translation", sort=sort), limit=PAGE)
        expected = [
            agent for agent in crowd if "translate" in agent.capabilities and indexed(agent)
        ]
        assert ids(seen) == ids(in_sort_order(expected, sort))

    @pytest.mark.parametrize("sort", KEYSET_SORTS)
    async def test_a_walk_during_inserts_returns_every_original_agent_exactly_once(
        self, records: RecordsBackend, crowd: list[AgentRecord], sort: str
    ) -> None:
        developer_id = crowd[0].developer_id
        numbers = iter(range(1_000, 2_000))

        async def insert_around(cursor: AgentRecord) -> None:
            # One agent tying with the page's last on every sort, one before every agent
            # and one after every agent, in each sort order.
            first = NOW + dt.timedelta(days=1)
            last = NOW - dt.timedelta(days=1)
            await add(
                records,
                make_listed_agent(
                    next(numbers),
                    developer_id,
                    name=cursor.name,
                    created_at=cursor.created_at,
                    updated_at=cursor.updated_at,
                ),
                make_listed_agent(
                    next(numbers), developer_id, name="!first", created_at=first, updated_at=first
                ),
                make_listed_agent(
                    next(numbers),
                    developer_id,
                    name="\U0010fffd last",
                    created_at=last,
                    updated_at=last,
                ),
            )

        seen = await walk(
            records, DiscoveryQuery(sort=sort), limit=PAGE, between_pages=insert_around
        )
        assert len(ids(seen)) == len(set(ids(seen))), "an agent was shown twice"
        originals = {agent.id for agent in crowd if indexed(agent)}
        assert originals <= set(ids(seen)), "an agent was missed"
        tombstones = {agent.id for agent in crowd} - originals
        assert not tombstones & set(ids(seen)), "a deleted agent was shown"
        assert ids(seen) == ids(in_sort_order(seen, sort))

    async def test_names_sort_in_code_point_order_ties_by_id(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        names = ["éclair", "Zeta", "a b", "10", BOLD_AGENT, "_under", FULLWIDTH_AGENT]
        names += ["alpha", "ALPHA", "9", "Alpha", "a-b", "Éclair", "日本", "zeta", "a_b", "alpha"]
        await add(
            records,
            *(make_listed_agent(n, alice.id, name=name) for n, name in enumerate(names, start=1)),
        )
        page = await records.search_agents(DiscoveryQuery(sort="name"), limit=100)
        assert [(agent.name, agent.human_readable_id) for agent in page.agents] == [
            ("10", "Agent-4"),
            ("9", "Agent-10"),
            ("ALPHA", "Agent-9"),
            ("Alpha", "Agent-11"),
            ("Zeta", "Agent-2"),
            ("_under", "Agent-6"),
            ("a b", "Agent-3"),
            ("a-b", "Agent-12"),
            ("a_b", "Agent-16"),
            ("alpha", "Agent-8"),
            ("alpha", "Agent-17"),
            ("zeta", "Agent-15"),
            ("Éclair", "Agent-13"),
            ("éclair", "Agent-1"),
            ("日本", "Agent-14"),
            (FULLWIDTH_AGENT, "Agent-7"),
            (BOLD_AGENT, "Agent-5"),
        ]

    @pytest.mark.parametrize("sort", KEYSET_SORTS)
    async def test_ties_are_broken_by_id_in_the_sorts_direction(
        self, records: RecordsBackend, alice: UserRecord, sort: str
    ) -> None:
        twins = [
            make_listed_agent(number, alice.id, name="Twin", created_at=NOW, updated_at=NOW)
            for number in (3, 1, 4, 2)
        ]
        await add(records, *twins)
        page = await records.search_agents(DiscoveryQuery(sort=sort), limit=10)
        numbers = [agent.human_readable_id for agent in page.agents]
        ascending = ["Agent-1", "Agent-2", "Agent-3", "Agent-4"]
        assert numbers == (ascending if sort == "name" else ascending[::-1])

    async def test_a_full_last_page_has_no_next_position(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(records, *(make_listed_agent(number, alice.id) for number in range(1, 5)))
        whole = await records.search_agents(DiscoveryQuery(), limit=4)
        assert (len(whole.agents), whole.next_after) == (4, None)
        first = await records.search_agents(DiscoveryQuery(), limit=3)
        assert first.next_after == sort_key(first.agents[-1], "created_at")
        rest = await records.search_agents(DiscoveryQuery(), limit=3, after=first.next_after)
        assert ([agent.name for agent in rest.agents], rest.next_after) == (["Agent 1"], None)

    async def test_offset_skips_rows_after_the_keyset_position(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await add(records, *(make_listed_agent(number, alice.id) for number in range(1, 8)))
        second = await records.search_agents(DiscoveryQuery(), limit=2, offset=2)
        assert [agent.name for agent in second.agents] == ["Agent 5", "Agent 4"]
        assert second.next_after == sort_key(second.agents[-1], "created_at")
        later = await records.search_agents(
            DiscoveryQuery(), limit=2, after=second.next_after, offset=1
        )
        assert [agent.name for agent in later.agents] == ["Agent 2", "Agent 1"]
        assert later.next_after is None

    # ------------------------------------------------------------------ totals

    @pytest.mark.parametrize(("query", "matches"), COUNTED_QUERIES.values(), ids=COUNTED_QUERIES)
    async def test_the_total_counts_every_match_on_every_page(
        self, records: RecordsBackend, alice: UserRecord, query: DiscoveryQuery, matches: int
    ) -> None:
        await self.seven_agents(records, alice.id)
        first = await records.search_agents(query, limit=2)
        assert (first.total, first.total_exact) == (matches, True)
        second = await records.search_agents(query, limit=2, after=first.next_after)
        assert (second.total, second.total_exact) == (matches, True)

    @pytest.mark.parametrize(("query", "matches"), COUNTED_QUERIES.values(), ids=COUNTED_QUERIES)
    async def test_the_total_is_capped_at_count_limit(
        self, records: RecordsBackend, alice: UserRecord, query: DiscoveryQuery, matches: int
    ) -> None:
        await self.seven_agents(records, alice.id)
        capped = await records.search_agents(query, limit=2, count_limit=3)
        assert (capped.total, capped.total_exact, len(capped.agents)) == (3, False, 2)
        below = await records.search_agents(query, limit=2, count_limit=matches - 1)
        assert (below.total, below.total_exact) == (matches - 1, False)
        exact = await records.search_agents(query, limit=2, count_limit=matches)
        assert (exact.total, exact.total_exact) == (matches, True)
