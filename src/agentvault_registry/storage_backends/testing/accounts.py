"""The conformance suite of the accounts records every records backend must pass."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from agentvault_registry.core.errors import Conflict, NotFound
from agentvault_registry.storage_backends.accounts import (
    SessionStatus,
    UserRecord,
)
from agentvault_registry.storage_backends.base import RecordsBackend

from .accounts_admin import AccountsAdminConformance
from .accounts_data import (
    CONCURRENT_CALLERS,
    LATER,
    NOW,
    SOON,
    make_api_key,
    make_one_time_token,
    make_refresh_token,
    make_user,
)
from .agents import created_event, make_agent


#: Microseconds included: timestamps must come back exactly as stored.
class AccountsConformance(AccountsAdminConformance):
    """Users, refresh tokens, one-time tokens and API keys of a :class:`RecordsBackend`.

    The subclass (named ``Test...`` so pytest collects it) provides one async fixture:

    ``records``
        A records backend on a fresh, empty database, already opened and migrated; the
        fixture closes it after the test.
    """

    # ------------------------------------------------------------------- users

    async def test_create_user_returns_it_and_get_user_finds_it(
        self, records: RecordsBackend
    ) -> None:
        user = make_user("alice")
        assert await records.create_user(user) == user
        assert await records.get_user(user.id) == user

    async def test_get_absent_user_is_none(self, records: RecordsBackend) -> None:
        assert await records.get_user("no-such-user") is None

    async def test_find_user_by_email_ignores_case(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        assert await records.find_user_by_login("ALICE@example.ORG") == alice

    async def test_find_user_by_username_ignores_case(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        assert await records.find_user_by_login("aLiCe") == alice

    async def test_find_user_by_unknown_login_is_none(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        assert await records.find_user_by_login("mallory") is None

    async def test_email_taken_in_another_case_conflicts_on_email(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        with pytest.raises(Conflict) as caught:
            await records.create_user(make_user("bob", email="alice@EXAMPLE.ORG"))
        assert caught.value.details == {"field": "email"}

    async def test_username_taken_in_another_case_conflicts_on_username(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        with pytest.raises(Conflict) as caught:
            await records.create_user(make_user("bob", username="ALICE"))
        assert caught.value.details == {"field": "username"}

    async def test_update_user_changes_fields_and_updated_at(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        updated = await records.update_user(
            alice.id, LATER, role="admin", is_verified=True, password_hash="new-hash"
        )
        assert updated == dataclasses.replace(
            alice, role="admin", is_verified=True, password_hash="new-hash", updated_at=LATER
        )
        assert await records.get_user(alice.id) == updated

    async def test_update_user_refuses_a_field_it_may_not_change(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        with pytest.raises(ValueError, match="email"):
            await records.update_user(alice.id, LATER, email="new@example.org")
        assert await records.get_user(alice.id) == alice

    async def test_update_absent_user_is_not_found(self, records: RecordsBackend) -> None:
        with pytest.raises(NotFound):
            await records.update_user("no-such-user", LATER, role="admin")

    async def test_list_users_orders_by_lower_cased_username(self, records: RecordsBackend) -> None:
        for username in ("carol", "Bob", "alice"):
            await records.create_user(make_user(username.lower(), username=username))
        users = await records.list_users()
        assert [user.username for user in users] == ["alice", "Bob", "carol"]

    async def test_list_users_pages_by_username_after(self, records: RecordsBackend) -> None:
        for name in ("alice", "bob", "carol"):
            await records.create_user(make_user(name))
        first_page = await records.list_users(limit=2)
        assert [user.username for user in first_page] == ["Alice", "Bob"]
        second_page = await records.list_users(limit=2, after="BOB")
        assert [user.username for user in second_page] == ["Carol"]

    async def test_timestamps_come_back_as_the_same_instant_in_utc(
        self, records: RecordsBackend
    ) -> None:
        elsewhere = dt.timezone(dt.timedelta(hours=2))
        created = NOW.astimezone(elsewhere)
        await records.create_user(make_user("alice", created_at=created))
        stored = await records.get_user("user-alice")
        assert stored is not None
        assert stored.created_at == created
        assert stored.created_at.utcoffset() == dt.timedelta(0)
        assert stored.created_at.microsecond == NOW.microsecond

    # ---------------------------------------------------------- refresh tokens

    async def test_use_refresh_token_returns_it_marked_used(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        token = make_refresh_token("jti-1", "family-1", alice.id)
        await records.add_refresh_token(token)
        assert await records.use_refresh_token("jti-1", SOON) == dataclasses.replace(
            token, used_at=SOON
        )

    async def test_second_use_of_refresh_token_is_none_and_get_shows_the_first(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_refresh_token(make_refresh_token("jti-1", "family-1", alice.id))
        await records.use_refresh_token("jti-1", SOON)
        assert await records.use_refresh_token("jti-1", SOON) is None
        recorded = await records.get_refresh_token("jti-1")
        assert recorded is not None
        assert recorded.used_at == SOON

    async def test_concurrent_uses_of_refresh_token_succeed_once(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_refresh_token(make_refresh_token("jti-1", "family-1", alice.id))
        results = await asyncio.gather(
            *(records.use_refresh_token("jti-1", SOON) for _ in range(CONCURRENT_CALLERS))
        )
        assert len([result for result in results if result is not None]) == 1

    async def test_expired_refresh_token_is_not_usable(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_refresh_token(
            make_refresh_token("jti-1", "family-1", alice.id, expires_at=SOON)
        )
        assert await records.use_refresh_token("jti-1", SOON) is None

    async def test_unknown_refresh_token_is_neither_usable_nor_found(
        self, records: RecordsBackend
    ) -> None:
        assert await records.use_refresh_token("no-such-jti", SOON) is None
        assert await records.get_refresh_token("no-such-jti") is None

    async def test_revoked_family_is_not_usable_and_stays_revoked(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for jti in ("jti-1", "jti-2"):
            await records.add_refresh_token(make_refresh_token(jti, "family-1", alice.id))
        assert await records.revoke_refresh_family("family-1", SOON) == 2
        assert await records.use_refresh_token("jti-2", SOON) is None
        assert await records.refresh_family_revoked("family-1") is True
        assert await records.revoke_refresh_family("family-1", LATER) == 0

    async def test_family_never_revoked_is_not_reported_revoked(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_refresh_token(make_refresh_token("jti-1", "family-1", alice.id))
        await records.use_refresh_token("jti-1", SOON)
        assert await records.refresh_family_revoked("family-1") is False
        assert await records.refresh_family_revoked("no-such-family") is False

    async def test_revoke_user_refresh_tokens_spares_the_excepted_family(
        self, records: RecordsBackend, alice: UserRecord, bob: UserRecord
    ) -> None:
        for jti, family_id in [("a1", "kept"), ("a2", "family-b"), ("a3", "family-a")]:
            await records.add_refresh_token(make_refresh_token(jti, family_id, alice.id))
        await records.add_refresh_token(make_refresh_token("b1", "bobs", bob.id))
        revoked = await records.revoke_user_refresh_tokens(alice.id, SOON, except_family="kept")
        assert revoked == ["family-a", "family-b"]
        assert await records.refresh_family_revoked("kept") is False
        assert await records.use_refresh_token("a1", SOON) is not None
        assert await records.use_refresh_token("a2", SOON) is None
        assert await records.use_refresh_token("b1", SOON) is not None

    async def test_revoke_user_refresh_tokens_without_exception_revokes_every_family(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for jti, family_id in [("a1", "family-1"), ("a2", "family-1"), ("a3", "family-2")]:
            await records.add_refresh_token(make_refresh_token(jti, family_id, alice.id))
        assert await records.revoke_user_refresh_tokens(alice.id, SOON) == [
            "family-1",
            "family-2",
        ]

    async def test_token_added_to_a_revoked_family_is_not_usable(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_refresh_token(make_refresh_token("jti-1", "family-1", alice.id))
        await records.revoke_refresh_family("family-1", SOON)
        await records.add_refresh_token(make_refresh_token("jti-2", "family-1", alice.id))
        assert await records.use_refresh_token("jti-2", SOON) is None

    async def test_revoking_a_family_during_concurrent_refreshes_leaves_no_usable_token(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        jtis = [f"jti-{number}" for number in range(CONCURRENT_CALLERS)]
        for jti in jtis:
            await records.add_refresh_token(make_refresh_token(jti, "family-1", alice.id))

        async def refresh(jti: str) -> None:
            # As a refresh does: use the token, then add its successor to the family.
            if await records.use_refresh_token(jti, SOON) is not None:
                await records.add_refresh_token(
                    make_refresh_token(f"{jti}-next", "family-1", alice.id)
                )

        refreshes = [refresh(jti) for jti in jtis]
        half = CONCURRENT_CALLERS // 2
        await asyncio.gather(
            *refreshes[:half], records.revoke_refresh_family("family-1", SOON), *refreshes[half:]
        )
        for jti in jtis + [f"{jti}-next" for jti in jtis]:
            assert await records.use_refresh_token(jti, SOON) is None, jti

    # ---------------------------------------------------------- session status

    async def test_session_status_of_active_user_and_live_family(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_refresh_token(make_refresh_token("jti-1", "family-1", alice.id))
        assert await records.session_status(alice.id, "family-1") == SessionStatus(
            role="developer", is_active=True, revoked=False
        )

    async def test_session_status_shows_a_revoked_family(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_refresh_token(make_refresh_token("jti-1", "family-1", alice.id))
        await records.revoke_refresh_family("family-1", SOON)
        status = await records.session_status(alice.id, "family-1")
        assert status is not None
        assert status.revoked is True

    async def test_session_status_shows_a_deactivated_user(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.update_user(alice.id, SOON, is_active=False)
        status = await records.session_status(alice.id, "family-1")
        assert status is not None
        assert status.is_active is False

    async def test_session_status_shows_the_current_role(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.update_user(alice.id, SOON, role="admin")
        status = await records.session_status(alice.id, "family-1")
        assert status is not None
        assert status.role == "admin"

    async def test_session_status_of_unknown_user_is_none(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_refresh_token(make_refresh_token("jti-1", "family-1", alice.id))
        assert await records.session_status("no-such-user", "family-1") is None

    async def test_session_status_of_family_without_tokens_is_not_revoked(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        status = await records.session_status(alice.id, "no-such-family")
        assert status == SessionStatus(role="developer", is_active=True, revoked=False)

    # --------------------------------------------------------- one-time tokens

    async def test_use_one_time_token_once_gives_its_user(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_one_time_token(make_one_time_token("digest-1", alice.id))
        assert await records.use_one_time_token("digest-1", "verify_email", SOON) == alice.id
        assert await records.use_one_time_token("digest-1", "verify_email", SOON) is None

    async def test_one_time_token_for_another_purpose_is_not_usable(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_one_time_token(make_one_time_token("digest-1", alice.id))
        assert await records.use_one_time_token("digest-1", "reset_password", SOON) is None
        assert await records.use_one_time_token("digest-1", "verify_email", SOON) == alice.id

    async def test_expired_one_time_token_is_not_usable(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_one_time_token(make_one_time_token("digest-1", alice.id, expires_at=SOON))
        assert await records.use_one_time_token("digest-1", "verify_email", SOON) is None

    async def test_concurrent_uses_of_one_time_token_succeed_once(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_one_time_token(make_one_time_token("digest-1", alice.id))
        results = await asyncio.gather(
            *(
                records.use_one_time_token("digest-1", "verify_email", SOON)
                for _ in range(CONCURRENT_CALLERS)
            )
        )
        assert results.count(alice.id) == 1
        assert results.count(None) == CONCURRENT_CALLERS - 1

    async def test_discard_one_time_tokens_removes_the_unused_ones_of_the_purpose(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for digest in ("verify-1", "verify-2"):
            await records.add_one_time_token(make_one_time_token(digest, alice.id))
        await records.add_one_time_token(make_one_time_token("verify-used", alice.id, used_at=NOW))
        await records.add_one_time_token(
            make_one_time_token("reset-1", alice.id, purpose="reset_password")
        )
        assert await records.discard_one_time_tokens(alice.id, "verify_email") == 2
        assert await records.use_one_time_token("verify-1", "verify_email", SOON) is None
        assert await records.use_one_time_token("reset-1", "reset_password", SOON) == alice.id

    async def test_discard_one_time_tokens_can_keep_the_newest(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        for digest in ("verify-old", "verify-new"):
            await records.add_one_time_token(make_one_time_token(digest, alice.id))
        assert (
            await records.discard_one_time_tokens(alice.id, "verify_email", keep="verify-new") == 1
        )
        assert await records.use_one_time_token("verify-old", "verify_email", SOON) is None
        assert await records.use_one_time_token("verify-new", "verify_email", SOON) == alice.id

    # ---------------------------------------------------------------- API keys

    async def test_list_api_keys_gives_the_unrevoked_ones_oldest_first(
        self, records: RecordsBackend, alice: UserRecord, bob: UserRecord
    ) -> None:
        newer = make_api_key("key-newer", alice.id, created_at=LATER)
        older = make_api_key("key-older", alice.id)
        for key in (
            newer,
            older,
            make_api_key("key-revoked", alice.id, revoked_at=SOON),
            make_api_key("key-of-bob", bob.id),
        ):
            await records.add_api_key(key)
        assert await records.list_api_keys(alice.id) == [older, newer]

    async def test_find_api_key_by_digest_includes_revoked_keys(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        key = make_api_key("key-1", alice.id, revoked_at=SOON, expires_at=LATER)
        await records.add_api_key(key)
        assert await records.find_api_key(key.digest) == key
        assert await records.find_api_key("no-such-digest") is None

    async def test_api_key_digest_is_unique(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_api_key(make_api_key("key-1", alice.id, digest="same"))
        with pytest.raises(Conflict):
            await records.add_api_key(make_api_key("key-2", alice.id, digest="same"))

    async def test_owner_revokes_api_key(self, records: RecordsBackend, alice: UserRecord) -> None:
        key = make_api_key("key-1", alice.id)
        await records.add_api_key(key)
        assert await records.revoke_api_key(key.id, alice.id, SOON) is True
        assert await records.find_api_key(key.digest) == dataclasses.replace(key, revoked_at=SOON)
        assert await records.list_api_keys(alice.id) == []

    async def test_another_user_cannot_revoke_api_key(
        self, records: RecordsBackend, alice: UserRecord, bob: UserRecord
    ) -> None:
        key = make_api_key("key-1", alice.id)
        await records.add_api_key(key)
        assert await records.revoke_api_key(key.id, bob.id, SOON) is False
        assert await records.list_api_keys(alice.id) == [key]

    async def test_revoking_api_key_twice_is_false_the_second_time(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_api_key(make_api_key("key-1", alice.id))
        await records.revoke_api_key("key-1", alice.id, SOON)
        assert await records.revoke_api_key("key-1", alice.id, LATER) is False

    async def test_revoke_user_api_keys_revokes_only_that_users_keys(
        self, records: RecordsBackend, alice: UserRecord, bob: UserRecord
    ) -> None:
        for key in (
            make_api_key("key-1", alice.id),
            make_api_key("key-2", alice.id),
            make_api_key("key-revoked", alice.id, revoked_at=NOW),
        ):
            await records.add_api_key(key)
        bobs = make_api_key("key-of-bob", bob.id)
        await records.add_api_key(bobs)
        assert await records.revoke_user_api_keys(alice.id, SOON) == 2
        assert await records.list_api_keys(alice.id) == []
        assert await records.list_api_keys(bob.id) == [bobs]

    async def test_revoke_user_api_keys_twice_gives_zero_the_second_time(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        await records.add_api_key(make_api_key("key-1", alice.id))
        await records.revoke_user_api_keys(alice.id, SOON)
        assert await records.revoke_user_api_keys(alice.id, LATER) == 0

    async def test_revoke_user_api_keys_sets_revoked_at(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        key = make_api_key("key-1", alice.id)
        await records.add_api_key(key)
        await records.revoke_user_api_keys(alice.id, SOON)
        assert await records.find_api_key(key.digest) == dataclasses.replace(key, revoked_at=SOON)

    async def test_touch_api_key_sets_last_used_at(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        key = make_api_key("key-1", alice.id)
        await records.add_api_key(key)
        await records.touch_api_key(key.id, SOON)
        found = await records.find_api_key(key.digest)
        assert found is not None
        assert found.last_used_at == SOON

    async def test_api_key_of_an_agent_round_trips_its_agent_id(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        agent = make_agent(1, alice.id)
        await records.create_agent(agent, created_event(agent))
        key = make_api_key("key-1", alice.id, agent_id=agent.id)
        await records.add_api_key(key)
        assert await records.find_api_key(key.digest) == key
        assert await records.list_api_keys(alice.id) == [key]

    async def test_api_key_of_an_unknown_agent_conflicts(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        with pytest.raises(Conflict):
            await records.add_api_key(make_api_key("key-1", alice.id, agent_id="no-such-agent"))
        assert await records.list_api_keys(alice.id) == []

    @pytest.mark.parametrize(
        "scopes", [(), ("agents:read",), ("agents:read", "agents:write")], ids=["0", "1", "2"]
    )
    async def test_api_key_scopes_come_back_as_a_tuple(
        self, records: RecordsBackend, alice: UserRecord, scopes: tuple[str, ...]
    ) -> None:
        await records.add_api_key(make_api_key("key-1", alice.id, scopes=scopes))
        found = await records.find_api_key("digest-of-key-1")
        assert found is not None
        assert found.scopes == scopes
