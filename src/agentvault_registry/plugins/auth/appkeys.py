"""State the auth plugin keeps in the app."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.plugins.auth.api_keys import ApiKeyService
from agentvault_registry.plugins.auth.service import AuthService

AUTH_SERVICE = web.AppKey("auth_service", AuthService)
API_KEY_SERVICE = web.AppKey("api_key_service", ApiKeyService)
