"""Fixtures for the auth tests: apps with cheap bcrypt, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from auth_helpers import fast_auth


@pytest.fixture
async def auth_client(aiohttp_client, make_app):
    return await aiohttp_client(make_app(fast_auth()))


@pytest.fixture
async def accounts_client(aiohttp_client, make_app, records_overrides):
    """A registry with cheap bcrypt on each records backend (SQLite, PostgreSQL)."""
    return await aiohttp_client(make_app(fast_auth(storage=records_overrides)))
