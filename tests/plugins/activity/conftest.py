"""Registries with the activity plugin, on SQLite and PostgreSQL records."""

from __future__ import annotations

import pytest
from activity_helpers import account, app_overrides


@pytest.fixture
async def activity_client(aiohttp_client, make_app, records_overrides):
    return await aiohttp_client(make_app(app_overrides(storage=records_overrides)))


@pytest.fixture
async def admin(activity_client):
    return await account(activity_client, "root", role="admin")


@pytest.fixture
async def alice(activity_client):
    return await account(activity_client, "alice")


@pytest.fixture
async def bob(activity_client):
    return await account(activity_client, "bob")
