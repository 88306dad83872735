"""Registries serving the event stream, on SQLite and PostgreSQL records."""

from __future__ import annotations

import pytest
from event_stream_helpers import app_overrides


@pytest.fixture
def events_app(aiohttp_client, make_app, records_overrides):
    """``await events_app(**options)``: a client of a registry with these
    ``[plugins.events]`` options; registries started again share the same records."""

    async def start(**options):
        return await aiohttp_client(make_app(app_overrides(options, storage=records_overrides)))

    return start


@pytest.fixture
async def events_client(events_app):
    return await events_app()
