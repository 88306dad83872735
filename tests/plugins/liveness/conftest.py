"""Registries that probe agents' origins on loopback, on SQLite and PostgreSQL records."""

from __future__ import annotations

import pytest
from liveness_helpers import AgentOrigin, app_overrides


@pytest.fixture
def liveness_app(aiohttp_client, make_app, records_overrides):
    """``await liveness_app(**options)``: a client of a registry with these
    ``[plugins.liveness]`` options (over the tests' defaults)."""

    async def start(**options):
        return await aiohttp_client(make_app(app_overrides(options, storage=records_overrides)))

    return start


@pytest.fixture
async def liveness_client(liveness_app):
    return await liveness_app()


@pytest.fixture
async def origins():
    """``await origins(**fields)``: a started :class:`AgentOrigin`; all closed afterwards."""
    started: list[AgentOrigin] = []

    async def start(**fields) -> AgentOrigin:
        origin = await AgentOrigin(**fields).start()
        started.append(origin)
        return origin

    yield start
    for origin in started:
        await origin.stop()
