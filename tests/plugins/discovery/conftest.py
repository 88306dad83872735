"""Apps with the discovery plugin, on SQLite and PostgreSQL records."""

from __future__ import annotations

import pytest
from discovery_helpers import app_overrides, register_fleet


@pytest.fixture
async def discovery_client(aiohttp_client, make_app, records_overrides):
    return await aiohttp_client(make_app(app_overrides(storage=records_overrides)))


@pytest.fixture
async def fleet(discovery_client):
    return await register_fleet(discovery_client)
