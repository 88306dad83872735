"""``agentvault-registry migrate``: apply the records backend's migrations and stop."""

from __future__ import annotations

import pluggy

from agentvault_registry.config.settings import Settings
from agentvault_registry.storage_backends.base import AppliedMigration, RecordsBackend
from agentvault_registry.storage_backends.storage import configured_backend


async def run_migrations(settings: Settings, pm: pluggy.PluginManager) -> list[AppliedMigration]:
    records = configured_backend(settings, pm, "records")
    assert isinstance(records, RecordsBackend)
    try:
        await records.open()
        return await records.migrate()
    finally:
        await records.close()
