"""The onboarding plugin: a developer mints a short-lived, single-use bootstrap token and hands
it to an agent, which registers itself with it and receives its own API key.

Config example::

    [plugins.onboarding]
    token_ttl = 300             # seconds a token lives unless the request says otherwise
    max_token_ttl = 3600        # the longest lifetime a request may ask for
    purge_interval = 300        # seconds between purges of expired tokens
    expired_retention = 86400   # expired tokens stay listed this long before the purge

    [rate_limits]
    "bootstrap.request" = "5/minute"            # tokens minted per developer (and per IP)
    "onboard.register_failures" = "30/minute"   # bad tokens presented per IP
"""

from __future__ import annotations

import logging

from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import SETTINGS, STORAGE
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.periodic import PeriodicTask
from agentvault_registry.core.ratelimit import RateLimit
from agentvault_registry.plugins.agents.appkeys import AGENT_SERVICE
from agentvault_registry.plugins.onboarding import views
from agentvault_registry.plugins.onboarding.appkeys import ONBOARDING_SERVICE
from agentvault_registry.plugins.onboarding.schemas import OnboardingOptions
from agentvault_registry.plugins.onboarding.service import OnboardingService, OnboardingSettings

REQUIRES = ("auth", "agents")
NAME = "onboarding"

log = logging.getLogger(__name__)


@hookimpl
def register_config_schema() -> type[OnboardingOptions]:
    return OnboardingOptions


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return views.routes()


@hookimpl
def register_rate_limits() -> list[RateLimit]:
    return [
        RateLimit("bootstrap.request", "5/minute", "closed", "bootstrap tokens minted per client"),
        RateLimit(
            views.REGISTER_FAILURES, "30/minute", "local", "invalid bootstrap tokens per client"
        ),
    ]


# pluggy calls the plugins registered last first: wait for the agents plugin's service.
@hookimpl(trylast=True)
def startup(app: web.Application) -> None:
    settings = OnboardingSettings.from_options(app[SETTINGS].plugin_config(NAME))
    app[ONBOARDING_SERVICE] = OnboardingService(app[STORAGE].records, app[AGENT_SERVICE], settings)


@hookimpl
def register_periodic_tasks(settings: Settings) -> list[PeriodicTask]:
    interval = settings.plugin_config(NAME)["purge_interval"]
    return [PeriodicTask("onboarding.purge_expired_tokens", interval, purge_expired_tokens)]


async def purge_expired_tokens(app: web.Application) -> None:
    purged = await app[ONBOARDING_SERVICE].purge()
    if purged:
        log.info("purged %d expired bootstrap tokens", purged)
