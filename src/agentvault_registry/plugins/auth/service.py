"""Accounts and sessions: registration, email verification, login, refresh, logout, recovery.

A session is a refresh-token family: the tokens rotated from one login. Access tokens carry
their family as ``sid``. Ending a session revokes its family in the records backend, and every
request made with an access token checks its session there (one indexed query), so logout,
password changes, deactivation and role changes take effect at once and survive the loss of
any cache.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from agentvault_registry.core.errors import Conflict, InvalidCredentials, NotFound, ValidationFailed
from agentvault_registry.core.ratelimit import RateLimiter
from agentvault_registry.plugins.auth.api_keys import digest
from agentvault_registry.plugins.auth.passwords import PasswordHasher
from agentvault_registry.plugins.auth.policy import password_problems
from agentvault_registry.plugins.auth.scopes import DEVELOPER
from agentvault_registry.plugins.auth.tokens import ACCESS, REFRESH, TokenCodec
from agentvault_registry.plugins.mail.mailer import Mailer
from agentvault_registry.plugins.mail.templates import render_message
from agentvault_registry.storage_backends.accounts import (
    NoActiveAdminLeft,
    OneTimeTokenRecord,
    RefreshTokenRecord,
    UserFilter,
    UserPage,
    UserRecord,
)
from agentvault_registry.storage_backends.base import RecordsBackend

log = logging.getLogger(__name__)

VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"
LOGIN_FAILED = "Invalid login or password."
#: Failed logins per login name (known or not, so the limit reveals nothing).
LOGIN_FAILURES_LIMIT = "auth.login_failures"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class AuthSettings:
    access_ttl: dt.timedelta
    refresh_ttl: dt.timedelta
    verification_ttl: dt.timedelta
    reset_ttl: dt.timedelta


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"
    #: Whose tokens they are: for the activity log, not part of the answer.
    user_id: str = ""


class LoginFailed(InvalidCredentials):
    """A refused login; ``user_id`` names the account it tried, when there is one (for the
    activity log only: the answer is the same either way)."""

    def __init__(self, user_id: str | None) -> None:
        super().__init__(LOGIN_FAILED)
        self.user_id = user_id


class LastActiveAdmin(Conflict):
    code = "last_active_admin"
    default_message = "The registry would be left without an active admin."


class SelfDeactivation(Conflict):
    code = "self_deactivation"
    default_message = "Admins cannot deactivate their own account."


@dataclass(frozen=True)
class UserUpdate:
    user: UserRecord
    #: Each field that changed, as ``{"from": old, "to": new}``: for the activity log.
    changes: dict[str, dict[str, Any]]


class AuthService:
    def __init__(
        self,
        records: RecordsBackend,
        limiter: RateLimiter,
        mailer: Mailer,
        hasher: PasswordHasher,
        codec: TokenCodec,
        settings: AuthSettings,
    ) -> None:
        self.records = records
        self.limiter = limiter
        self.mailer = mailer
        self.hasher = hasher
        self.codec = codec
        self.settings = settings

    # ----------------------------------------------------------- accounts

    async def register(self, email: str, username: str, password: str) -> UserRecord:
        """The new account; the caller sends the verification mail (:meth:`send_verification`)."""
        return await self.create_account(email, username, password, role=DEVELOPER)

    async def create_account(
        self, email: str, username: str, password: str, *, role: str, verified: bool = False
    ) -> UserRecord:
        now = utcnow()
        return await self.records.create_user(
            UserRecord(
                id=str(uuid.uuid4()),
                email=email,
                username=username,
                password_hash=await self.hasher.hash(password),
                role=role,
                is_active=True,
                is_verified=verified,
                created_at=now,
                updated_at=now,
            )
        )

    async def send_verification(self, user: UserRecord, base_url: str) -> None:
        token = await self._one_time_token(user, VERIFY_EMAIL, self.settings.verification_ttl)
        await self.mailer.send(
            render_message(
                "verify_email",
                to=user.email,
                username=user.username,
                token=token,
                # A fragment never reaches a server, so the token stays out of access logs.
                verify_url=f"{base_url}/verify-email#token={token}",
                expires_hours=int(self.settings.verification_ttl.total_seconds() // 3600),
            )
        )

    async def _one_time_token(self, user: UserRecord, purpose: str, ttl: dt.timedelta) -> str:
        """A new single-use token; any earlier one for the same purpose stops working."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        await self.records.add_one_time_token(
            OneTimeTokenRecord(digest(token), purpose, user.id, now, now + ttl)
        )
        await self.records.discard_one_time_tokens(user.id, purpose, keep=digest(token))
        return token

    async def verify_email(self, token: str) -> UserRecord:
        user_id = await self.records.use_one_time_token(digest(token), VERIFY_EMAIL, utcnow())
        if user_id is None:
            raise NotFound("This verification token is unknown, used or expired.")
        return await self.records.update_user(user_id, utcnow(), is_verified=True)

    async def user(self, user_id: str) -> UserRecord:
        user = await self.records.get_user(user_id)
        if user is None or not user.is_active:
            raise InvalidCredentials("This account no longer exists or is inactive.")
        return user

    # ------------------------------------------------------------ sessions

    async def login(self, login: str, password: str) -> TokenPair:
        # Counted before the password is checked, so concurrent guesses cannot all slip in
        # between a check and a count; a correct password gives its attempt back.
        failures_scope = "login:" + login.strip().lower()
        attempt = await self.limiter.hit(LOGIN_FAILURES_LIMIT, failures_scope)
        if not attempt.allowed:
            raise attempt.error()
        user = await self.records.find_user_by_login(login)
        # Verified even for an unknown user (against a dummy hash): equal timing either way.
        matches = await self.hasher.verify(password, user.password_hash if user else None)
        if user is None or not matches or not user.is_active:
            raise LoginFailed(None if user is None else user.id)
        await self.limiter.refund(LOGIN_FAILURES_LIMIT, failures_scope)
        return await self._issue_pair(user, family_id=uuid.uuid4().hex)

    async def _issue_pair(self, user: UserRecord, family_id: str) -> TokenPair:
        now = utcnow()
        claims = {"email": user.email, "role": user.role, "sid": family_id}
        access = self.codec.issue(
            ACCESS, subject=user.id, ttl=self.settings.access_ttl, now=now, claims=claims
        )
        refresh = self.codec.issue(
            REFRESH, subject=user.id, ttl=self.settings.refresh_ttl, now=now, claims=claims
        )
        await self.records.add_refresh_token(
            RefreshTokenRecord(refresh.jti, family_id, user.id, now, refresh.expires_at)
        )
        return TokenPair(
            access.token,
            refresh.token,
            int(self.settings.access_ttl.total_seconds()),
            user_id=user.id,
        )

    async def refresh(self, refresh_token: str) -> TokenPair:
        claims = self.codec.decode(refresh_token, REFRESH)
        now = utcnow()
        record = await self.records.use_refresh_token(claims["jti"], now)
        if record is None:
            known = await self.records.get_refresh_token(claims["jti"])
            if known is not None and known.used_at is not None:
                # A spent token came back: someone holds a copy. End the whole session.
                await self.records.revoke_refresh_family(known.family_id, now)
                log.warning("refresh token reuse; revoked session family %s", known.family_id)
                raise InvalidCredentials(
                    "This refresh token was already used; the session has been revoked."
                )
            raise InvalidCredentials("This refresh token is no longer valid.")
        user = await self.user(record.user_id)
        return await self._issue_pair(user, family_id=record.family_id)

    async def logout(self, family_id: str) -> None:
        await self.records.revoke_refresh_family(family_id, utcnow())

    async def revoke_all_sessions(self, user_id: str, *, keep_family: str | None = None) -> None:
        await self.records.revoke_user_refresh_tokens(user_id, utcnow(), except_family=keep_family)

    async def session_user(self, claims: dict[str, Any]) -> tuple[str, str]:
        """(user id, current role) of a verified access token's session, if it still stands."""
        status = await self.records.session_status(claims["sub"], claims["sid"])
        if status is None or not status.is_active or status.revoked:
            raise InvalidCredentials("This token has been revoked.")
        return claims["sub"], status.role

    # ------------------------------------------------------------ passwords

    async def change_password(self, user_id: str, family_id: str, current: str, new: str) -> None:
        user = await self.user(user_id)
        if not await self.hasher.verify(current, user.password_hash):
            raise InvalidCredentials("The current password is wrong.")
        self._check_policy(new, user)
        await self.records.update_user(user.id, utcnow(), password_hash=await self.hasher.hash(new))
        await self.revoke_all_sessions(user.id, keep_family=family_id)

    async def recover(self, email: str, *, base_url: str) -> None:
        user = await self.records.find_user_by_login(email)
        if user is None or not user.is_active or user.email.lower() != email.lower():
            return
        token = await self._one_time_token(user, PASSWORD_RESET, self.settings.reset_ttl)
        await self.mailer.send(
            render_message(
                "password_reset",
                to=user.email,
                username=user.username,
                token=token,
                reset_url=f"{base_url}/reset-password#token={token}",
                expires_minutes=int(self.settings.reset_ttl.total_seconds() // 60),
            )
        )

    async def recover_confirm(self, token: str, new_password: str) -> None:
        now = utcnow()
        user_id = await self.records.use_one_time_token(digest(token), PASSWORD_RESET, now)
        if user_id is None:
            raise NotFound("This reset token is unknown, used or expired.")
        user = await self.user(user_id)
        self._check_policy(new_password, user)
        # Following the mailed link proves the address, so the account counts as verified.
        await self.records.update_user(
            user_id, now, password_hash=await self.hasher.hash(new_password), is_verified=True
        )
        # Recovery means someone else may have had the account: end every credential.
        await self.revoke_all_sessions(user_id)
        await self.records.revoke_user_api_keys(user_id, now)

    @staticmethod
    def _check_policy(password: str, user: UserRecord) -> None:
        problems = password_problems(password, username=user.username, email=user.email)
        if problems:
            raise ValidationFailed(details={"new_password": problems})

    async def set_role(self, user_id: str, role: str) -> UserRecord:
        # Sessions read the current role on every request: no need to end them.
        return await self.records.update_user(user_id, utcnow(), role=role)

    async def deactivate(self, user_id: str) -> UserRecord:
        user = await self.records.update_user(user_id, utcnow(), is_active=False)
        await self.revoke_all_sessions(user_id)
        return user

    # --------------------------------------------------------------- admins

    async def users(
        self,
        user_filter: UserFilter,
        *,
        limit: int,
        after: tuple[dt.datetime, str] | None,
        offset: int,
    ) -> UserPage:
        return await self.records.page_users(user_filter, limit=limit, after=after, offset=offset)

    async def update_by_admin(self, admin_id: str, user_id: str, **changes: Any) -> UserUpdate:
        """Change ``role`` and/or ``is_active`` of an account on an admin's behalf.

        Unlike the operator's commands, this never leaves the registry without an active
        admin, and an admin cannot lock themselves out. A deactivated account's sessions end
        here; its access tokens and API keys stop working because every request re-checks
        the account.
        """
        if user_id == admin_id and changes.get("is_active") is False:
            raise SelfDeactivation()
        try:
            before, after = await self.records.update_user_keeping_an_admin(
                user_id, utcnow(), **changes
            )
        except NoActiveAdminLeft:
            raise LastActiveAdmin() from None
        if not after.is_active:
            await self.revoke_all_sessions(user_id)
        return UserUpdate(
            after,
            {
                field: {"from": getattr(before, field), "to": getattr(after, field)}
                for field in changes
                if getattr(before, field) != getattr(after, field)
            },
        )
