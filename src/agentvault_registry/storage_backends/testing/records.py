"""The conformance suite every records backend must pass."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from agentvault_registry.core.errors import BackendError
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.migrations import MigrationError

OpenBackend = Callable[[], Awaitable[RecordsBackend]]

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class RecordsConformance:
    """Behaviour shared by every :class:`RecordsBackend`; subclass it in a test module.

    The subclass (named ``Test...`` so pytest collects it) provides two fixtures:

    ``records_backend_factory``
        A callable returning a new, unopened backend on the same fresh, empty database each
        time it is called, so a test can open two instances, as two processes would.
    ``tamper_migration_checksum``
        An async callable ``(version) -> None`` overwriting the checksum recorded for that
        migration in the database, the way a database migrated by other code would look.

    Every backend the suite opens is closed after the test.
    """

    @pytest.fixture
    async def open_backend(
        self, records_backend_factory: Callable[[], RecordsBackend]
    ) -> AsyncIterator[OpenBackend]:
        opened: list[RecordsBackend] = []

        async def open_one() -> RecordsBackend:
            backend = records_backend_factory()
            await backend.open()
            opened.append(backend)
            return backend

        yield open_one
        for backend in opened:
            await backend.close()

    @pytest.fixture
    async def records(self, open_backend: OpenBackend) -> RecordsBackend:
        backend = await open_backend()
        await backend.migrate()
        return backend

    # ----------------------------------------------------------------- migrations

    async def test_migrate_applies_first_migration_and_records_its_checksum(
        self, open_backend: OpenBackend
    ) -> None:
        backend = await open_backend()
        applied = await backend.migrate()
        assert applied, "a fresh database must receive at least one migration"
        first = applied[0]
        assert first.version == 1
        assert first.name
        assert _SHA256_HEX.match(first.checksum)
        assert await backend.applied_migrations() == applied

    async def test_applied_migrations_of_fresh_database_is_empty(
        self, open_backend: OpenBackend
    ) -> None:
        backend = await open_backend()
        assert await backend.applied_migrations() == []

    async def test_migrate_twice_is_a_no_op(self, open_backend: OpenBackend) -> None:
        backend = await open_backend()
        first = await backend.migrate()
        assert await backend.migrate() == []
        assert await backend.applied_migrations() == first

    async def test_applied_migrations_are_in_version_order(self, records: RecordsBackend) -> None:
        versions = [migration.version for migration in await records.applied_migrations()]
        assert versions == list(range(1, len(versions) + 1))

    async def test_tampered_checksum_makes_migrate_raise_migration_error(
        self,
        records: RecordsBackend,
        tamper_migration_checksum: Callable[[int], Awaitable[None]],
    ) -> None:
        await tamper_migration_checksum(1)
        with pytest.raises(MigrationError, match="checksum"):
            await records.migrate()

    async def test_concurrent_migrate_applies_each_migration_once(
        self, open_backend: OpenBackend
    ) -> None:
        first, second = await open_backend(), await open_backend()
        applied_by_first, applied_by_second = await asyncio.gather(
            first.migrate(), second.migrate()
        )
        versions = sorted(m.version for m in applied_by_first + applied_by_second)
        assert versions == [m.version for m in await first.applied_migrations()]
        assert versions == list(range(1, len(versions) + 1))

    # ----------------------------------------------------------------------- meta

    async def test_get_meta_of_absent_key_is_none(self, records: RecordsBackend) -> None:
        assert await records.get_meta("never-stored") is None

    async def test_put_meta_if_absent_keeps_the_first_value(self, records: RecordsBackend) -> None:
        assert await records.put_meta_if_absent("instance_id", "first") == "first"
        assert await records.put_meta_if_absent("instance_id", "second") == "first"
        assert await records.get_meta("instance_id") == "first"

    async def test_concurrent_put_meta_if_absent_agree_on_one_value(
        self, records: RecordsBackend, open_backend: OpenBackend
    ) -> None:
        other = await open_backend()
        candidates = [f"value-{n}" for n in range(8)]
        results = await asyncio.gather(
            *(
                (records if n % 2 else other).put_meta_if_absent("race", candidate)
                for n, candidate in enumerate(candidates)
            )
        )
        assert len(set(results)) == 1
        assert results[0] in candidates
        assert await other.get_meta("race") == results[0]

    # ------------------------------------------------------------------ lifecycle

    async def test_ping_works_when_open(self, records: RecordsBackend) -> None:
        await records.ping()

    async def test_close_is_idempotent(self, open_backend: OpenBackend) -> None:
        backend = await open_backend()
        await backend.close()
        await backend.close()

    async def test_close_without_open_is_fine(
        self, records_backend_factory: Callable[[], RecordsBackend]
    ) -> None:
        await records_backend_factory().close()

    @pytest.mark.parametrize(
        "call",
        [
            lambda backend: backend.ping(),
            lambda backend: backend.migrate(),
            lambda backend: backend.applied_migrations(),
            lambda backend: backend.get_meta("key"),
            lambda backend: backend.put_meta_if_absent("key", "value"),
        ],
        ids=["ping", "migrate", "applied_migrations", "get_meta", "put_meta_if_absent"],
    )
    async def test_methods_after_close_raise_backend_error(
        self, records: RecordsBackend, call: Callable[[RecordsBackend], Awaitable[object]]
    ) -> None:
        await records.close()
        with pytest.raises(BackendError):
            await call(records)
