"""The liveness plugin's config, checked at startup, and the registry without the plugin."""

from __future__ import annotations

import pytest
from liveness_helpers import AGENTS, app_overrides, card_at, developer, register

from agentvault_registry.core.errors import ConfigError

DEFAULTS = {
    "enabled": True,
    "probe_interval": 300.0,
    "round_interval": 60.0,
    "batch_size": 200,
    "max_concurrency": 20,
    "per_host_concurrency": 2,
    "per_host_delay": 1.0,
    "request_timeout": 5.0,
    "slow_threshold": 2.0,
}


def test_the_defaults(make_settings):
    settings, _ = make_settings()
    assert dict(settings.plugin_config("liveness")) == DEFAULTS


def test_options_come_from_the_environment_too(make_settings):
    settings, _ = make_settings(
        environ={
            "AVREG_PLUGINS__LIVENESS__ENABLED": "false",
            "AVREG_PLUGINS__LIVENESS__PER_HOST_DELAY": "0.5",
        }
    )
    options = settings.plugin_config("liveness")
    assert (options["enabled"], options["per_host_delay"]) == (False, 0.5)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"enabled": "sometimes"}, "enabled"),
        ({"probe_interval": 1}, "probe_interval"),
        ({"probe_interval": "often"}, "probe_interval"),
        ({"round_interval": 0}, "round_interval"),
        ({"round_interval": 600, "probe_interval": 300}, "round_interval"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"per_host_concurrency": 0}, "per_host_concurrency"),
        ({"per_host_concurrency": 5, "max_concurrency": 4}, "per_host_concurrency"),
        ({"per_host_delay": -1}, "per_host_delay"),
        ({"request_timeout": 0}, "request_timeout"),
        ({"slow_threshold": 5, "request_timeout": 5}, "slow_threshold"),
        ({"slow_threshold": True}, "slow_threshold"),
        ({"timeout": 5}, "timeout"),
    ],
)
def test_bad_options_stop_startup_naming_the_option(make_settings, options, problem):
    with pytest.raises(ConfigError) as raised:
        make_settings({"plugins": {"liveness": options}})
    assert any(f"plugins.liveness.{problem}" in line for line in raised.value.problems), (
        raised.value.problems
    )


async def test_the_registry_runs_without_the_liveness_plugin(aiohttp_client, make_app, origins):
    overrides = app_overrides(plugins={"disabled": ["liveness"]})
    # Neither its section nor its limit means anything without the plugin.
    overrides["plugins"].pop("liveness")
    overrides["rate_limits"].pop("liveness.check")
    client = await aiohttp_client(make_app(overrides))
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register(client, ada, card=card_at(origin.url))
    assert (await client.get(f"{AGENTS}/{agent['id']}")).status == 200
    assert (await client.get(f"{AGENTS}/{agent['id']}/health")).status == 404
    check = await client.post(f"{AGENTS}/{agent['id']}/health/check", headers=ada)
    assert check.status in (404, 405)
    assert origin.seen == []
