"""Federation conformance: adding, finding, listing, changing and deleting peers."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from agentvault_registry.core.errors import Conflict, NotFound
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.federation import (
    PEER_ACTIVE,
    PEER_DISABLED,
    PEER_STATUSES,
    PEER_UNHEALTHY,
    PeerRecord,
)

from .accounts_data import LATER, NOW, SOON
from .federation_data import (
    NEW_VALUES,
    FederationFixtures,
    make_mirrored_agent,
    make_peer,
)


class FederationPeers(FederationFixtures):
    # ------------------------------------------------------------ add, get, find

    async def test_add_returns_the_peer_and_get_and_find_give_every_field(
        self, records: RecordsBackend
    ) -> None:
        peer = make_peer(
            1,
            spiffe_id="spiffe://registry-1.example.org/registry",
            last_seen_at=SOON,
            last_error="connection refused",
            last_failure_at=NOW,
            consecutive_failures=2,
            last_latency_ms=12.5,
            change_cursor=42,
        )
        assert await records.add_peer(peer) == peer
        assert await records.get_peer(peer.id) == peer
        assert await records.find_peer_by_token_digest(peer.inbound_token_digest) == peer

    async def test_a_new_peer_keeps_its_defaults(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        stored = await records.get_peer(peer.id)
        assert stored == peer
        assert stored is not None
        assert (stored.spiffe_id, stored.last_seen_at, stored.last_error) == (None, None, None)
        assert (stored.last_failure_at, stored.last_latency_ms) == (None, None)
        assert (stored.consecutive_failures, stored.change_cursor) == (0, 0)

    @pytest.mark.parametrize("status", PEER_STATUSES)
    async def test_find_by_token_digest_finds_a_peer_in_any_status(
        self, records: RecordsBackend, status: str
    ) -> None:
        peer = await records.add_peer(make_peer(1, status=status))
        assert await records.find_peer_by_token_digest(peer.inbound_token_digest) == peer

    async def test_get_and_find_of_unknown_peers_are_none(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        assert await records.get_peer("no-such-peer") is None
        assert await records.find_peer_by_token_digest("no-such-digest") is None

    async def test_timestamps_come_back_as_the_same_instant_in_utc(
        self, records: RecordsBackend
    ) -> None:
        elsewhere = dt.timezone(dt.timedelta(hours=-5))
        await records.add_peer(make_peer(1, last_seen_at=SOON.astimezone(elsewhere)))
        stored = await records.get_peer("peer-1")
        assert stored is not None
        assert stored.last_seen_at == SOON
        assert stored.last_seen_at.utcoffset() == dt.timedelta(0)

    async def test_naive_timestamps_are_refused(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        naive = SOON.replace(tzinfo=None)
        with pytest.raises(ValueError):
            await records.add_peer(make_peer(2, created_at=naive))
        with pytest.raises(ValueError):
            await records.update_peer(peer.id, {"admin_contact": "x@example.org"}, naive)
        with pytest.raises(ValueError):
            await records.record_peer_success(peer.id, naive, 1.0)
        with pytest.raises(ValueError):
            await records.record_peer_failure(peer.id, naive, "timeout", 3)
        assert await records.get_peer(peer.id) == peer
        assert await records.get_peer("peer-2") is None

    # ------------------------------------------------------------- conflicts

    @pytest.mark.parametrize(
        ("field", "taken"),
        [
            ("name", "Peer-1"),
            ("name", "PEER-1"),
            ("registry_url", "https://registry-1.example.org/avreg"),
            ("inbound_token_digest", "digest-of-inbound-1"),
        ],
        ids=["name", "name-in-another-case", "registry_url", "inbound_token_digest"],
    )
    async def test_add_with_a_taken_value_conflicts_naming_the_field(
        self, records: RecordsBackend, peer: PeerRecord, field: str, taken: str
    ) -> None:
        with pytest.raises(Conflict) as caught:
            await records.add_peer(make_peer(2, **{field: taken}))
        assert caught.value.details == {"field": field}
        assert await records.get_peer("peer-2") is None
        # The failed write left the backend usable.
        assert await records.add_peer(make_peer(3)) == make_peer(3)

    @pytest.mark.parametrize(
        ("field", "taken"),
        [
            ("name", "pEER-1"),
            ("registry_url", "https://registry-1.example.org/avreg"),
            ("inbound_token_digest", "digest-of-inbound-1"),
        ],
    )
    async def test_update_to_a_taken_value_conflicts_naming_the_field(
        self, records: RecordsBackend, peer: PeerRecord, field: str, taken: str
    ) -> None:
        other = await records.add_peer(make_peer(2))
        with pytest.raises(Conflict) as caught:
            await records.update_peer(other.id, {field: taken}, LATER)
        assert caught.value.details == {"field": field}
        assert await records.get_peer(other.id) == other

    async def test_a_peer_may_change_the_case_of_its_own_name(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        renamed = await records.update_peer(peer.id, {"name": "PEER-1"}, LATER)
        assert renamed.name == "PEER-1"
        with pytest.raises(Conflict):
            await records.add_peer(make_peer(2, name="peer-1"))

    async def test_a_name_freed_by_a_rename_can_be_taken(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        await records.update_peer(peer.id, {"name": "Elsewhere"}, LATER)
        assert await records.add_peer(make_peer(2, name="peer-1")) == make_peer(2, name="peer-1")

    # --------------------------------------------------------------- listing

    async def test_list_is_oldest_first_then_by_id(self, records: RecordsBackend) -> None:
        # Equal created_at, ids in mixed case: the tie must break in code-point order everywhere.
        ids = ["peer-b", "Peer-a", "peer_c", "PEER-D", "peer-a"]
        for number, peer_id in enumerate(ids, start=1):
            await records.add_peer(make_peer(number, id=peer_id, created_at=NOW))
        await records.add_peer(make_peer(9, id="peer-0", created_at=NOW - dt.timedelta(days=1)))
        listed = [peer.id for peer in await records.list_peers()]
        assert listed == ["peer-0", *sorted(ids)]

    async def test_list_selects_the_statuses_asked_for(self, records: RecordsBackend) -> None:
        for number, status in enumerate(PEER_STATUSES, start=1):
            await records.add_peer(make_peer(number, status=status))
        assert [peer.status for peer in await records.list_peers()] == list(PEER_STATUSES)
        assert [peer.id for peer in await records.list_peers([PEER_UNHEALTHY])] == ["peer-3"]
        both = await records.list_peers((PEER_ACTIVE, PEER_DISABLED))
        assert [peer.id for peer in both] == ["peer-1", "peer-2"]
        assert await records.list_peers([]) == []

    async def test_list_of_no_peers_is_empty(self, records: RecordsBackend) -> None:
        assert await records.list_peers() == []

    # ---------------------------------------------------------------- update

    @pytest.mark.parametrize("field", sorted(NEW_VALUES))
    async def test_update_changes_one_field_and_updated_at(
        self, records: RecordsBackend, peer: PeerRecord, field: str
    ) -> None:
        expected = dataclasses.replace(peer, **{field: NEW_VALUES[field]}, updated_at=LATER)
        assert await records.update_peer(peer.id, {field: NEW_VALUES[field]}, LATER) == expected
        assert await records.get_peer(peer.id) == expected

    @pytest.mark.parametrize("status", PEER_STATUSES)
    async def test_update_sets_the_status(self, records: RecordsBackend, status: str) -> None:
        peer = await records.add_peer(make_peer(1, status=PEER_UNHEALTHY))
        updated = await records.update_peer(peer.id, {"status": status}, LATER)
        assert (updated.status, updated.updated_at) == (status, LATER)
        assert await records.get_peer(peer.id) == updated

    async def test_update_changes_several_fields_at_once_and_can_clear_the_spiffe_id(
        self, records: RecordsBackend
    ) -> None:
        peer = await records.add_peer(make_peer(1, spiffe_id="spiffe://registry-1/registry"))
        changes = {"name": "Both", "admin_contact": "both@example.org", "spiffe_id": None}
        updated = await records.update_peer(peer.id, changes, LATER)
        assert updated == dataclasses.replace(peer, **changes, updated_at=LATER)

    async def test_update_without_changes_only_sets_updated_at(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        assert await records.update_peer(peer.id, {}, LATER) == dataclasses.replace(
            peer, updated_at=LATER
        )

    @pytest.mark.parametrize(
        "field",
        [
            "id",
            "created_at",
            "updated_at",
            "consecutive_failures",
            "last_error",
            "change_cursor",
            "no_such_field",
        ],
    )
    async def test_update_of_a_field_not_updatable_is_a_value_error_and_changes_nothing(
        self, records: RecordsBackend, peer: PeerRecord, field: str
    ) -> None:
        with pytest.raises(ValueError, match=field):
            await records.update_peer(peer.id, {"name": "Renamed", field: 7}, LATER)
        assert await records.get_peer(peer.id) == peer

    async def test_update_of_an_unknown_peer_is_not_found(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        with pytest.raises(NotFound):
            await records.update_peer("no-such-peer", {"name": "Ghost"}, LATER)

    @pytest.mark.parametrize("status", [PEER_ACTIVE, PEER_DISABLED])
    async def test_setting_the_status_active_or_disabled_resets_the_failures(
        self, records: RecordsBackend, peer: PeerRecord, status: str
    ) -> None:
        await self.fail(records, peer, 5)
        updated = await records.update_peer(peer.id, {"status": status}, LATER)
        assert (updated.status, updated.consecutive_failures) == (status, 0)
        # The failure it last recorded stays on record.
        assert (updated.last_error, updated.last_failure_at) == ("failure 5", SOON)

    async def test_other_updates_keep_the_failure_count(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        await self.fail(records, peer, 2)
        renamed = await records.update_peer(peer.id, {"name": "Still failing"}, LATER)
        assert (renamed.status, renamed.consecutive_failures) == (PEER_ACTIVE, 2)
        marked = await records.update_peer(peer.id, {"status": PEER_UNHEALTHY}, LATER)
        assert (marked.status, marked.consecutive_failures) == (PEER_UNHEALTHY, 2)

    # ---------------------------------------------------------------- delete

    async def test_delete_removes_the_peer_and_its_mirrored_agents_only(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        other = await records.add_peer(make_peer(2))
        await records.apply_peer_changes(peer.id, [make_mirrored_agent(peer.id, "a")], [], 1)
        kept = make_mirrored_agent(other.id, "a")
        await records.apply_peer_changes(other.id, [kept], [], 1)
        assert await records.delete_peer(peer.id) is True
        assert await records.get_peer(peer.id) is None
        assert await records.find_peer_by_token_digest(peer.inbound_token_digest) is None
        assert await self.mirrored(records, peer.id) == []
        assert [listed.id for listed in await records.list_peers()] == [other.id]
        assert await self.mirrored(records, other.id) == [kept]

    async def test_delete_of_an_unknown_peer_is_false(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        assert await records.delete_peer("no-such-peer") is False
        assert await records.delete_peer(peer.id) is True
        assert await records.delete_peer(peer.id) is False

    async def test_a_deleted_peers_name_url_and_digest_can_be_taken_again(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        await records.delete_peer(peer.id)
        again = make_peer(
            2,
            name=peer.name,
            registry_url=peer.registry_url,
            inbound_token_digest=peer.inbound_token_digest,
        )
        assert await records.add_peer(again) == again
