"""State the card_trust plugin keeps in the app."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.plugins.card_trust.service import CardTrustService

CARD_TRUST = web.AppKey("card_trust_service", CardTrustService)
