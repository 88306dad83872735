"""Accounts and sessions: registration, email verification, login, refresh, logout, recovery.

A session is a refresh-token family: the tokens rotated from one login. Access tokens carry
their family as ``sid``; revoking a family puts its ``sid`` on a cache denylist for as long as
an access token can live, and the family stays revoked in the records backend, which is what
identity checks fall back to when the cache is down.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from agentvault_registry.core.errors import InvalidCredentials, NotFound, RateLimited
from agentvault_registry.plugins.auth.passwords import PasswordHasher
from agentvault_registry.plugins.auth.scopes import DEVELOPER
from agentvault_registry.plugins.auth.tokens import ACCESS, REFRESH, TokenCodec
from agentvault_registry.plugins.mail.mailer import Mailer
from agentvault_registry.plugins.mail.templates import render_message
from agentvault_registry.storage_backends.accounts import (
    OneTimeTokenRecord,
    RefreshTokenRecord,
    UserRecord,
)
from agentvault_registry.storage_backends.base import CacheBackend, RecordsBackend

log = logging.getLogger(__name__)

VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"
LOGIN_FAILED = "Invalid login or password."
DENIED_JTI = "auth:denied-jti:"
REVOKED_SID = "auth:revoked-sid:"
FAILED_LOGINS = "auth:failed-logins:"
FAILED_LOGIN_WINDOW = 3600


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuthSettings:
    access_ttl: dt.timedelta
    refresh_ttl: dt.timedelta
    verification_ttl: dt.timedelta
    reset_ttl: dt.timedelta
    max_failed_logins: int


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


class AuthService:
    def __init__(
        self,
        records: RecordsBackend,
        cache: CacheBackend,
        mailer: Mailer,
        hasher: PasswordHasher,
        codec: TokenCodec,
        settings: AuthSettings,
    ) -> None:
        self.records = records
        self.cache = cache
        self.mailer = mailer
        self.hasher = hasher
        self.codec = codec
        self.settings = settings

    # ----------------------------------------------------------- accounts

    async def register(
        self, email: str, username: str, password: str, *, base_url: str
    ) -> UserRecord:
        user = await self.create_account(email, username, password, role=DEVELOPER)
        await self._send_verification(user, base_url)
        return user

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

    async def _send_verification(self, user: UserRecord, base_url: str) -> None:
        token = await self._one_time_token(user, VERIFY_EMAIL, self.settings.verification_ttl)
        await self.mailer.send(
            render_message(
                "verify_email",
                to=user.email,
                username=user.username,
                token=token,
                verify_url=f"{base_url}/verify-email?token={token}",
                expires_hours=int(self.settings.verification_ttl.total_seconds() // 3600),
            )
        )

    async def _one_time_token(self, user: UserRecord, purpose: str, ttl: dt.timedelta) -> str:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        await self.records.discard_one_time_tokens(user.id, purpose)
        await self.records.add_one_time_token(
            OneTimeTokenRecord(digest(token), purpose, user.id, now, now + ttl)
        )
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
        user = await self.records.find_user_by_login(login)
        if user is not None:
            await self._refuse_if_too_many_failures(user.id)
        # Verified even for an unknown user (against a dummy hash): equal timing either way.
        matches = await self.hasher.verify(password, user.password_hash if user else None)
        if user is None or not matches or not user.is_active:
            if user is not None and not matches:
                await self.cache.incr(FAILED_LOGINS + user.id, ttl=FAILED_LOGIN_WINDOW)
            raise InvalidCredentials(LOGIN_FAILED)
        return await self._issue_pair(user, family_id=uuid.uuid4().hex)

    async def _refuse_if_too_many_failures(self, user_id: str) -> None:
        failures = await self.cache.get(FAILED_LOGINS + user_id)
        if failures is not None and int(failures) >= self.settings.max_failed_logins:
            retry_after = await self.cache.ttl(FAILED_LOGINS + user_id) or FAILED_LOGIN_WINDOW
            raise RateLimited(
                "Too many failed logins for this account; try again later.",
                retry_after=int(retry_after) + 1,
            )

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
        return TokenPair(access.token, refresh.token, int(self.settings.access_ttl.total_seconds()))

    async def refresh(self, refresh_token: str) -> TokenPair:
        claims = self.codec.decode(refresh_token, REFRESH)
        now = utcnow()
        record = await self.records.use_refresh_token(claims["jti"], now)
        if record is None:
            known = await self.records.get_refresh_token(claims["jti"])
            if known is not None and known.used_at is not None:
                # A spent token came back: someone holds a copy. End the whole session.
                await self._revoke_families([known.family_id], now)
                log.warning("refresh token reuse; revoked session family %s", known.family_id)
                raise InvalidCredentials(
                    "This refresh token was already used; the session has been revoked."
                )
            raise InvalidCredentials("This refresh token is no longer valid.")
        user = await self.user(record.user_id)
        return await self._issue_pair(user, family_id=record.family_id)

    async def logout(self, claims: dict[str, Any]) -> None:
        now = utcnow()
        remaining = claims["exp"] - now.timestamp()
        if remaining > 0:
            await self.cache.set(DENIED_JTI + claims["jti"], b"1", ttl=remaining)
        await self._revoke_families([claims["sid"]], now)

    async def _revoke_families(self, family_ids: list[str], now: dt.datetime) -> None:
        for family_id in family_ids:
            await self.records.revoke_refresh_family(family_id, now)
            await self.cache.set(
                REVOKED_SID + family_id, b"1", ttl=self.settings.access_ttl.total_seconds()
            )

    async def revoke_all_sessions(self, user_id: str, *, keep_family: str | None = None) -> None:
        now = utcnow()
        families = await self.records.revoke_user_refresh_tokens(
            user_id, now, except_family=keep_family
        )
        for family_id in families:
            await self.cache.set(
                REVOKED_SID + family_id, b"1", ttl=self.settings.access_ttl.total_seconds()
            )

    async def access_token_revoked(self, claims: dict[str, Any]) -> bool:
        """Whether logout or a session revocation has cancelled this access token."""
        if await self.cache.get(DENIED_JTI + claims["jti"]) is not None:
            return True
        return await self.cache.get(REVOKED_SID + claims["sid"]) is not None

    # ------------------------------------------------------------ passwords

    async def change_password(self, user_id: str, family_id: str, current: str, new: str) -> None:
        user = await self.user(user_id)
        if not await self.hasher.verify(current, user.password_hash):
            raise InvalidCredentials("The current password is wrong.")
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
                reset_url=f"{base_url}/reset-password?token={token}",
                expires_minutes=int(self.settings.reset_ttl.total_seconds() // 60),
            )
        )

    async def recover_confirm(self, token: str, new_password: str) -> None:
        now = utcnow()
        user_id = await self.records.use_one_time_token(digest(token), PASSWORD_RESET, now)
        if user_id is None:
            raise NotFound("This reset token is unknown, used or expired.")
        # Following the mailed link proves the address, so the account counts as verified.
        await self.records.update_user(
            user_id, now, password_hash=await self.hasher.hash(new_password), is_verified=True
        )
        await self.revoke_all_sessions(user_id)
        await self.cache.delete(FAILED_LOGINS + user_id)

    async def set_role(self, user_id: str, role: str) -> UserRecord:
        user = await self.records.update_user(user_id, utcnow(), role=role)
        await self.revoke_all_sessions(user_id)
        return user

    async def deactivate(self, user_id: str) -> UserRecord:
        user = await self.records.update_user(user_id, utcnow(), is_active=False)
        await self.revoke_all_sessions(user_id)
        return user
