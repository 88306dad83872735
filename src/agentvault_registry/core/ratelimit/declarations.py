"""What plugins declare: named limits with a default rate and a policy for a cache outage."""

from __future__ import annotations

import re
from dataclasses import dataclass

import limits
import pluggy

from agentvault_registry.core.errors import PluginError
from agentvault_registry.core.plugins import results_by_plugin

#: While the cache is down: answer 503 (``BackendError``), so the limit is never loosened.
CLOSED = "closed"
#: While the cache is down: count in each process at the same rate, so the route stays up.
LOCAL = "local"
WHEN_CACHE_DOWN = (CLOSED, LOCAL)

# Names become part of cache keys (``ratelimit:{name}:{scope}:{window}``): no ':' or spaces.
_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


@dataclass(frozen=True)
class RateLimit:
    """A named rate limit a plugin declares through ``register_rate_limits``.

    ``default`` is a rate in the ``limits`` library's notation (``"5/minute"``,
    ``"100 per hour"``); operators may replace it in the ``[rate_limits]`` config table.
    ``when_cache_down`` is :data:`CLOSED` or :data:`LOCAL`.
    """

    name: str
    default: str
    when_cache_down: str = CLOSED
    description: str = ""


def parse_rate(text: str) -> limits.RateLimitItem:
    """One rate such as ``"5/minute"``; ``ValueError`` with a message fit for a config problem."""
    try:
        items = limits.parse_many(text) if isinstance(text, str) else []
    except ValueError:
        items = []
    if not items:
        raise ValueError(f"{text!r} is not a rate; write it like '5/minute' or '100 per hour'.")
    if len(items) != 1:
        raise ValueError(f"{text!r} gives {len(items)} rates; give exactly one.")
    if items[0].amount < 1:
        raise ValueError(f"{text!r} allows nothing; the amount must be at least 1.")
    return items[0]


def declared_rate_limits(pm: pluggy.PluginManager) -> dict[str, RateLimit]:
    """Every limit the loaded plugins declare, by name.

    Raises :class:`PluginError` naming the plugin for a malformed declaration or a name that
    two plugins declare.
    """
    declared: dict[str, RateLimit] = {}
    owners: dict[str, str] = {}
    problems: list[str] = []
    for plugin, declarations in results_by_plugin(pm.hook.register_rate_limits):
        for declaration in declarations or ():
            problem = _declaration_problem(declaration)
            if problem is not None:
                problems.append(f"plugin {plugin!r} declares a bad rate limit: {problem}")
            elif declaration.name in declared:
                problems.append(
                    f"plugin {plugin!r} declares rate limit {declaration.name!r}, which plugin "
                    f"{owners[declaration.name]!r} already declares"
                )
            else:
                declared[declaration.name] = declaration
                owners[declaration.name] = plugin
    if problems:
        raise PluginError(problems)
    return declared


def _declaration_problem(declaration: object) -> str | None:
    if not isinstance(declaration, RateLimit):
        return f"{declaration!r} is not a RateLimit"
    if not isinstance(declaration.name, str) or not _NAME.match(declaration.name):
        return f"name {declaration.name!r} must be dotted lowercase words, like 'auth.login'"
    if declaration.when_cache_down not in WHEN_CACHE_DOWN:
        return (
            f"{declaration.name}: when_cache_down must be one of {', '.join(WHEN_CACHE_DOWN)}, "
            f"not {declaration.when_cache_down!r}"
        )
    try:
        parse_rate(declaration.default)
    except ValueError as exc:
        return f"{declaration.name}: default {exc}"
    return None
