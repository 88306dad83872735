"""The records the ``auth`` plugin keeps: users, refresh-token sessions, one-time tokens, API keys.

Part of the records interface (:class:`~agentvault_registry.storage_backends.base.RecordsBackend`
inherits :class:`AccountsRecords`). Every "use once" operation is a single atomic statement in
the database, so two processes (or two concurrent requests) can never both succeed.

Timestamps are timezone-aware UTC datetimes. Emails and usernames are unique
case-insensitively; their original spelling is kept.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass

#: Fields of a user that ``update_user`` may change.
USER_UPDATABLE_FIELDS = frozenset({"password_hash", "role", "is_active", "is_verified"})
#: The role whose last active holder :meth:`AccountsRecords.update_user_keeping_an_admin`
#: protects (the auth plugin's ``ADMIN``; the schema's CHECK constraint names it too).
ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class UserRecord:
    id: str
    email: str
    username: str
    password_hash: str
    role: str
    is_active: bool
    is_verified: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class RefreshTokenRecord:
    """One refresh token; all tokens rotated from one login share a ``family_id``."""

    jti: str
    family_id: str
    user_id: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


@dataclass(frozen=True)
class OneTimeTokenRecord:
    """An email-verification or password-reset token; only its SHA-256 digest is stored."""

    digest: str
    purpose: str
    user_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None = None


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    user_id: str
    name: str
    #: SHA-256 hex digest of the whole key; the key itself is never stored.
    digest: str
    #: The first characters of the key (``avk_AbCd``), to recognise it in a list.
    prefix: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    #: Set on an agent's own key (minted when it onboards): the key acts for that agent
    #: only, never for its developer (``user_id``).
    agent_id: str | None = None


@dataclass(frozen=True)
class UserFilter:
    """Which users a page of :meth:`AccountsRecords.page_users` holds; None matches any."""

    #: A substring of the username or the email, compared case-insensitively.
    text: str | None = None
    role: str | None = None
    is_active: bool | None = None


@dataclass(frozen=True)
class UserPage:
    users: list[UserRecord]
    #: Every user the filter matches, counted exactly: accounts are people, not a huge set.
    total: int
    #: Keyset position (``created_at``, ``id``) of the last user, for the next page; None on
    #: the last page.
    next_after: tuple[dt.datetime, str] | None


class NoActiveAdminLeft(Exception):
    """The change would leave the registry without an active admin; nothing was written."""


def ends_an_admin(user: UserRecord, changes: dict[str, object]) -> bool:
    """Whether ``changes`` make ``user``, an active admin, stop being one."""
    stays_admin = changes.get("role", user.role) == ADMIN_ROLE
    stays_active = changes.get("is_active", user.is_active)
    return user.role == ADMIN_ROLE and user.is_active and not (stays_admin and stays_active)


@dataclass(frozen=True)
class SessionStatus:
    """What a request authenticated by an access token must re-check: the user's current
    role and state, and whether the session (refresh-token family) was revoked."""

    role: str
    is_active: bool
    #: Whether any token of the family was revoked.
    revoked: bool


class AccountsRecords(abc.ABC):
    # ------------------------------------------------------------------- users

    @abc.abstractmethod
    async def create_user(self, user: UserRecord) -> UserRecord:
        """Insert ``user``; ``Conflict`` with ``details={"field": "email"|"username"}`` when
        either is taken (compared case-insensitively)."""

    @abc.abstractmethod
    async def get_user(self, user_id: str) -> UserRecord | None:
        """The user with this id, or None."""

    @abc.abstractmethod
    async def find_user_by_login(self, login: str) -> UserRecord | None:
        """The user whose email or username equals ``login`` case-insensitively, or None."""

    @abc.abstractmethod
    async def list_users(self, *, limit: int = 100, after: str | None = None) -> list[UserRecord]:
        """Users ordered by lower-cased username, starting after the username ``after``."""

    @abc.abstractmethod
    async def page_users(
        self,
        user_filter: UserFilter,
        *,
        limit: int,
        after: tuple[dt.datetime, str] | None = None,
        offset: int = 0,
    ) -> UserPage:
        """The users ``user_filter`` matches, newest first (``created_at`` desc, ``id``
        desc), after the keyset position ``after`` and then ``offset`` rows. The page and
        its total are read from one snapshot."""

    @abc.abstractmethod
    async def update_user(self, user_id: str, now: dt.datetime, **changes: object) -> UserRecord:
        """Change fields named in :data:`USER_UPDATABLE_FIELDS` and set ``updated_at`` to
        ``now``; ``NotFound`` when there is no such user. Unknown fields are a ``ValueError``."""

    @abc.abstractmethod
    async def update_user_keeping_an_admin(
        self, user_id: str, now: dt.datetime, **changes: object
    ) -> tuple[UserRecord, UserRecord]:
        """As :meth:`update_user`, returning the user as it was and as it is now, unless the
        change would leave no active :data:`ADMIN_ROLE` holder: then ``NoActiveAdminLeft``
        and nothing is written.

        Atomic in the backend: of two admins demoting or deactivating each other at once,
        one change is refused, in this process or any other sharing the database."""

    # ---------------------------------------------------------- refresh tokens

    @abc.abstractmethod
    async def add_refresh_token(self, token: RefreshTokenRecord) -> None:
        """Record a newly issued refresh token."""

    @abc.abstractmethod
    async def use_refresh_token(self, jti: str, now: dt.datetime) -> RefreshTokenRecord | None:
        """Mark the token used and return it, only if it is unused, unrevoked and unexpired at
        ``now`` and no token of its family is revoked; otherwise None.

        One atomic statement: of concurrent calls, at most one gets the record. The family
        check is what keeps a refresh racing a logout safe: a token added to a family after
        (or while) it is revoked is never usable."""

    @abc.abstractmethod
    async def get_refresh_token(self, jti: str) -> RefreshTokenRecord | None:
        """The token as recorded (used or not), or None; used to detect reuse."""

    @abc.abstractmethod
    async def revoke_refresh_family(self, family_id: str, now: dt.datetime) -> int:
        """Revoke every token of the family not yet revoked; return how many."""

    @abc.abstractmethod
    async def revoke_user_refresh_tokens(
        self, user_id: str, now: dt.datetime, *, except_family: str | None = None
    ) -> list[str]:
        """Revoke all of the user's tokens, except those of ``except_family``; return the ids
        of the families that had a token revoked (so their access tokens can be refused)."""

    @abc.abstractmethod
    async def refresh_family_revoked(self, family_id: str) -> bool:
        """Whether any token of the family was revoked (a revoked session stays revoked)."""

    @abc.abstractmethod
    async def session_status(self, user_id: str, family_id: str) -> SessionStatus | None:
        """The user's current role and ``is_active``, and whether any token of the family is
        revoked (False for a family without tokens); None when there is no such user.

        Called on every request authenticated by an access token, so it is one indexed query.
        """

    # --------------------------------------------------------- one-time tokens

    @abc.abstractmethod
    async def add_one_time_token(self, token: OneTimeTokenRecord) -> None:
        """Record a new email-verification or password-reset token."""

    @abc.abstractmethod
    async def use_one_time_token(self, digest: str, purpose: str, now: dt.datetime) -> str | None:
        """Consume the token if it exists for ``purpose``, is unused and unexpired at ``now``;
        return its user id, else None. Atomic: at most one concurrent caller succeeds."""

    @abc.abstractmethod
    async def discard_one_time_tokens(
        self, user_id: str, purpose: str, *, keep: str | None = None
    ) -> int:
        """Delete the user's unused tokens for ``purpose`` except the one whose digest is
        ``keep``: adding the new token first, then discarding the others, leaves exactly one
        valid token even when two requests race."""

    # ---------------------------------------------------------------- API keys

    @abc.abstractmethod
    async def add_api_key(self, key: ApiKeyRecord) -> None:
        """Record a new API key (its digest, never the key)."""

    @abc.abstractmethod
    async def list_api_keys(self, user_id: str) -> list[ApiKeyRecord]:
        """The user's keys that are not revoked, oldest first."""

    @abc.abstractmethod
    async def find_api_key(self, digest: str) -> ApiKeyRecord | None:
        """The key with this digest, revoked or not, or None."""

    @abc.abstractmethod
    async def revoke_api_key(self, key_id: str, user_id: str, now: dt.datetime) -> bool:
        """Revoke the key if it exists, belongs to ``user_id`` and is not revoked yet."""

    @abc.abstractmethod
    async def revoke_user_api_keys(self, user_id: str, now: dt.datetime) -> int:
        """Revoke every key of the user not yet revoked; return how many (account recovery
        ends every credential)."""

    @abc.abstractmethod
    async def touch_api_key(self, key_id: str, now: dt.datetime) -> None:
        """Set ``last_used_at``."""
