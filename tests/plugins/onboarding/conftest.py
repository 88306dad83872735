"""Apps with the onboarding plugin, on SQLite and PostgreSQL records."""

from __future__ import annotations

import pytest
from onboarding_helpers import app_overrides


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def records_overrides(request) -> dict:
    if request.param == "sqlite":
        return {}
    dsn = request.getfixturevalue("fresh_postgres_dsn")
    return {"records": {"backend": "postgresql", "dsn": dsn}}


@pytest.fixture
async def onboarding_client(aiohttp_client, make_app, records_overrides):
    return await aiohttp_client(make_app(app_overrides(storage=records_overrides)))
