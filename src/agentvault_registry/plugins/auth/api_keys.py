"""API keys: minted for a user with a subset of the user's scopes, shown once, stored hashed."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable

from agentvault_registry.core.errors import Forbidden, InvalidCredentials, NotFound
from agentvault_registry.plugins.auth.scopes import AGENT_KEY_SCOPES, scopes_for
from agentvault_registry.storage_backends.accounts import ApiKeyRecord, UserRecord
from agentvault_registry.storage_backends.agents import DELETED
from agentvault_registry.storage_backends.base import RecordsBackend

KEY_PREFIX = "avk_"
#: How much of a key is kept in clear, so its owner can tell keys apart in a list.
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 6
#: ``last_used_at`` is written at most this often per key, not on every request.
TOUCH_INTERVAL = dt.timedelta(minutes=1)


def digest(secret: str) -> str:
    """SHA-256 hex of a secret (API key or one-time token): all that is ever stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


def _mint(
    user_id: str,
    name: str,
    scopes: Iterable[str],
    *,
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    agent_id: str | None = None,
) -> tuple[ApiKeyRecord, str]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        id=str(uuid.uuid4()),
        user_id=user_id,
        name=name,
        digest=digest(key),
        prefix=key[:SHOWN_PREFIX_LENGTH],
        scopes=tuple(sorted(set(scopes))),
        created_at=now or dt.datetime.now(dt.UTC),
        expires_at=expires_at,
        agent_id=agent_id,
    )
    return record, key


class ApiKeyService:
    def __init__(self, records: RecordsBackend) -> None:
        self.records = records

    async def create(
        self, user: UserRecord, name: str, scopes: list[str], expires_at: dt.datetime | None
    ) -> tuple[ApiKeyRecord, str]:
        """The new key's record and the key itself, which is never available again."""
        beyond = sorted(set(scopes) - scopes_for(user.role))
        if beyond:
            raise Forbidden(
                "An API key cannot have scopes its owner's role lacks.",
                details={"scopes": beyond},
            )
        record, key = _mint(user.id, name, scopes, expires_at=expires_at)
        await self.records.add_api_key(record)
        return record, key

    @staticmethod
    def agent_key(developer_id: str, agent_id: str, now: dt.datetime) -> tuple[ApiKeyRecord, str]:
        """An agent's own key and its record, not yet stored: the caller stores it in the
        same transaction that creates the agent. Listed and revocable among its developer's
        keys."""
        return _mint(
            developer_id, f"agent {agent_id}", AGENT_KEY_SCOPES, now=now, agent_id=agent_id
        )

    async def list(self, user_id: str) -> list[ApiKeyRecord]:
        return await self.records.list_api_keys(user_id)

    async def revoke(self, user_id: str, key_id: str) -> None:
        # Someone else's key and a missing key look the same: 404, nothing revealed.
        if not await self.records.revoke_api_key(key_id, user_id, dt.datetime.now(dt.UTC)):
            raise NotFound("No such API key.")

    async def authenticate(self, key: str) -> tuple[ApiKeyRecord, UserRecord]:
        computed = digest(key)
        record = await self.records.find_api_key(computed)
        now = dt.datetime.now(dt.UTC)
        if (
            record is None
            or not hmac.compare_digest(record.digest, computed)
            or record.revoked_at is not None
            or (record.expires_at is not None and record.expires_at <= now)
        ):
            raise InvalidCredentials("The API key is not valid.")
        user = await self.records.get_user(record.user_id)
        if user is None or not user.is_active:
            raise InvalidCredentials("The API key is not valid.")
        if record.agent_id is not None:
            # An agent's key ends with the agent.
            agent = await self.records.get_agent(record.agent_id)
            if agent is None or agent.status == DELETED:
                raise InvalidCredentials("The API key is not valid.")
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_INTERVAL:
            await self.records.touch_api_key(record.id, now)
        return record, user
