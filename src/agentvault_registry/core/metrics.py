"""Every Prometheus metric of the registry, defined in one place (``GET /metrics`` serves them).

Plugins and integrators import the metric objects from here and add their own next to them,
named ``avreg_<what>_<unit>``. Labels stay bounded: routes are templates, never raw paths;
peers and limits are configured names.

Several worker processes (gunicorn) share one scrape through prometheus_client's multiprocess
mode: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty, writable directory before the processes
start (the value class is chosen when prometheus_client is imported). Each process then writes
its samples to files there and :func:`render` adds them up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from agentvault_registry.core.appkeys import STORAGE
from agentvault_registry.core.errors import BackendError, RegistryError
from agentvault_registry.storage_backends.agents import STATUSES, AgentFilter
from agentvault_registry.storage_backends.base import CacheBackend, RecordsBackend
from agentvault_registry.storage_backends.storage import Storage

log = logging.getLogger(__name__)

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: The route label of a request no route matched (404, 405): one series, whatever the path.
UNMATCHED = "unmatched"
#: Methods labelled as themselves; any other (clients may send any token) is "other".
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
#: The status label of a request the client gave up on before the answer (nginx's 499).
CLIENT_CLOSED_REQUEST = 499
#: The agents gauge is recounted at most this often (seconds): scrapes must stay cheap.
AGENT_COUNT_MAX_AGE = 5.0
#: Agents of one status are counted up to this many (the records backend's count limit).
AGENT_COUNT_LIMIT = 10_000_000

REQUESTS = Counter(
    "avreg_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
REQUEST_DURATION = Histogram(
    "avreg_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status.",
    ["method", "route", "status"],
)
RATE_LIMIT_REJECTIONS = Counter(
    "avreg_rate_limit_rejections_total",
    "Requests refused with 429, by the rate limit's name.",
    ["limit"],
)
BACKEND_ERRORS = Counter(
    "avreg_backend_errors_total",
    "Requests answered 503 because a storage backend failed, by backend kind and name.",
    ["kind", "backend"],
)
CACHE_LOOKUPS = Counter(
    "avreg_cache_lookups_total",
    "Reads of cached answers, by cache and result (hit or miss): the hit ratio is "
    'hit / (hit + miss). Unanswered lookups (cache down or slow) count as "error".',
    ["cache", "result"],
)
DISCOVERY_QUERY_DURATION = Histogram(
    "avreg_discovery_query_duration_seconds",
    "Time of a discovery query against the records index (cache hits excluded), by query kind.",
    ["query"],
)
FEDERATION_PEER_DURATION = Histogram(
    "avreg_federation_peer_request_duration_seconds",
    "Time of a federated query to a peer registry, by peer name.",
    ["peer"],
)
FEDERATION_PEER_REQUESTS = Counter(
    "avreg_federation_peer_requests_total",
    "Federated queries sent to a peer registry, by peer name and outcome (ok, error, timeout).",
    ["peer", "status"],
)
BOOTSTRAP_TOKENS_ISSUED = Counter(
    "avreg_bootstrap_tokens_issued_total", "Bootstrap tokens issued to developers."
)
BOOTSTRAP_TOKENS_CONSUMED = Counter(
    "avreg_bootstrap_tokens_consumed_total",
    "Bootstrap tokens redeemed by an agent registering itself.",
)
AGENTS = Gauge(
    "avreg_agents",
    "Agents in the records backend, by status (counted at scrape time).",
    ["status"],
    # Every process writes the same shared count; the latest recount is the true one.
    multiprocess_mode="mostrecent",
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_template(request: web.Request) -> str:
    """The matched route's template (``/api/v1/agents/{agent_id}``) or :data:`UNMATCHED`."""
    resource = request.match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request; count the backend failures that become 503s.

    Innermost (inside the error middleware), so it sees the registry's errors as raised and
    takes their status from them.
    """
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except asyncio.CancelledError:
        status = CLIENT_CLOSED_REQUEST
        raise
    except web.HTTPException as exc:  # aiohttp's own: routing, redirects, body limits
        status = exc.status
        raise
    except json.JSONDecodeError:
        status = 400  # the error middleware answers it as malformed JSON
        raise
    except BackendError as exc:
        status = exc.status
        _count_backend_error(request.app, exc)
        raise
    except RegistryError as exc:
        status = exc.status
        raise
    finally:
        # Anything else is answered 500 by the error middleware: status keeps its default.
        method = request.method if request.method in KNOWN_METHODS else OTHER_METHOD
        labels = (method, route_template(request), str(status))
        REQUESTS.labels(*labels).inc()
        REQUEST_DURATION.labels(*labels).observe(time.perf_counter() - started)


def _count_backend_error(app: web.Application, exc: BackendError) -> None:
    kinds = {backend.name: kind for kind, backend in app[STORAGE].backends().items()}
    name = exc.backend or "unknown"
    BACKEND_ERRORS.labels(kinds.get(name, "unknown"), name).inc()


async def counted_get(cache: CacheBackend, key: str, *, purpose: str) -> bytes | None:
    """``cache.get(key)``, counted as a hit or a miss of the cache named ``purpose``.

    Errors (``BackendError``, timeouts from the caller's deadline) count as ``error`` and
    propagate: callers decide whether to answer without the cache.
    """
    try:
        value = await cache.get(key)
    except BaseException:
        CACHE_LOOKUPS.labels(purpose, "error").inc()
        raise
    CACHE_LOOKUPS.labels(purpose, "miss" if value is None else "hit").inc()
    return value


class AgentCounter:
    """Keeps :data:`AGENTS` current, recounting at most every ``max_age`` seconds."""

    def __init__(self, max_age: float = AGENT_COUNT_MAX_AGE) -> None:
        self.max_age = max_age
        self._counted_at: float | None = None

    async def refresh(self, records: RecordsBackend) -> None:
        now = time.monotonic()
        if self._counted_at is not None and now - self._counted_at < self.max_age:
            return
        try:
            for status in STATUSES:
                page = await records.list_agents(
                    AgentFilter(statuses=(status,)), limit=1, count_limit=AGENT_COUNT_LIMIT
                )
                AGENTS.labels(status).set(page.total)
        except BackendError:
            # The scrape still answers, with the last counts; the request metrics show more.
            log.warning("metrics: could not count agents", exc_info=True)
            return
        self._counted_at = now


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_DIR_VARIABLE))


async def render(storage: Storage, agent_counter: AgentCounter) -> tuple[bytes, str]:
    """The Prometheus text exposition of every metric (of every process, in multiprocess mode)
    and its content type."""
    await agent_counter.refresh(storage.records)
    if multiprocess_mode():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
