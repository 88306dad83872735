"""Purging expired bootstrap tokens, seen through the token list, with the service's clock
moved instead of waiting: on demand and on the configured schedule, on SQLite and PostgreSQL.

Tokens that expired longer ago than ``expired_retention`` go, revoked or not; unexpired ones,
recently expired ones (listed as ``expired``) and consumed ones stay.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest
from onboarding_helpers import app_overrides, developer, mint, redeem

from agentvault_registry.core.errors import ConfigError
from agentvault_registry.plugins.onboarding import purge_expired_tokens
from agentvault_registry.plugins.onboarding.appkeys import ONBOARDING_SERVICE

#: Upper bound of the wait for a scheduled purge; reached only when it never happens.
PATIENCE = 10.0


class Clock:
    """The onboarding service's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def travelling(app) -> Clock:
    clock = Clock()
    app[ONBOARDING_SERVICE].clock = clock
    return clock


async def listed(client, headers) -> dict[str, str]:
    """The caller's tokens: id -> status."""
    response = await client.get(
        "/api/v1/onboard/bootstrap/tokens", params={"per_page": "100"}, headers=headers
    )
    assert response.status == 200, await response.text()
    page = await response.json()
    statuses = {token["id"]: token["status"] for token in page["tokens"]}
    assert page["pagination"]["total"] == len(statuses)
    return statuses


async def revoke(client, headers, token_id: str) -> None:
    response = await client.delete(f"/api/v1/onboard/bootstrap/tokens/{token_id}", headers=headers)
    assert response.status == 204, await response.text()


async def onboarding_app(aiohttp_client, make_app, records_overrides, **options):
    """A client of an app with these ``[plugins.onboarding]`` options."""
    overrides = app_overrides(
        storage=records_overrides,
        plugins={"auth": {"bcrypt_cost": 4}, "onboarding": options},
    )
    return await aiohttp_client(make_app(overrides))


async def test_tokens_expired_beyond_the_retention_are_purged(onboarding_client, caplog):
    client = onboarding_client
    headers = await developer(client, "purger")
    clock = travelling(client.app)

    # Two days ago (the default retention is one day):
    long_expired = await mint(client, headers, expires_in=60)
    revoked_long_ago = await mint(client, headers, expires_in=60)
    await revoke(client, headers, revoked_long_ago["id"])
    consumed = await mint(client, headers, expires_in=60)
    registered = await redeem(client, consumed["bootstrap_token"])
    assert registered.status == 201, await registered.text()
    # Now, give or take a minute:
    clock.advance(days=2)
    recently_expired = await mint(client, headers, expires_in=60)
    unexpired = await mint(client, headers, expires_in=3600)
    clock.advance(seconds=120)

    assert await listed(client, headers) == {
        long_expired["id"]: "expired",
        revoked_long_ago["id"]: "revoked",
        consumed["id"]: "consumed",
        recently_expired["id"]: "expired",
        unexpired["id"]: "active",
    }

    with caplog.at_level(logging.INFO, logger="agentvault_registry.plugins.onboarding"):
        await purge_expired_tokens(client.app)

    assert await listed(client, headers) == {
        consumed["id"]: "consumed",
        recently_expired["id"]: "expired",
        unexpired["id"]: "active",
    }
    assert "purged 2 expired bootstrap tokens" in [record.getMessage() for record in caplog.records]
    # The agent the consumed token made is untouched, and its token still names it.
    agent_id = (await registered.json())["agent"]["id"]
    assert (await client.get(f"/api/v1/agents/{agent_id}")).status == 200

    # A day later the recently expired token is past the retention too; nothing else changes.
    clock.advance(days=1)
    await purge_expired_tokens(client.app)
    assert await listed(client, headers) == {
        consumed["id"]: "consumed",
        unexpired["id"]: "expired",
    }
    clock.advance(days=1, seconds=1)
    await purge_expired_tokens(client.app)
    assert await listed(client, headers) == {consumed["id"]: "consumed"}


async def test_purging_keeps_other_developers_tokens_apart(onboarding_client):
    client = onboarding_client
    first, second = await developer(client, "first"), await developer(client, "second")
    clock = travelling(client.app)
    old = await mint(client, first, expires_in=60)
    clock.advance(days=2)
    fresh = await mint(client, second, expires_in=60)

    await purge_expired_tokens(client.app)

    assert await listed(client, first) == {}
    assert await listed(client, second) == {fresh["id"]: "active"}
    # A purged token cannot be redeemed: it is unknown now.
    gone = await redeem(client, old["bootstrap_token"])
    assert gone.status == 401
    assert (await gone.json())["details"]["reason"] == "unknown"


async def test_without_retention_an_expired_token_goes_at_the_next_purge(
    aiohttp_client, make_app, records_overrides
):
    client = await onboarding_app(aiohttp_client, make_app, records_overrides, expired_retention=0)
    headers = await developer(client, "impatient")
    clock = travelling(client.app)
    short = await mint(client, headers, expires_in=10)
    long = await mint(client, headers, expires_in=3600)

    await purge_expired_tokens(client.app)
    assert await listed(client, headers) == {short["id"]: "active", long["id"]: "active"}

    clock.advance(seconds=11)
    assert await listed(client, headers) == {short["id"]: "expired", long["id"]: "active"}
    await purge_expired_tokens(client.app)
    assert await listed(client, headers) == {long["id"]: "active"}


async def test_the_purge_runs_on_its_schedule(aiohttp_client, make_app, records_overrides):
    client = await onboarding_app(
        aiohttp_client, make_app, records_overrides, purge_interval=1, expired_retention=0
    )
    headers = await developer(client, "scheduled")
    clock = travelling(client.app)
    short = await mint(client, headers, expires_in=10)
    long = await mint(client, headers, expires_in=3600)
    # Unexpired tokens survive any number of scheduled purges.
    assert await listed(client, headers) == {short["id"]: "active", long["id"]: "active"}

    clock.advance(seconds=60)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while short["id"] in await listed(client, headers):
        assert loop.time() < deadline, "the expired token was never purged"
        await asyncio.sleep(0.1)
    assert await listed(client, headers) == {long["id"]: "active"}


@pytest.mark.parametrize("options", [{"expired_retention": -1}, {"purge_interval": 0}])
def test_purge_options_are_checked(make_settings, options):
    with pytest.raises(ConfigError) as caught:
        make_settings({"plugins": {"onboarding": options}})
    [name] = options
    assert f"plugins.onboarding.{name}" in str(caught.value)
