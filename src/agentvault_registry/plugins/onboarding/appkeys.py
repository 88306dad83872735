"""State the onboarding plugin keeps in the app."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.plugins.onboarding.service import OnboardingService

ONBOARDING_SERVICE = web.AppKey("onboarding_service", OnboardingService)
