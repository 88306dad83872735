"""Bootstrap tokens: minted by verified developers, redeemed once by an agent to register
itself, listed and revoked by their creator, purged after they expire.

A token is ``BST_`` and 32 characters drawn with ``secrets`` from 62 letters and digits (190
bits); only its SHA-256 digest is stored. Redemption consumes the token, creates the agent and
records the agent's own API key in one transaction (see
:meth:`~agentvault_registry.storage_backends.onboarding.OnboardingRecords.redeem_bootstrap_token`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agentvault_registry.core.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    NotFound,
    ValidationFailed,
)
from agentvault_registry.core.identity import AGENT, Identity
from agentvault_registry.core.metrics import BOOTSTRAP_TOKENS_CONSUMED, BOOTSTRAP_TOKENS_ISSUED
from agentvault_registry.plugins.agents.service import CREATED, AgentService
from agentvault_registry.plugins.auth.api_keys import ApiKeyService, digest
from agentvault_registry.plugins.auth.scopes import ADMIN
from agentvault_registry.storage_backends.agents import AgentEvent, AgentRecord
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.onboarding import (
    CONSUMED,
    EXPIRED,
    REVOKED,
    BootstrapTokenPage,
    BootstrapTokenRecord,
    BootstrapTokenRefused,
)

TOKEN_PREFIX = "BST_"
TOKEN_ALPHABET = string.ascii_letters + string.digits
TOKEN_LENGTH = 32
TOKEN_FORMAT = re.compile(rf"{TOKEN_PREFIX}[A-Za-z0-9]{{{TOKEN_LENGTH}}}")
PLUGIN = "onboarding"
#: Statuses a token shows in its creator's list.
ACTIVE = "active"

_REFUSALS = {
    EXPIRED: "The bootstrap token has expired.",
    REVOKED: "The bootstrap token was revoked.",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class EmailNotVerified(Forbidden):
    code = "email_not_verified"
    default_message = "Verify your email address before minting bootstrap tokens."


class TokenConsumed(Conflict):
    code = "bootstrap_token_consumed"
    default_message = "The bootstrap token was already used to register an agent."


def refused(reason: str) -> InvalidCredentials | TokenConsumed:
    """The error a client gets for a token that cannot be redeemed: 401, or 409 when it was
    used (a replay, or a lost race)."""
    if reason == CONSUMED:
        return TokenConsumed()
    return InvalidCredentials(
        _REFUSALS.get(reason, "The bootstrap token is not valid."), details={"reason": reason}
    )


def token_status(token: BootstrapTokenRecord, now: dt.datetime) -> str:
    return token.refusal(now) or ACTIVE


@dataclass(frozen=True)
class OnboardingSettings:
    token_ttl: dt.timedelta
    max_token_ttl: dt.timedelta
    expired_retention: dt.timedelta

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> OnboardingSettings:
        return cls(
            token_ttl=dt.timedelta(seconds=options["token_ttl"]),
            max_token_ttl=dt.timedelta(seconds=options["max_token_ttl"]),
            expired_retention=dt.timedelta(seconds=options["expired_retention"]),
        )


@dataclass(frozen=True)
class IssuedToken:
    record: BootstrapTokenRecord
    #: The token itself: in this response and nowhere else, ever.
    token: str


@dataclass(frozen=True)
class Registered:
    agent: AgentRecord
    api_key: str
    warnings: list[str]


class OnboardingService:
    def __init__(
        self,
        records: RecordsBackend,
        agents: AgentService,
        settings: OnboardingSettings,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.records = records
        self.agents = agents
        self.settings = settings
        #: Every expiry decision asks this; tests replace it to travel in time.
        self.clock = clock

    # ---------------------------------------------------------------- tokens

    async def issue(
        self,
        creator: Identity,
        *,
        agent_type_hint: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        expires_in: int | None = None,
    ) -> IssuedToken:
        user = await self.records.get_user(creator.subject)
        if user is None or not user.is_verified:
            raise EmailNotVerified()
        lifetime = self.settings.token_ttl
        if expires_in is not None:
            lifetime = dt.timedelta(seconds=expires_in)
            if lifetime > self.settings.max_token_ttl:
                limit = int(self.settings.max_token_ttl.total_seconds())
                raise ValidationFailed(details={"expires_in": [f"At most {limit} seconds."]})
        token = TOKEN_PREFIX + "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        now = self.clock()
        record = BootstrapTokenRecord(
            id=str(uuid.uuid4()),
            digest=digest(token),
            creator_id=user.id,
            created_at=now,
            expires_at=now + lifetime,
            agent_type_hint=agent_type_hint,
            metadata=dict(metadata or {}),
        )
        await self.records.add_bootstrap_token(record)
        BOOTSTRAP_TOKENS_ISSUED.inc()
        return IssuedToken(record, token)

    async def tokens(
        self,
        creator: Identity,
        *,
        limit: int,
        after: tuple[dt.datetime, str] | None,
        offset: int,
    ) -> BootstrapTokenPage:
        return await self.records.list_bootstrap_tokens(
            creator.subject, limit=limit, after=after, offset=offset
        )

    async def revoke(self, actor: Identity, token_id: str) -> None:
        token = await self.records.get_bootstrap_token(token_id)
        # Someone else's token and a missing one look the same.
        if token is None or (token.creator_id != actor.subject and not actor.has_role(ADMIN)):
            raise NotFound("No such bootstrap token.")
        revoked = await self.records.revoke_bootstrap_token(token_id, self.clock())
        if revoked is None:
            raise NotFound("No such bootstrap token.")
        if revoked.consumed:
            raise Conflict(
                "The token was already used; revoke the agent's key instead.",
                details={"consumed_by_agent_id": revoked.consumed_by_agent_id},
            )

    async def purge(self) -> int:
        """Delete tokens that expired longer ago than the retention."""
        return await self.records.purge_bootstrap_tokens(
            self.clock() - self.settings.expired_retention
        )

    # ---------------------------------------------------------- registration

    async def redeemable(self, presented: str) -> BootstrapTokenRecord:
        """The token, if it can be redeemed now: 401 when it is malformed, unknown, expired,
        revoked or its creator's account is closed; 409 when it was used."""
        if not TOKEN_FORMAT.fullmatch(presented):
            raise InvalidCredentials(
                "The bootstrap token is not valid.", details={"reason": "malformed"}
            )
        # Found by its digest: the lookup compares digests, never the secret itself.
        token = await self.records.find_bootstrap_token(digest(presented))
        if token is None:
            raise refused("unknown")
        reason = token.refusal(self.clock())
        if reason is not None:
            raise refused(reason)
        creator = await self.records.get_user(token.creator_id)
        if creator is None or not creator.is_active:
            raise refused("unknown")
        return token

    async def register(self, token: BootstrapTokenRecord, fields: Mapping[str, Any]) -> Registered:
        """Register the agent ``fields`` describe for the token's creator, consuming the token
        (checked by :meth:`redeemable`) only if the agent is created."""
        if token.agent_type_hint is not None:
            fields = {"agent_type": token.agent_type_hint, **fields}
        draft = await self.agents.draft(token.creator_id, fields)
        agent = draft.agent
        now = self.clock()
        key_record, key = ApiKeyService.agent_key(token.creator_id, agent.id, now)
        # The agent registered itself: it is the actor of its creation.
        actor = Identity(
            kind=AGENT,
            subject=agent.id,
            plugin=PLUGIN,
            claims={"developer_id": token.creator_id, "bootstrap_token_id": token.id},
        )
        event = AgentEvent(CREATED, agent.id, agent.id, agent.created_at, {})
        async with self.agents.discarding_card_on_failure(agent.id):
            try:
                stored = await self.records.redeem_bootstrap_token(
                    token.digest, now, agent, event, key_record
                )
            except BootstrapTokenRefused as exc:
                raise refused(exc.reason) from None
        BOOTSTRAP_TOKENS_CONSUMED.inc()
        self.agents.announce(CREATED, stored, actor)
        return Registered(stored, key, draft.warnings)
