"""Handing out agents' TEG tokens: who may have one, in which scope, from the cache while a
cached one has time left, through one exchange per agent and scope at a time, and what the
TEG's failures become (503 when trying again later may help, 502 when it will not)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from marshmallow import ValidationError

from agentvault_registry.core.errors import (
    FetchFailed,
    FetchRefused,
    FetchTimedOut,
    FetchTooLarge,
    RegistryError,
    ValidationFailed,
)
from agentvault_registry.core.httpclient import FetchResult
from agentvault_registry.plugins.teg_bridge.bridge import TegBridge, TegToken, compact_json
from agentvault_registry.plugins.teg_bridge.errors import (
    AgentNotActive,
    TegBadResponse,
    TegNotConfigured,
    TegRefused,
    TegUnavailable,
)
from agentvault_registry.plugins.teg_bridge.schemas import OAuthErrorSchema, TegTokenResponseSchema
from agentvault_registry.storage_backends.agents import ACTIVE, AgentRecord
from agentvault_registry.storage_backends.base import CacheBackend

log = logging.getLogger(__name__)

#: Retry-After when the TEG gives none, and the most we pass on when it gives one.
DEFAULT_RETRY_AFTER = 5
MAX_RETRY_AFTER = 300
REFUSAL_STATUSES = frozenset({400, 401, 403})
TOKEN_RESPONSE = TegTokenResponseSchema()
OAUTH_ERROR = OAuthErrorSchema()


@dataclass(frozen=True)
class TegSettings:
    #: Every scope agents may ask for, in the configured order.
    scopes: tuple[str, ...]
    refresh_margin: int


class TegTokenService:
    def __init__(
        self,
        bridge: TegBridge,
        cache: CacheBackend,
        settings: TegSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bridge = bridge
        self.cache = cache
        self.settings = settings
        self.clock = clock
        self._flights: dict[str, asyncio.Future[TegToken]] = {}

    @property
    def configured(self) -> bool:
        return self.bridge.configured

    async def token(self, agent: AgentRecord, scope: str | None) -> TegToken:
        """``agent``'s token in ``scope`` (all configured scopes when None)."""
        if not self.bridge.configured:
            raise TegNotConfigured()
        if agent.status != ACTIVE:
            raise AgentNotActive(agent.status)
        scope = self.granted_scope(scope)
        key = cache_key(agent, scope)
        if key not in self._flights:
            cached = await self._cached(key)
            if cached is not None:
                return cached
        return await self._single_flight(key, lambda: self._exchange(agent, scope, key))

    def granted_scope(self, requested: str | None) -> str:
        """The requested scope in the configured order without repeats; 422 for a scope
        that is not configured."""
        configured = self.settings.scopes
        if requested is None:
            return " ".join(configured)
        asked = set(requested.split())
        unknown = sorted(asked.difference(configured))
        if unknown:
            problem = f"Unknown scope {', '.join(map(repr, unknown))}"
        elif not asked:
            problem = "Name at least one scope"
        else:
            return " ".join(name for name in configured if name in asked)
        granted = " ".join(configured)
        raise ValidationFailed(details={"scope": [f"{problem}; this registry grants: {granted}."]})

    async def close(self) -> None:
        """Cancel the exchanges still running (the app is stopping)."""
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)

    # ------------------------------------------------------------------- the cache

    async def _cached(self, key: str) -> TegToken | None:
        stored = await self.cache.get(key)
        if stored is None:
            return None
        try:
            fields = json.loads(stored)
            token = TegToken(
                fields["access_token"],
                fields["token_type"],
                fields["scope"],
                float(fields["expires_at"]),
            )
        except (ValueError, KeyError, TypeError):
            return None  # written by another version: exchange anew
        # The cache's own expiry follows its clock; ours decides what is fresh.
        if token.expires_at - self.settings.refresh_margin <= self.clock():
            return None
        return token

    async def _store(self, key: str, token: TegToken) -> None:
        keep_for = token.expires_at - self.settings.refresh_margin - self.clock()
        if keep_for <= 0:
            return  # too short-lived to hand out twice
        await self.cache.set(key, json.dumps(dataclasses.asdict(token)).encode(), ttl=keep_for)

    # ---------------------------------------------------------------- the exchange

    async def _single_flight(
        self, key: str, exchange: Callable[[], Awaitable[TegToken]]
    ) -> TegToken:
        """Join the exchange running for ``key``, or start it: concurrent requests for one
        agent and scope cost the TEG one token request."""
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(exchange())
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        try:
            # One caller going away (its client hung up) must not cancel the others' exchange.
            return await asyncio.shield(flight)
        except RegistryError as shared:
            raise own_copy(shared) from shared.__cause__

    def _landed(self, key: str, flight: asyncio.Future[TegToken]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            # Marks a failure seen even when every caller went away before it came.
            flight.exception()

    async def _exchange(self, agent: AgentRecord, scope: str, key: str) -> TegToken:
        try:
            answer = await self.bridge.request_token(agent, scope)
        except FetchTimedOut as exc:
            raise TegUnavailable(details={"reason": "timeout"}) from exc
        except FetchRefused as exc:
            raise TegBadResponse(
                "The TEG token endpoint cannot be used: it redirected, or it is at an address "
                "this registry does not connect to.",
                details={"reason": "refused"},
            ) from exc
        except FetchTooLarge as exc:
            raise TegBadResponse(
                "The TEG token endpoint answered with more than a token response can be.",
                details={"reason": "too_large"},
            ) from exc
        except FetchFailed as exc:
            raise TegUnavailable(details={"reason": "unreachable"}) from exc
        token = token_from_answer(answer, scope, self.clock())
        await self._store(key, token)
        return token


def cache_key(agent: AgentRecord, scope: str) -> str:
    """One entry per agent and scope; a changed wallet or pricing makes a new one, since the
    TEG issued the old token for the old ones."""
    exchanged_with = compact_json([scope, agent.teg_wallet_address, agent.pricing])
    digest = hashlib.sha256(exchanged_with.encode()).hexdigest()[:32]
    return f"teg_bridge:token:{agent.id}:{digest}"


def own_copy(error: RegistryError) -> RegistryError:
    """``error`` for one of the callers that shared a failed exchange: the same error, with
    headers of its own (each response adds its own rate limit headers to them)."""
    copied = type(error).__new__(type(error), *error.args)
    copied.__dict__.update(error.__dict__)
    copied.headers = dict(error.headers)
    return copied


# ------------------------------------------------------------- the TEG's answers


def token_from_answer(answer: FetchResult, requested_scope: str, now: float) -> TegToken:
    """The token in a successful answer; the error the answer amounts to otherwise."""
    status = answer.status
    if 200 <= status < 300:
        document = _json_object(answer.body)
        if document is None:
            raise TegBadResponse(details={"status": status, "reason": "not a JSON object"})
        try:
            loaded = TOKEN_RESPONSE.load(document)
        except ValidationError as exc:
            raise TegBadResponse(
                details={"status": status, "reason": "not a token response", "fields": exc.messages}
            ) from None
        return TegToken(
            loaded["access_token"],
            "Bearer",
            loaded["scope"] or requested_scope,
            now + loaded["expires_in"],
        )
    if status == 429 or status >= 500:
        raise TegUnavailable(
            retry_after=retry_after(answer.headers, now), details={"status": status}
        )
    if status in REFUSAL_STATUSES:
        refusal = _oauth_error(answer.body)
        if refusal is not None:
            raise TegRefused(status=status, **refusal)
    raise TegBadResponse(details={"status": status, "reason": "not an OAuth answer"})


def retry_after(headers: Mapping[str, str], now: float) -> int:
    """The TEG's Retry-After (seconds or an HTTP date), within 1 and MAX_RETRY_AFTER."""
    value = headers.get("Retry-After", "").strip()
    if value.isascii() and value.isdigit():
        seconds = int(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = math.ceil(when.timestamp() - now)
    return min(max(seconds, 1), MAX_RETRY_AFTER)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _oauth_error(body: bytes) -> dict[str, Any] | None:
    document = _json_object(body)
    if document is None:
        return None
    try:
        loaded = OAUTH_ERROR.load(document)
    except ValidationError:
        return None
    return {"error": loaded["error"], "error_description": loaded["error_description"]}
