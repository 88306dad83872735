"""What happens when the app starts and stops; all I/O of startup lives here."""

from __future__ import annotations

import gc
import logging
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import (
    INSTANCE_ID,
    JWT_SECRET,
    PLUGIN_MANAGER,
    SETTINGS,
    STORAGE,
)
from agentvault_registry.core.asyncutils import await_me_maybe
from agentvault_registry.core.errors import ConfigError
from agentvault_registry.core.plugins import run_in_turn
from agentvault_registry.core.redaction import hide_value
from agentvault_registry.storage_backends.storage import configured_storage

log = logging.getLogger(__name__)

DEV_SECRET_FILE = "jwt-secret"


async def storage_context(app: web.Application) -> AsyncIterator[None]:
    """Open the backends, migrate, and establish the registry's identity; close on exit."""
    settings = app[SETTINGS]
    storage = configured_storage(settings, app[PLUGIN_MANAGER])
    await storage.open()
    try:
        if settings.storage.migrate_on_start:
            for migration in await storage.records.migrate():
                log.info("applied migration %04d %s", migration.version, migration.name)
        elif not await storage.records.applied_migrations():
            raise ConfigError(
                "the records database has no schema yet: run `agentvault-registry migrate` "
                "first, or start without --no-migrate"
            )
        app[STORAGE] = storage
        app[INSTANCE_ID] = await storage.records.put_meta_if_absent(
            "instance_id", str(uuid.uuid4())
        )
        app[JWT_SECRET] = jwt_secret(settings)
        hide_value(app[JWT_SECRET])
        yield
    finally:
        await storage.close()


async def plugins_context(app: web.Application) -> AsyncIterator[None]:
    """Plugins' ``startup`` after storage is ready, their ``shutdown`` before it closes."""
    pm = app[PLUGIN_MANAGER]
    await run_in_turn(pm.hook.startup, app=app)
    try:
        yield
    finally:
        for result in pm.hook.shutdown(app=app):
            await await_me_maybe(result)


async def plugins_stopping(app: web.Application) -> None:
    """Plugins' ``stopping`` (aiohttp's ``on_shutdown``): long-lived responses end before the
    server waits for open requests."""
    for result in app[PLUGIN_MANAGER].hook.stopping(app=app):
        await await_me_maybe(result)


def jwt_secret(settings: Settings) -> str:
    """The configured secret; in dev mode one generated once and kept in the data dir."""
    if settings.security.jwt_secret is not None:
        return settings.security.jwt_secret.reveal()
    return development_secret(settings, DEV_SECRET_FILE, "security.jwt_secret")


def development_secret(settings: Settings, filename: str, setting: str) -> str:
    """A secret generated once per data dir (in dev mode, where ``setting`` is unset) and
    read back on every later start, so restarts keep what it protects readable."""
    path = settings.data_dir / filename
    if not path.exists():
        create_private_file(path, secrets.token_urlsafe(48).encode("ascii"))
        log.warning(
            "development mode: generated a secret in %s; production needs %s", path, setting
        )
    return path.read_text(encoding="ascii").strip()


def create_private_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path``, readable by the owner only, unless the file exists. Two
    processes starting at once may both try: the first link wins, intact, and both then read
    the winner's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    try:
        os.link(staging, path)
    except FileExistsError:
        pass
    finally:
        staging.unlink()


async def freeze_startup_objects(app: web.Application) -> None:
    """Move everything alive once the server is up (modules, schemas, pools: ~100,000
    objects) out of the garbage collector's sight. A full collection then walks only what
    requests allocate: without this it stops the event loop for 40-90 ms on a small
    machine, a pause some request always waits through (bench/federation.py)."""
    gc.collect()
    gc.freeze()
