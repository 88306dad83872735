"""Fixtures for the auth tests: apps with cheap bcrypt, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from auth_helpers import fast_auth


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def records_overrides(request) -> dict:
    """The records backend to run a test on: SQLite, and PostgreSQL when configured."""
    if request.param == "sqlite":
        return {}
    dsn = request.getfixturevalue("fresh_postgres_dsn")
    return {"storage": {"records": {"backend": "postgresql", "dsn": dsn}}}


@pytest.fixture
async def auth_client(aiohttp_client, make_app):
    return await aiohttp_client(make_app(fast_auth()))
