"""The PostgreSQL search index beyond the conformance suite: the plans the suite's small data
never chooses, the rebuild on migrate, fuzzy words and oversized terms."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from agentvault_registry.config.secrets import Secret
from agentvault_registry.core.errors import Conflict
from agentvault_registry.storage_backends import postgresql_discovery, postgresql_discovery_scan
from agentvault_registry.storage_backends.accounts import UserRecord
from agentvault_registry.storage_backends.discovery import INDEX_VERSION, DiscoveryQuery
from agentvault_registry.storage_backends.postgresql import PostgresRecords
from agentvault_registry.storage_backends.postgresql_discovery import INDEX_VERSION_KEY
from agentvault_registry.storage_backends.postgresql_discovery_index import MAX_TERM_BYTES
from agentvault_registry.storage_backends.testing import DiscoveryConformance
from agentvault_registry.storage_backends.testing.accounts_data import TwoUsers
from agentvault_registry.storage_backends.testing.agents import updated_event
from agentvault_registry.storage_backends.testing.discovery_data import (
    add,
    any_of,
    crowd_agent,
    find,
    found,
    make_listed_agent,
)

pytestmark = pytest.mark.postgres

#: Planner costs that make the suite's few agents take the plans meant for many.
PLANS = {
    # Every search walks an index in order and tests each row.
    "walks": {"FETCH_ROW": 10**9, "POSTING": 10**9},
    # Every search with a condition looks its rows up in the GIN index.
    "look-ups": {"WALK_ROW": 10**9},
    # Look-ups of the newest matches through several narrow seq windows.
    "narrow-windows": {"WALK_ROW": 10**9, "WINDOW_MARGIN": 0.25},
    # Walks give up after a few rows and leave the rest to look-ups.
    "short-walks": {"MAX_WALK": 5},
}
#: Everything the index holds, in a comparable form.
INDEX_CONTENTS = """
SELECT
    (SELECT array_agg((agent_id, status, created_at, updated_at, name, terms::text,
        search_vector::text) ORDER BY agent_id) FROM agent_search)::text,
    (SELECT array_agg((term, status, agents) ORDER BY term, status) FROM agent_term_counts
        WHERE agents <> 0)::text,
    (SELECT array_agg((word, agents, names) ORDER BY word) FROM agent_word_counts
        WHERE agents <> 0 OR names <> 0)::text
"""


@pytest.fixture
async def records(fresh_postgres_dsn: str) -> AsyncIterator[PostgresRecords]:
    backend = PostgresRecords(Secret(fresh_postgres_dsn), max_size=4)
    await backend.open()
    try:
        await backend.migrate()
        yield backend
    finally:
        await backend.close()


class TestPostgresDiscoveryPlans(DiscoveryConformance):
    """The whole conformance suite again, under each plan the planner keeps for scale."""

    @pytest.fixture(params=list(PLANS), autouse=True)
    def plan(self, request: pytest.FixtureRequest) -> Iterator[None]:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in PLANS[request.param].items():
                patch.setattr(postgresql_discovery_scan, name, value)
            yield


async def index_contents(records: PostgresRecords) -> Any:
    async with records.connection() as conn:
        return await conn.fetchrow(INDEX_CONTENTS)


class TestPostgresDiscoveryIndex(TwoUsers):
    async def test_migrate_rebuilds_an_index_of_another_version_as_the_writes_built_it(
        self, records: PostgresRecords, alice: UserRecord
    ) -> None:
        crowd = [crowd_agent(number, alice.id) for number in range(1, 41)]
        await records.import_agents(crowd[:20])
        await add(records, *crowd[20:])
        for agent, changes in zip(
            crowd[:3],
            [{"status": "deleted"}, {"name": "Renamed"}, {"status": "inactive", "tags": ("x",)}],
            strict=True,
        ):
            await records.update_agent(agent.id, 1, changes, updated_event(agent.id))
        written = await index_contents(records)
        async with records.connection() as conn:
            await conn.execute(
                "UPDATE registry_meta SET value = 'older' WHERE key = $1", INDEX_VERSION_KEY
            )
            await conn.execute("DELETE FROM agent_search")
        assert await records.migrate() == []
        assert await index_contents(records) == written
        assert await records.get_meta(INDEX_VERSION_KEY) == INDEX_VERSION

    async def test_an_import_of_many_chunks_is_one_transaction(
        self, records: PostgresRecords, alice: UserRecord, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(postgresql_discovery, "IMPORT_CHUNK", 2)
        batch = [make_listed_agent(number, alice.id) for number in range(1, 6)]
        await records.import_agents(batch)
        assert len(await found(records, DiscoveryQuery())) == 5
        clashing = [make_listed_agent(number, alice.id) for number in range(6, 9)]
        clashing.append(make_listed_agent(9, alice.id, id=batch[0].id))
        with pytest.raises(Conflict):
            await records.import_agents(clashing)
        assert len(await found(records, DiscoveryQuery())) == 5
        assert len(await records.list_agent_events()) == 5

    async def test_migrate_leaves_an_index_of_this_version_alone(
        self, records: PostgresRecords, alice: UserRecord
    ) -> None:
        await add(records, make_listed_agent(1, alice.id, name="Quokka Finder"))
        async with records.connection() as conn:
            await conn.execute("DELETE FROM agent_search")
        await records.migrate()
        assert await found(records, find("quokka")) == []


class TestPostgresDiscoveryWords(TwoUsers):
    async def test_a_misspelled_word_finds_the_names_it_resembles(
        self, records: PostgresRecords, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Weather Oracle"),
            make_listed_agent(2, alice.id, name="Travel Planner"),
        )
        assert await found(records, find("wether")) == ["Weather Oracle"]
        assert await found(records, find("orac")) == ["Weather Oracle"]

    async def test_a_word_some_agent_has_is_never_widened(
        self, records: PostgresRecords, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Weather Oracle"),
            make_listed_agent(2, alice.id, name="Feather Duster"),
        )
        assert await found(records, find("weather")) == ["Weather Oracle"]

    async def test_fuzzy_words_match_names_only(
        self, records: PostgresRecords, alice: UserRecord
    ) -> None:
        await add(
            records,
            make_listed_agent(1, alice.id, name="Helper", description="Reads the weather."),
        )
        assert await found(records, find("wether")) == []


class TestPostgresDiscoveryTerms(TwoUsers):
    async def test_a_term_longer_than_a_lexeme_filters_and_counts(
        self, records: PostgresRecords, alice: UserRecord
    ) -> None:
        uri = "https://example.org/ext/" + "x" * MAX_TERM_BYTES
        card = {"extensions": [uri]}
        await add(
            records,
            make_listed_agent(1, alice.id, name="Extended", card=card),
            make_listed_agent(2, alice.id, name="Plain"),
        )
        query = find("", any_of("extension", uri))
        assert await found(records, query) == ["Extended"]
        page = await records.search_agents(query, limit=10)
        assert (page.total, page.total_exact) == (1, True)
        counts = await records.count_terms(DiscoveryQuery(), kind="extension")
        assert sum(counts.counts.values()) == 1

    async def test_terms_with_query_syntax_match_exactly(
        self, records: PostgresRecords, alice: UserRecord
    ) -> None:
        tags = ("it's", "a\\b", "x | y & !z", "(a):*")
        await add(
            records,
            *(
                make_listed_agent(number, alice.id, name=f"Tagged {number}", tags=(tag,))
                for number, tag in enumerate(tags, start=1)
            ),
        )
        for number, tag in enumerate(tags, start=1):
            assert await found(records, find("", any_of("tag", tag))) == [f"Tagged {number}"]
