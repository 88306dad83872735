"""The liveness plugin: the registry probes every active agent's origin and keeps its health.

A background prober (one process of all that share the cache runs each round) fetches each
active agent's card from the origin of its first interface URL
(``/.well-known/agent-card.json``, then ``/.well-known/agent.json``), conditionally with the
ETag it last got, and records whether the origin answered, its HTTP status and latency,
whether the card served is the registered one (``card_drift``), and a rolling uptime. Agents
carry the result as ``health``: ``{status: healthy|degraded|unreachable|unknown,
last_checked_at, uptime_7d, latency_ms, card_drift, http_status}``. Owners can have an agent
re-checked at once, see the card its origin serves with a diff against the registered one,
and re-sync the registered card from it.

Config example::

    [plugins.liveness]
    enabled = true               # the scheduled prober (re-checks owners ask for work anyway)
    probe_interval = 300         # seconds between two probes of one agent
    round_interval = 60          # seconds between rounds (at most probe_interval)
    batch_size = 200             # the most agents one round probes
    max_concurrency = 20         # requests in flight at once, all hosts together
    per_host_concurrency = 2     # requests in flight at once to one host:port
    per_host_delay = 1.0         # seconds between the starts of two requests to one host
    request_timeout = 5.0        # seconds an origin has to answer; later is unreachable
    slow_threshold = 2.0         # seconds after which an answer makes the agent degraded

    [rate_limits]
    "liveness.check" = "10/minute"   # re-checks, origin cards and re-syncs per caller

Origins are fetched through the core's SSRF-safe client (``[outbound]``): agents at private
addresses are probed only where ``allow_private_targets`` lets the registry reach them, and
are ``unreachable`` elsewhere.
"""

from __future__ import annotations

import logging

from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import HTTP_CLIENT, SETTINGS, STORAGE
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.core.periodic import PeriodicTask
from agentvault_registry.core.ratelimit import LOCAL, RateLimit
from agentvault_registry.plugins.agents.appkeys import AGENT_SERVICE
from agentvault_registry.plugins.liveness import views
from agentvault_registry.plugins.liveness.appkeys import LIVENESS_SERVICE
from agentvault_registry.plugins.liveness.schemas import LivenessOptions
from agentvault_registry.plugins.liveness.service import LivenessService, ProbeSettings

REQUIRES = ("auth", "agents")
NAME = "liveness"

log = logging.getLogger(__name__)


@hookimpl
def register_config_schema() -> type[LivenessOptions]:
    return LivenessOptions


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return views.routes()


@hookimpl
def register_rate_limits() -> list[RateLimit]:
    # Local while the cache is down: a re-check mints nothing, and the limit only spares
    # the agents' origins.
    return [RateLimit(views.CHECK_LIMIT, "10/minute", LOCAL, "origin fetches per caller")]


# pluggy calls the plugins registered last first: wait for the agents plugin's service.
@hookimpl(trylast=True)
def startup(app: web.Application) -> None:
    app[LIVENESS_SERVICE] = LivenessService(
        app[STORAGE].records,
        app[AGENT_SERVICE],
        app[HTTP_CLIENT],
        ProbeSettings.from_options(app[SETTINGS].plugin_config(NAME)),
    )


@hookimpl
def register_periodic_tasks(settings: Settings) -> list[PeriodicTask]:
    options = settings.plugin_config(NAME)
    if not options["enabled"]:
        return []
    return [PeriodicTask("liveness.probe_agents", options["round_interval"], probe_agents)]


async def probe_agents(app: web.Application) -> None:
    probed = await app[LIVENESS_SERVICE].probe_due()
    if probed:
        log.info("probed %d agents", probed)
