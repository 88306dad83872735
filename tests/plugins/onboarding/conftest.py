"""Apps with the onboarding plugin, on SQLite and PostgreSQL records."""

from __future__ import annotations

import pytest
from onboarding_helpers import app_overrides


@pytest.fixture
async def onboarding_client(aiohttp_client, make_app, records_overrides):
    return await aiohttp_client(make_app(app_overrides(storage=records_overrides)))
