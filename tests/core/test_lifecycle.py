"""Startup and shutdown: storage opens and migrates, plugins start and stop in order."""

from __future__ import annotations

import stat

import pytest
from aiohttp import web

from agentvault_registry import hookimpl
from agentvault_registry.core.app import create_app
from agentvault_registry.core.appkeys import INSTANCE_ID, JWT_SECRET, STORAGE
from agentvault_registry.core.errors import ConfigError
from agentvault_registry.core.migrate import run_migrations

SECRET = "k" * 40


class Recorder:
    def __init__(self):
        self.events = []

    @hookimpl
    def startup(self, app):
        async def started():
            # Storage is open and migrated before any plugin starts.
            assert await app[STORAGE].records.applied_migrations()
            self.events.append("startup")

        return started()

    @hookimpl
    def shutdown(self, app):
        self.events.append("shutdown")


async def test_plugins_start_after_storage_and_stop_before_it(aiohttp_client, make_app):
    recorder = Recorder()
    client = await aiohttp_client(make_app(plugins=[("recorder", recorder)]))
    assert recorder.events == ["startup"]
    await client.close()
    assert recorder.events == ["startup", "shutdown"]


async def test_the_instance_id_survives_a_restart(aiohttp_client, make_settings):
    settings, pm = make_settings()
    first = await aiohttp_client(create_app(settings, pm))
    instance_id = first.app[INSTANCE_ID]
    await first.close()
    second = await aiohttp_client(create_app(settings, pm))
    assert second.app[INSTANCE_ID] == instance_id


async def test_dev_mode_generates_a_private_jwt_secret_once(aiohttp_client, make_settings, caplog):
    settings, pm = make_settings()
    first = await aiohttp_client(create_app(settings, pm))
    secret = first.app[JWT_SECRET]
    await first.close()
    secret_file = settings.data_dir / "jwt-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert "production needs security.jwt_secret" in caplog.text
    second = await aiohttp_client(create_app(settings, pm))
    assert second.app[JWT_SECRET] == secret
    assert len(secret) >= 64


async def test_a_configured_jwt_secret_is_used(aiohttp_client, make_app):
    client = await aiohttp_client(make_app({"security": {"jwt_secret": SECRET}}))
    assert client.app[JWT_SECRET] == SECRET


async def test_no_migrate_on_an_empty_database_says_to_run_migrate(make_settings):
    settings, pm = make_settings({"storage": {"migrate_on_start": False}})
    runner = web.AppRunner(create_app(settings, pm))
    try:
        with pytest.raises(ConfigError, match="run `agentvault-registry migrate` first"):
            await runner.setup()
    finally:
        await runner.cleanup()


async def test_no_migrate_on_a_migrated_database_starts(aiohttp_client, make_settings):
    settings, pm = make_settings({"storage": {"migrate_on_start": False}})
    await run_migrations(settings, pm)
    client = await aiohttp_client(create_app(settings, pm))
    assert (await client.get("/ready")).status == 200


class FailsAtOnce:
    @hookimpl
    def startup(self, app):
        raise ConfigError("this plugin cannot start")


async def test_a_plugin_failing_at_startup_leaves_no_other_plugins_startup_unawaited(make_app):
    # Registered last, the recorder's startup is called first; its coroutine has run to the
    # end before the next plugin's startup is even called, so none is left unawaited.
    recorder = Recorder()
    app = make_app(plugins=[("fails", FailsAtOnce()), ("recorder", recorder)])
    runner = web.AppRunner(app)
    with pytest.raises(ConfigError, match="this plugin cannot start"):
        await runner.setup()
    await runner.cleanup()
    assert recorder.events == ["startup"]
