"""Records and fixtures the storage conformance suites build their tests from."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from agentvault_registry.storage_backends.accounts import (
    ApiKeyRecord,
    OneTimeTokenRecord,
    RefreshTokenRecord,
    UserRecord,
)
from agentvault_registry.storage_backends.base import RecordsBackend

NOW = dt.datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
SOON = NOW + dt.timedelta(minutes=1)
LATER = NOW + dt.timedelta(hours=1)
CONCURRENT_CALLERS = 20


def make_user(name: str, **changes: object) -> UserRecord:
    """A user whose email and username spell ``name`` with a capital, to test case-folding."""
    user = UserRecord(
        id=f"user-{name}",
        email=f"{name.title()}@Example.org",
        username=name.title(),
        password_hash=f"hash-of-{name}",
        role="developer",
        is_active=True,
        is_verified=False,
        created_at=NOW,
        updated_at=NOW,
    )
    return dataclasses.replace(user, **changes)


def make_refresh_token(
    jti: str, family_id: str, user_id: str, **changes: object
) -> RefreshTokenRecord:
    token = RefreshTokenRecord(jti, family_id, user_id, issued_at=NOW, expires_at=LATER)
    return dataclasses.replace(token, **changes)


def make_one_time_token(digest: str, user_id: str, **changes: object) -> OneTimeTokenRecord:
    token = OneTimeTokenRecord(digest, "verify_email", user_id, created_at=NOW, expires_at=LATER)
    return dataclasses.replace(token, **changes)


def make_api_key(key_id: str, user_id: str, **changes: object) -> ApiKeyRecord:
    key = ApiKeyRecord(
        id=key_id,
        user_id=user_id,
        name=f"key {key_id}",
        digest=f"digest-of-{key_id}",
        prefix="avk_AbCd",
        scopes=("agents:read",),
        created_at=NOW,
    )
    return dataclasses.replace(key, **changes)


class TwoUsers:
    """Fixtures for suites whose records belong to users: ``alice`` and ``bob``."""

    @pytest.fixture
    async def alice(self, records: RecordsBackend) -> UserRecord:
        return await records.create_user(make_user("alice"))

    @pytest.fixture
    async def bob(self, records: RecordsBackend) -> UserRecord:
        return await records.create_user(make_user("bob"))
