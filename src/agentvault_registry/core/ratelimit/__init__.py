"""Named rate limits, shared by every registry process through the cache backend.

Plugins declare limits with the ``register_rate_limits`` hook::

    @hookimpl
    def register_rate_limits():
        return [RateLimit("auth.login", default="5/minute", description="Login attempts.")]

Views apply one with ``@rate_limit("auth.login")`` (per client IP and per caller); service
code calls the limiter for other keys::

    limiter = request.app[RATE_LIMITER]
    await limiter.check("auth.login_failures", f"account:{user_id}")

Operators change rates in config::

    [rate_limits]
    "auth.login" = "10/minute"        # or AVREG_RATE_LIMITS__AUTH__LOGIN=10/minute
"""

from agentvault_registry.core.ratelimit.declarations import (
    CLOSED,
    LOCAL,
    RateLimit,
    declared_rate_limits,
    parse_rate,
)
from agentvault_registry.core.ratelimit.decorator import (
    check_route_limits,
    rate_limit,
    rate_limit_name,
)
from agentvault_registry.core.ratelimit.limiter import RateLimiter, RateLimitResult

__all__ = [
    "CLOSED",
    "LOCAL",
    "RateLimit",
    "RateLimitResult",
    "RateLimiter",
    "check_route_limits",
    "declared_rate_limits",
    "parse_rate",
    "rate_limit",
    "rate_limit_name",
]
