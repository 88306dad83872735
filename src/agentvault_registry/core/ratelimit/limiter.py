"""Fixed-window counting in the shared cache, with a per-process fallback while it is down.

A window is ``rate.get_expiry()`` seconds long and aligned to the epoch, so every process
sharing the cache agrees on it; its counter lives at ``ratelimit:{name}:{scope}:{window_index}``
and is incremented atomically by the cache backend (TTL set when the key is created).
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import limits

from agentvault_registry.core.errors import BackendError, RateLimited
from agentvault_registry.core.metrics import RATE_LIMIT_REJECTIONS
from agentvault_registry.core.ratelimit.declarations import CLOSED, RateLimit, parse_rate
from agentvault_registry.storage_backends.base import CacheBackend

log = logging.getLogger(__name__)

#: A cache outage is logged at most this often (seconds), however many requests hit it.
OUTAGE_WARNING_INTERVAL = 60.0
#: Counters kept per process while the cache is down; the oldest go first beyond this.
LOCAL_MAX_COUNTERS = 10_000


@dataclass(frozen=True)
class RateLimitResult:
    """Where one scope stands in the current window of one limit.

    ``remaining`` is how many more hits the window allows; ``reset_after`` the seconds until
    the window ends. ``allowed`` says whether the hit just counted (or, from ``peek``, the
    next one) is within the limit.
    """

    name: str
    limit: int
    remaining: int
    reset_after: float
    allowed: bool

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_after))

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_after)),
        }

    def error(self) -> RateLimited:
        """The 429 to raise; every rate-limit refusal is built here, so it is counted here."""
        RATE_LIMIT_REJECTIONS.labels(self.name).inc()
        return RateLimited(
            f"Too many requests ({self.name}: {self.limit} per window); "
            f"retry in {self.retry_after} s.",
            retry_after=self.retry_after,
            headers=self.headers(),
            details={"limit": self.name, "retry_after": self.retry_after},
        )


@dataclass(frozen=True)
class _ActiveLimit:
    name: str
    rate: limits.RateLimitItem
    when_cache_down: str


class LocalCounters:
    """Counters in this process, bounded in memory: beyond ``max_counters`` the oldest go.

    Keys carry their window index, so the oldest keys are those whose windows ended first.
    """

    def __init__(self, max_counters: int = LOCAL_MAX_COUNTERS) -> None:
        self.max_counters = max_counters
        self._counts: OrderedDict[str, int] = OrderedDict()

    def incr(self, key: str, amount: int = 1) -> int:
        if key not in self._counts:
            while len(self._counts) >= self.max_counters:
                self._counts.popitem(last=False)
        self._counts[key] = self._counts.get(key, 0) + amount
        return self._counts[key]

    def get(self, key: str) -> int:
        return self._counts.get(key, 0)

    def __len__(self) -> int:
        return len(self._counts)


class RateLimiter:
    """The registry's one rate limiter; ``app[RATE_LIMITER]``.

    ``cache`` returns the shared cache backend when called: the app creates the limiter
    before storage is open. ``overrides`` maps limit names to configured rates.
    """

    def __init__(
        self,
        declared: Iterable[RateLimit],
        overrides: Mapping[str, str],
        cache: Callable[[], CacheBackend],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limits = {
            limit.name: _ActiveLimit(
                limit.name,
                parse_rate(overrides.get(limit.name, limit.default)),
                limit.when_cache_down,
            )
            for limit in declared
        }
        self._cache = cache
        #: Where windows are reckoned from; tests replace it to stay inside one window.
        self.clock = clock
        self._local = LocalCounters()
        self._last_outage_warning: float | None = None

    def __contains__(self, name: object) -> bool:
        return name in self._limits

    def rate(self, name: str) -> limits.RateLimitItem:
        """The rate in force for ``name`` (configured, or the declared default)."""
        return self._limit(name).rate

    async def hit(self, name: str, scope: str) -> RateLimitResult:
        """Count one hit of ``scope`` (``"ip:…"``, ``"account:…"``) against limit ``name``.

        Raises ``BackendError`` when the cache is down and the limit fails closed.
        """
        limit = self._limit(name)
        key, window_end, now = self._window(limit, scope)
        window = limit.rate.get_expiry()
        try:
            count = await self._cache().incr(key, ttl=window)
        except BackendError:
            if limit.when_cache_down == CLOSED:
                raise
            self._warn_cache_down(limit)
            count = self._local.incr(key)
        return self._result(limit, count, window_end - now, allowed=count <= limit.rate.amount)

    async def check(self, name: str, scope: str) -> RateLimitResult:
        """Count one hit like :meth:`hit`; raise ``RateLimited`` when it is over the limit."""
        result = await self.hit(name, scope)
        if not result.allowed:
            raise result.error()
        return result

    async def peek(self, name: str, scope: str) -> RateLimitResult:
        """Where ``scope`` stands without counting; ``allowed`` is about the next hit.

        For limits on outcomes: peek before the attempt, hit only when it fails (e.g. failed
        logins per account).
        """
        limit = self._limit(name)
        key, window_end, now = self._window(limit, scope)
        try:
            stored = await self._cache().get(key)
            count = 0 if stored is None else int(stored)
        except BackendError:
            if limit.when_cache_down == CLOSED:
                raise
            self._warn_cache_down(limit)
            count = self._local.get(key)
        return self._result(limit, count, window_end - now, allowed=count < limit.rate.amount)

    async def refund(self, name: str, scope: str) -> None:
        """Take back one hit of the current window: for limits on outcomes that count every
        attempt up front (so concurrent attempts cannot all slip past) and forgive successes."""
        limit = self._limit(name)
        key, _, _ = self._window(limit, scope)
        try:
            await self._cache().incr(key, amount=-1, ttl=limit.rate.get_expiry())
        except BackendError:
            if limit.when_cache_down == CLOSED:
                raise
            self._local.incr(key, -1)

    def _limit(self, name: str) -> _ActiveLimit:
        try:
            return self._limits[name]
        except KeyError:
            raise KeyError(f"no plugin declares a rate limit named {name!r}") from None

    def _window(self, limit: _ActiveLimit, scope: str) -> tuple[str, float, float]:
        """The counter's key, the wall-clock end of the current window, and now."""
        now = self.clock()
        window = limit.rate.get_expiry()
        index = int(now // window)
        return f"ratelimit:{limit.name}:{scope}:{index}", (index + 1) * window, now

    def _warn_cache_down(self, limit: _ActiveLimit) -> None:
        now = self.clock()
        last = self._last_outage_warning
        if last is None or now - last >= OUTAGE_WARNING_INTERVAL:
            self._last_outage_warning = now
            log.warning(
                "the cache backend is down: rate limit %s (and any other 'local' limit) counts "
                "per process until it is back",
                limit.name,
            )

    @staticmethod
    def _result(
        limit: _ActiveLimit, count: int, reset_after: float, *, allowed: bool
    ) -> RateLimitResult:
        return RateLimitResult(
            name=limit.name,
            limit=limit.rate.amount,
            remaining=max(0, limit.rate.amount - count),
            reset_after=reset_after,
            allowed=allowed,
        )
