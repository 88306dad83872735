"""The records the ``onboarding`` plugin keeps: single-use bootstrap tokens.

Part of the records interface (:class:`~agentvault_registry.storage_backends.base.RecordsBackend`
inherits :class:`OnboardingRecords`). A developer mints a token and hands it to an agent; the
agent redeems it once to register itself. Only the token's SHA-256 digest is stored.

Redeeming is one transaction: the token is consumed, the agent and its ``created`` event are
inserted and the agent's own API key is recorded together, or none of it happens. Of
concurrent redemptions of one token exactly one succeeds, across processes.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentvault_registry.storage_backends.accounts import ApiKeyRecord
from agentvault_registry.storage_backends.agents import AgentEvent, AgentRecord

#: Why a token cannot be redeemed (see :class:`BootstrapTokenRefused`).
UNKNOWN = "unknown"
EXPIRED = "expired"
REVOKED = "revoked"
CONSUMED = "consumed"


@dataclass(frozen=True)
class BootstrapTokenRecord:
    id: str
    #: SHA-256 hex digest of the whole token; the token itself is never stored.
    digest: str
    #: The developer who minted it; the agent registered with it belongs to them.
    creator_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    #: The agent type the registration defaults to when its body names none.
    agent_type_hint: str | None = None
    #: Free-form JSON object the developer attached (shown in their token list).
    metadata: Mapping[str, Any] = field(default_factory=dict)
    consumed: bool = False
    consumed_at: dt.datetime | None = None
    consumed_by_agent_id: str | None = None
    revoked_at: dt.datetime | None = None

    def refusal(self, now: dt.datetime) -> str | None:
        """Why the token cannot be redeemed at ``now``, or None when it can. A consumed
        token reports ``consumed`` even after it expires: the caller lost a race, or replays."""
        if self.consumed:
            return CONSUMED
        if self.revoked_at is not None:
            return REVOKED
        if self.expires_at <= now:
            return EXPIRED
        return None


@dataclass(frozen=True)
class BootstrapTokenPage:
    tokens: list[BootstrapTokenRecord]
    #: All of the creator's tokens: counted exactly, since there is one per agent onboarded
    #: plus the few not yet used (expired ones are purged).
    total: int
    #: Keyset position of the last token, for the next page; None on the last page.
    next_after: tuple[dt.datetime, str] | None


class BootstrapTokenRefused(Exception):
    """The token cannot be redeemed; ``reason`` is ``unknown``, ``expired``, ``revoked`` or
    ``consumed``. Nothing was written."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"bootstrap token {reason}")
        self.reason = reason


class OnboardingRecords(abc.ABC):
    @abc.abstractmethod
    async def add_bootstrap_token(self, token: BootstrapTokenRecord) -> None:
        """Record a newly minted token (its digest, never the token)."""

    @abc.abstractmethod
    async def find_bootstrap_token(self, digest: str) -> BootstrapTokenRecord | None:
        """The token with this digest, in whatever state, or None."""

    @abc.abstractmethod
    async def get_bootstrap_token(self, token_id: str) -> BootstrapTokenRecord | None:
        """The token with this id, in whatever state, or None."""

    @abc.abstractmethod
    async def list_bootstrap_tokens(
        self,
        creator_id: str,
        *,
        limit: int,
        after: tuple[dt.datetime, str] | None = None,
        offset: int = 0,
    ) -> BootstrapTokenPage:
        """The creator's tokens, newest first (``created_at`` desc, ``id`` desc), after the
        keyset position ``after`` and then ``offset`` rows."""

    @abc.abstractmethod
    async def revoke_bootstrap_token(
        self, token_id: str, now: dt.datetime
    ) -> BootstrapTokenRecord | None:
        """Set ``revoked_at`` to ``now`` unless the token is consumed or already revoked;
        return the token as it is afterwards, or None when there is no such token. Atomic
        against a concurrent redemption: the token ends either consumed or revoked."""

    @abc.abstractmethod
    async def redeem_bootstrap_token(
        self,
        digest: str,
        now: dt.datetime,
        agent: AgentRecord,
        event: AgentEvent,
        api_key: ApiKeyRecord,
    ) -> AgentRecord:
        """In one transaction: consume the token (setting ``consumed_at`` to ``now`` and
        ``consumed_by_agent_id`` to ``agent.id``), insert ``agent`` with ``event`` (as
        ``create_agent`` does) and record ``api_key``; return the stored agent.

        The token must exist, be unconsumed, unrevoked and unexpired at ``now``, and have
        been minted by ``agent.developer_id``: otherwise ``BootstrapTokenRefused`` names why
        (a token minted by someone else is ``unknown``). A taken slug is ``Conflict`` as in
        ``create_agent``, and leaves the token unconsumed."""

    @abc.abstractmethod
    async def purge_bootstrap_tokens(self, expired_before: dt.datetime) -> int:
        """Delete unconsumed tokens (revoked or not) that expired before ``expired_before``;
        return how many. Consumed tokens stay: they record which token made which agent."""
