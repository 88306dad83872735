"""The app's one outbound HTTP client, open while the app runs."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

import agentvault_registry
from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import HTTP_CLIENT, SETTINGS
from agentvault_registry.core.httpclient.client import DEFAULT_USER_AGENT, SafeHttpClient


async def http_client_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with SafeHttpClient(
        settings.outbound, user_agent=registry_user_agent(settings)
    ) as client:
        app[HTTP_CLIENT] = client
        yield


def registry_user_agent(settings: Settings) -> str:
    """Names the registry, and where it runs, to the servers it fetches from."""
    product = f"{DEFAULT_USER_AGENT}/{agentvault_registry.__version__}"
    public_url = settings.server.public_url
    return f"{product} (+{public_url})" if public_url else product
