"""The part of the accounts conformance suite that serves admins: paging through users with
filters, and changes that must never leave the registry without an active admin."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from agentvault_registry.core.errors import NotFound
from agentvault_registry.storage_backends.accounts import (
    NoActiveAdminLeft,
    UserFilter,
    UserRecord,
)
from agentvault_registry.storage_backends.base import RecordsBackend

from .accounts_data import NOW, SOON, TwoUsers, make_user

EVERYONE = UserFilter()


async def created_in_order(records: RecordsBackend, *names: str, **changes: object) -> list[str]:
    """Users named ``names``, each created a minute after the one before; their ids."""
    ids = []
    for minute, name in enumerate(names):
        user = make_user(name, created_at=NOW + dt.timedelta(minutes=minute), **changes)
        ids.append((await records.create_user(user)).id)
    return ids


class AccountsAdminConformance(TwoUsers):
    """Mixed into :class:`~.accounts.AccountsConformance`; the same ``records`` fixture."""

    # -------------------------------------------------------------- page_users

    async def test_page_users_gives_newest_first_with_the_total(
        self, records: RecordsBackend
    ) -> None:
        ids = await created_in_order(records, "alice", "bob", "carol")
        page = await records.page_users(EVERYONE, limit=10)
        assert [user.id for user in page.users] == ids[::-1]
        assert page.total == 3
        assert page.next_after is None
        assert page.users[0] == make_user("carol", created_at=NOW + dt.timedelta(minutes=2))

    async def test_page_users_continues_after_the_keyset_position(
        self, records: RecordsBackend
    ) -> None:
        ids = await created_in_order(records, "alice", "bob", "carol")
        first = await records.page_users(EVERYONE, limit=2)
        assert [user.id for user in first.users] == [ids[2], ids[1]]
        assert first.next_after == (first.users[-1].created_at, ids[1])
        second = await records.page_users(EVERYONE, limit=2, after=first.next_after)
        assert [user.id for user in second.users] == [ids[0]]
        assert second.next_after is None
        assert second.total == 3

    async def test_page_users_breaks_creation_time_ties_by_id(
        self, records: RecordsBackend
    ) -> None:
        for name in ("alice", "bob", "carol"):
            await records.create_user(make_user(name))
        first = await records.page_users(EVERYONE, limit=2)
        second = await records.page_users(EVERYONE, limit=2, after=first.next_after)
        assert [user.id for user in first.users + second.users] == [
            "user-carol",
            "user-bob",
            "user-alice",
        ]

    async def test_page_users_skips_an_offset(self, records: RecordsBackend) -> None:
        ids = await created_in_order(records, "alice", "bob", "carol")
        page = await records.page_users(EVERYONE, limit=1, offset=1)
        assert [user.id for user in page.users] == [ids[1]]
        assert page.next_after is not None

    async def test_page_users_text_matches_part_of_username_or_email_in_any_case(
        self, records: RecordsBackend
    ) -> None:
        await records.create_user(make_user("alice"))
        await records.create_user(make_user("bob", email="bob@Wonderland.example"))
        await records.create_user(make_user("carol"))
        by_username = await records.page_users(UserFilter(text="LIC"), limit=10)
        assert [user.username for user in by_username.users] == ["Alice"]
        by_email = await records.page_users(UserFilter(text="wonderLAND"), limit=10)
        assert [user.username for user in by_email.users] == ["Bob"]
        assert by_email.total == 1

    async def test_page_users_text_takes_like_wildcards_literally(
        self, records: RecordsBackend
    ) -> None:
        await records.create_user(make_user("alice"))
        await records.create_user(make_user("al_ce", username="Al_ce"))
        for text, expected in (("_", ["Al_ce"]), ("%", [])):
            page = await records.page_users(UserFilter(text=text), limit=10)
            assert [user.username for user in page.users] == expected, text

    async def test_page_users_filters_by_role_and_state(self, records: RecordsBackend) -> None:
        await records.create_user(make_user("alice", role="admin"))
        await records.create_user(make_user("bob", role="admin", is_active=False))
        await records.create_user(make_user("carol"))
        admins = await records.page_users(UserFilter(role="admin"), limit=10)
        assert {user.username for user in admins.users} == {"Alice", "Bob"}
        inactive = await records.page_users(UserFilter(is_active=False), limit=10)
        assert [user.username for user in inactive.users] == ["Bob"]
        active_admins = await records.page_users(
            UserFilter(role="admin", is_active=True, text="a"), limit=10
        )
        assert [user.username for user in active_admins.users] == ["Alice"]
        assert active_admins.total == 1

    async def test_page_users_refuses_a_limit_below_one(self, records: RecordsBackend) -> None:
        with pytest.raises(ValueError):
            await records.page_users(EVERYONE, limit=0)

    # --------------------------------------------- update_user_keeping_an_admin

    async def test_update_keeping_an_admin_gives_the_user_before_and_after(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        before, after = await records.update_user_keeping_an_admin(alice.id, SOON, role="admin")
        assert before == alice
        assert after == dataclasses.replace(alice, role="admin", updated_at=SOON)
        assert await records.get_user(alice.id) == after

    async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
        self, records: RecordsBackend
    ) -> None:
        admin = await records.create_user(make_user("root", role="admin"))
        await records.create_user(make_user("former", role="admin", is_active=False))
        for changes in ({"role": "developer"}, {"is_active": False}):
            with pytest.raises(NoActiveAdminLeft):
                await records.update_user_keeping_an_admin(admin.id, SOON, **changes)
        assert await records.get_user(admin.id) == admin

    async def test_an_admin_can_be_demoted_while_another_is_active(
        self, records: RecordsBackend
    ) -> None:
        root = await records.create_user(make_user("root", role="admin"))
        await records.create_user(make_user("deputy", role="admin"))
        _, after = await records.update_user_keeping_an_admin(root.id, SOON, is_active=False)
        assert after.is_active is False

    async def test_changes_that_keep_an_admin_an_admin_are_not_refused(
        self, records: RecordsBackend
    ) -> None:
        root = await records.create_user(make_user("root", role="admin"))
        _, after = await records.update_user_keeping_an_admin(
            root.id, SOON, role="admin", is_active=True
        )
        assert after.updated_at == SOON

    async def test_developers_change_freely_with_no_admin_at_all(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        _, after = await records.update_user_keeping_an_admin(alice.id, SOON, is_active=False)
        assert after.is_active is False

    async def test_update_keeping_an_admin_of_an_absent_user_is_not_found(
        self, records: RecordsBackend
    ) -> None:
        with pytest.raises(NotFound):
            await records.update_user_keeping_an_admin("no-such-user", SOON, role="admin")

    async def test_update_keeping_an_admin_refuses_a_field_it_may_not_change(
        self, records: RecordsBackend, alice: UserRecord
    ) -> None:
        with pytest.raises(ValueError, match="email"):
            await records.update_user_keeping_an_admin(alice.id, SOON, email="x@example.org")
        assert await records.get_user(alice.id) == alice

    async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
        self, records: RecordsBackend
    ) -> None:
        for round_number in range(5):
            first = await records.create_user(make_user(f"first{round_number}", role="admin"))
            second = await records.create_user(make_user(f"second{round_number}", role="admin"))
            results = await asyncio.gather(
                records.update_user_keeping_an_admin(first.id, SOON, role="developer"),
                records.update_user_keeping_an_admin(second.id, SOON, is_active=False),
                return_exceptions=True,
            )
            refused = [result for result in results if isinstance(result, NoActiveAdminLeft)]
            assert len(refused) == 1, results
            remaining = await records.page_users(UserFilter(role="admin", is_active=True), limit=10)
            assert remaining.total == 1
            # Demote the survivor by the unguarded path, so the next round starts at zero.
            await records.update_user(remaining.users[0].id, SOON, role="developer")
