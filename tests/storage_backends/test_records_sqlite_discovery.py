"""The SQLite search index beyond the conformance suite: its rebuild, its integrity, and the
query plans the suite's small data never chooses."""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agentvault_registry.storage_backends import sqlite_discovery_plan
from agentvault_registry.storage_backends.accounts import UserRecord
from agentvault_registry.storage_backends.discovery import INDEX_VERSION
from agentvault_registry.storage_backends.sqlite import SqliteRecords
from agentvault_registry.storage_backends.sqlite_discovery import INDEX_VERSION_KEY
from agentvault_registry.storage_backends.testing import DiscoveryConformance
from agentvault_registry.storage_backends.testing.accounts_data import TwoUsers
from agentvault_registry.storage_backends.testing.agents import updated_event
from agentvault_registry.storage_backends.testing.discovery_data import (
    ACTIVE_ONLY,
    add,
    any_of,
    crowd_agent,
    find,
    found,
)

#: Planner settings that make the suite's few agents take the plans meant for many.
PLANS = {
    # Filters drive, walking an index in page order; the words' matches are a lookup table.
    "filter-walks": {
        "SORT_IN_MEMORY_LIMIT": 0,
        "LOOKUP_TABLE_LIMIT": 10**9,
        "FTS_PROBE_COST": 0,
    },
    # Filters drive, and FTS5 is probed for the words agent by agent.
    "fts-probes": {"SORT_IN_MEMORY_LIMIT": 0, "LOOKUP_TABLE_LIMIT": -1, "FTS_PROBE_COST": 0},
    # The words drive, the smallest filter is a lookup table, every page is sorted in memory.
    "word-walks": {
        "SORT_IN_MEMORY_LIMIT": 10**9,
        "LOOKUP_TABLE_LIMIT": 10**9,
        "FTS_PROBE_COST": 10**9,
    },
}


@pytest.fixture
async def records(tmp_path: Path) -> AsyncIterator[SqliteRecords]:
    backend = SqliteRecords(tmp_path / "records.sqlite3")
    await backend.open()
    try:
        await backend.migrate()
        yield backend
    finally:
        await backend.close()


def connect(records: SqliteRecords) -> contextlib.closing[sqlite3.Connection]:
    """A second connection to the backend's file, as another process would open it."""
    return contextlib.closing(sqlite3.connect(records.path, isolation_level=None))


class TestSqliteDiscoveryPlans(DiscoveryConformance):
    """The whole conformance suite again, under each plan the planner keeps for scale."""

    @pytest.fixture(params=list(PLANS), autouse=True)
    def plan(self, request: pytest.FixtureRequest) -> Iterator[None]:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in PLANS[request.param].items():
                patch.setattr(sqlite_discovery_plan, name, value)
            yield


class TestSqliteDiscoveryIndex(TwoUsers):
    async def crowd(self, records: SqliteRecords, developer_id: str, count: int = 30) -> None:
        await add(records, *(crowd_agent(number, developer_id) for number in range(1, count + 1)))

    async def test_migrate_records_the_index_version(self, records: SqliteRecords) -> None:
        assert await records.get_meta(INDEX_VERSION_KEY) == INDEX_VERSION

    async def test_migrate_indexes_agents_stored_without_an_index(
        self, records: SqliteRecords, alice: UserRecord
    ) -> None:
        await self.crowd(records, alice.id)
        expected = await found(records, find("", ACTIVE_ONLY, any_of("capability", "translate")))
        with connect(records) as conn:
            for table in ("agent_search", "agent_doc_terms", "agent_terms", "agent_term_counts"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM registry_meta WHERE key = ?", (INDEX_VERSION_KEY,))
        assert await found(records, find("", ACTIVE_ONLY)) == []

        await records.migrate()

        query = find("", ACTIVE_ONLY, any_of("capability", "translate"))
        assert await found(records, query) == expected
        assert await records.get_meta(INDEX_VERSION_KEY) == INDEX_VERSION
        assert_index_consistent(records)

    async def test_migrate_re_derives_an_index_built_by_another_version(
        self, records: SqliteRecords, alice: UserRecord
    ) -> None:
        await self.crowd(records, alice.id)
        expected = await found(records, find("", any_of("verified", False)))
        forget_verified_terms(records)
        assert await found(records, find("", any_of("verified", False))) == []

        await records.migrate()

        assert await found(records, find("", any_of("verified", False))) == expected
        assert_index_consistent(records)

    async def test_migrate_leaves_an_index_of_this_version_alone(
        self, records: SqliteRecords, alice: UserRecord
    ) -> None:
        await self.crowd(records, alice.id)
        forget_verified_terms(records, version=INDEX_VERSION)

        await records.migrate()

        assert await found(records, find("", any_of("verified", False))) == []

    async def test_every_write_keeps_the_index_consistent(
        self, records: SqliteRecords, alice: UserRecord
    ) -> None:
        await self.crowd(records, alice.id)
        await records.import_agents([crowd_agent(number, alice.id) for number in range(31, 60)])
        for number in range(1, 60, 4):
            agent = await records.get_agent(crowd_agent(number, alice.id).id)
            assert agent is not None
            changes = {"name": f"Renamed {number}", "capabilities": ("ocr",), "status": "active"}
            if number % 3 == 0:
                changes = {"status": "deleted"}
            await records.update_agent(agent.id, agent.version, changes, updated_event(agent.id))
        assert_index_consistent(records)


def forget_verified_terms(records: SqliteRecords, version: str = "0") -> None:
    """Make the index look built by a version that derived no ``verified:`` terms."""
    with connect(records) as conn:
        conn.execute("BEGIN")
        for table in ("agent_terms", "agent_doc_terms", "agent_term_counts"):
            conn.execute(f"DELETE FROM {table} WHERE term LIKE 'verified:%'")
        conn.execute(
            "UPDATE registry_meta SET value = ? WHERE key = ?", (version, INDEX_VERSION_KEY)
        )
        conn.execute("COMMIT")


def assert_index_consistent(records: SqliteRecords) -> None:
    """Every agent but the deleted ones is indexed with its status; the FTS5 index matches its
    content; the postings hold each agent's terms, and the running counts count them."""
    with connect(records) as conn:
        conn.execute("INSERT INTO agents_fts (agents_fts, rank) VALUES ('integrity-check', 1)")
        indexed = conn.execute("SELECT agent_id, status FROM agent_search").fetchall()
        listed = conn.execute("SELECT id, status FROM agents WHERE status != 'deleted'").fetchall()
        terms = conn.execute(
            "SELECT s.agent_id, s.created_at, t.term, s.doc, s.status"
            " FROM agent_search s JOIN agent_doc_terms t ON t.doc = s.doc"
        ).fetchall()
        postings = conn.execute("SELECT agent_id, created_at, term, doc FROM agent_terms")
        counts = {
            (term, status): n
            for term, status, n in conn.execute("SELECT term, status, n FROM agent_term_counts")
        }
        assert sorted(postings) == sorted(row[:4] for row in terms)
    assert sorted(indexed) == sorted(listed)
    assert counts == Counter((term, status) for _, _, term, _, status in terms)
