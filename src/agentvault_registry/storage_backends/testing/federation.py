"""The conformance suite of the federation records every records backend must pass."""

from __future__ import annotations

import asyncio
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
    MirroredAgent,
    PeerRecord,
)

from .accounts_data import LATER, NOW, SOON

CONCURRENT_FAILURES = 50
UNHEALTHY_AFTER = 10
CONCURRENT_BATCHES = 20


def make_peer(number: int, **changes: object) -> PeerRecord:
    """Peer ``number``, added ``number`` seconds after NOW, with a capitalised name."""
    added = NOW + dt.timedelta(seconds=number)
    peer = PeerRecord(
        id=f"peer-{number}",
        name=f"Peer-{number}",
        registry_url=f"https://registry-{number}.example.org/avreg",
        admin_contact=f"admin@registry-{number}.example.org",
        status=PEER_ACTIVE,
        outbound_token=f"ciphertext-of-outbound-{number}",
        inbound_token_digest=f"digest-of-inbound-{number}",
        created_at=added,
        updated_at=added,
    )
    return dataclasses.replace(peer, **changes)


def make_mirrored_agent(
    peer_id: str, agent_id: str, seq: int = 1, **changes: object
) -> MirroredAgent:
    """The peer's agent ``agent_id`` as the change feed's entry ``seq`` described it."""
    agent = MirroredAgent(
        peer_id=peer_id,
        agent_id=agent_id,
        did=f"did:agentvault:{agent_id}",
        document={"id": agent_id, "name": f"Agent {agent_id}", "seq": seq},
        seq=seq,
        mirrored_at=SOON,
    )
    return dataclasses.replace(agent, **changes)


#: A value of each updatable field other than the status, different from make_peer's.
NEW_VALUES = {
    "name": "Renamed Peer",
    "registry_url": "https://moved.example.org",
    "admin_contact": "someone-else@example.org",
    "outbound_token": "new-ciphertext",
    "inbound_token_digest": "digest-of-a-new-inbound-token",
    "spiffe_id": "spiffe://moved.example.org/registry",
}


class FederationConformance:
    """Peer registries and their mirrored agents in a :class:`RecordsBackend`.

    The subclass (named ``Test...`` so pytest collects it) provides one async fixture:

    ``records``
        A records backend on a fresh, empty database, already opened and migrated; the
        fixture closes it after the test.
    """

    @pytest.fixture
    async def peer(self, records: RecordsBackend) -> PeerRecord:
        return await records.add_peer(make_peer(1))

    async def fail(
        self, records: RecordsBackend, peer: PeerRecord, times: int, unhealthy_after: int = 3
    ) -> PeerRecord | None:
        stored = None
        for attempt in range(1, times + 1):
            stored = await records.record_peer_failure(
                peer.id, SOON, f"failure {attempt}", unhealthy_after
            )
        return stored

    async def mirrored(self, records: RecordsBackend, peer_id: str) -> list[MirroredAgent]:
        return await records.list_mirrored_agents(peer_id, limit=1000)

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

    # ---------------------------------------------------------------- health

    async def test_success_records_when_and_how_fast_and_clears_the_failures(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        await self.fail(records, peer, 2)
        stored = await records.record_peer_success(peer.id, LATER, 37.25)
        assert stored == dataclasses.replace(
            peer,
            last_seen_at=LATER,
            last_latency_ms=37.25,
            consecutive_failures=0,
            last_error="failure 2",
            last_failure_at=SOON,
        )
        assert await records.get_peer(peer.id) == stored

    async def test_success_heals_an_unhealthy_peer(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        failed = await self.fail(records, peer, 3)
        assert failed is not None
        assert failed.status == PEER_UNHEALTHY
        healed = await records.record_peer_success(peer.id, LATER, 5.0)
        assert healed is not None
        assert (healed.status, healed.consecutive_failures) == (PEER_ACTIVE, 0)

    async def test_success_leaves_a_disabled_peer_disabled(self, records: RecordsBackend) -> None:
        peer = await records.add_peer(make_peer(1, status=PEER_DISABLED, consecutive_failures=4))
        stored = await records.record_peer_success(peer.id, LATER, 5.0)
        assert stored is not None
        assert (stored.status, stored.consecutive_failures) == (PEER_DISABLED, 0)

    async def test_failure_counts_and_records_the_error(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        stored = await records.record_peer_failure(peer.id, LATER, "HTTP 502", 3)
        assert stored == dataclasses.replace(
            peer, consecutive_failures=1, last_error="HTTP 502", last_failure_at=LATER
        )
        assert await records.get_peer(peer.id) == stored

    async def test_an_active_peer_turns_unhealthy_exactly_at_the_threshold(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        statuses = []
        for attempt in range(1, 6):
            stored = await records.record_peer_failure(peer.id, SOON, f"failure {attempt}", 3)
            assert stored is not None
            statuses.append((stored.consecutive_failures, stored.status))
        assert statuses == [
            (1, PEER_ACTIVE),
            (2, PEER_ACTIVE),
            (3, PEER_UNHEALTHY),
            (4, PEER_UNHEALTHY),
            (5, PEER_UNHEALTHY),
        ]

    async def test_a_count_already_past_a_lowered_threshold_flips_on_the_next_failure(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        await self.fail(records, peer, 4, unhealthy_after=10)
        stored = await records.record_peer_failure(peer.id, SOON, "again", 2)
        assert stored is not None
        assert (stored.consecutive_failures, stored.status) == (5, PEER_UNHEALTHY)

    async def test_a_disabled_peer_stays_disabled_however_often_it_fails(
        self, records: RecordsBackend
    ) -> None:
        peer = await records.add_peer(make_peer(1, status=PEER_DISABLED))
        stored = await self.fail(records, peer, 5)
        assert stored is not None
        assert (stored.consecutive_failures, stored.status) == (5, PEER_DISABLED)

    async def test_health_bookkeeping_leaves_updated_at_alone(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        await self.fail(records, peer, 3)
        await records.record_peer_success(peer.id, LATER, 1.0)
        stored = await records.get_peer(peer.id)
        assert stored is not None
        assert stored.updated_at == peer.updated_at

    async def test_health_of_an_unknown_peer_is_none(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        assert await records.record_peer_success("no-such-peer", SOON, 1.0) is None
        assert await records.record_peer_failure("no-such-peer", SOON, "timeout", 3) is None
        assert await records.get_peer(peer.id) == peer

    async def test_concurrent_failures_all_count_and_flip_once_at_the_threshold(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        results = await asyncio.gather(
            *(
                records.record_peer_failure(peer.id, SOON, f"failure {n}", UNHEALTHY_AFTER)
                for n in range(CONCURRENT_FAILURES)
            )
        )
        seen = sorted((result.consecutive_failures, result.status) for result in results if result)
        # Each call saw its own count, and the status the count it stored called for.
        assert seen == [
            (count, PEER_UNHEALTHY if count >= UNHEALTHY_AFTER else PEER_ACTIVE)
            for count in range(1, CONCURRENT_FAILURES + 1)
        ]
        stored = await records.get_peer(peer.id)
        assert stored is not None
        assert (stored.consecutive_failures, stored.status) == (
            CONCURRENT_FAILURES,
            PEER_UNHEALTHY,
        )

    # ----------------------------------------------------------------- apply

    async def test_apply_stores_upserts_removes_deletions_and_counts(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        first = [make_mirrored_agent(peer.id, agent_id) for agent_id in ("a", "b", "c")]
        assert await records.apply_peer_changes(peer.id, first, [], 3) == 3
        assert await self.mirrored(records, peer.id) == first
        added = make_mirrored_agent(peer.id, "d", seq=5)
        assert await records.apply_peer_changes(peer.id, [added], ["a", "c"], 5) == 2
        assert await self.mirrored(records, peer.id) == [first[1], added]
        stored = await records.get_peer(peer.id)
        assert stored is not None
        assert stored.change_cursor == 5

    async def test_apply_replaces_the_agent_with_the_same_id(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        await records.apply_peer_changes(peer.id, [make_mirrored_agent(peer.id, "a")], [], 1)
        replaced = make_mirrored_agent(
            peer.id,
            "a",
            seq=7,
            did="did:agentvault:renamed",
            document={"id": "a", "tags": ["x", "y"], "pricing": {"model": "free"}, "n": 1.5},
            mirrored_at=LATER,
        )
        assert await records.apply_peer_changes(peer.id, [replaced], [], 7) == 1
        assert await self.mirrored(records, peer.id) == [replaced]

    async def test_an_older_batch_applied_late_never_overwrites_a_newer_one(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        newer = make_mirrored_agent(peer.id, "a", seq=9, did="did:agentvault:newer")
        older = make_mirrored_agent(peer.id, "a", seq=4, did="did:agentvault:older")
        await records.apply_peer_changes(peer.id, [newer], [], 9)
        assert await records.apply_peer_changes(peer.id, [older], [], 4) == 1
        assert await self.mirrored(records, peer.id) == [newer]
        stored = await records.get_peer(peer.id)
        assert stored is not None
        assert stored.change_cursor == 9

    async def test_apply_keeps_the_last_of_two_upserts_and_deletion_wins_over_upsert(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        upserts = [
            make_mirrored_agent(peer.id, "a", seq=1),
            make_mirrored_agent(peer.id, "b", seq=2),
            make_mirrored_agent(peer.id, "a", seq=3),
        ]
        assert await records.apply_peer_changes(peer.id, upserts, ["b"], 3) == 1
        assert await self.mirrored(records, peer.id) == [upserts[2]]

    async def test_an_agent_without_mirrored_at_round_trips(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        agent = make_mirrored_agent(peer.id, "a", mirrored_at=None, document={})
        await records.apply_peer_changes(peer.id, [agent], [], 1)
        assert await self.mirrored(records, peer.id) == [agent]

    async def test_the_cursor_never_moves_backwards(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        cursors = []
        for cursor in (5, 3, 5, 9, 0):
            await records.apply_peer_changes(peer.id, [], [], cursor)
            stored = await records.get_peer(peer.id)
            assert stored is not None
            cursors.append(stored.change_cursor)
        assert cursors == [5, 5, 5, 9, 9]

    async def test_apply_of_nothing_returns_the_count_and_moves_only_the_cursor(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        agents = [make_mirrored_agent(peer.id, agent_id) for agent_id in ("a", "b")]
        await records.apply_peer_changes(peer.id, agents, [], 2)
        assert await records.apply_peer_changes(peer.id, [], ["never-mirrored"], 4) == 2
        assert await self.mirrored(records, peer.id) == agents
        assert await records.get_peer(peer.id) == dataclasses.replace(peer, change_cursor=4)

    async def test_the_same_agent_id_at_two_peers_is_two_agents(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        other = await records.add_peer(make_peer(2))
        mine, theirs = make_mirrored_agent(peer.id, "a"), make_mirrored_agent(other.id, "a")
        await records.apply_peer_changes(peer.id, [mine], [], 1)
        assert await records.apply_peer_changes(other.id, [theirs], [], 1) == 1
        assert await records.apply_peer_changes(peer.id, [], ["a"], 2) == 0
        assert await self.mirrored(records, other.id) == [theirs]

    async def test_apply_to_an_unknown_peer_is_not_found(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        with pytest.raises(NotFound):
            await records.apply_peer_changes(
                "no-such-peer", [make_mirrored_agent("no-such-peer", "a")], [], 1
            )
        assert await self.mirrored(records, "no-such-peer") == []

    async def test_upserts_of_another_peer_are_a_value_error_and_write_nothing(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        other = await records.add_peer(make_peer(2))
        batch = [make_mirrored_agent(peer.id, "a"), make_mirrored_agent(other.id, "b")]
        with pytest.raises(ValueError, match=other.id):
            await records.apply_peer_changes(peer.id, batch, [], 2)
        assert await self.mirrored(records, peer.id) == []
        assert await self.mirrored(records, other.id) == []
        assert await records.get_peer(peer.id) == peer

    async def test_a_failed_apply_writes_nothing(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        kept = make_mirrored_agent(peer.id, "kept")
        await records.apply_peer_changes(peer.id, [kept], [], 1)
        # The second upsert breaks a NOT NULL constraint after the cursor moved and the first
        # was stored: the whole batch must roll back.
        batch = [make_mirrored_agent(peer.id, "a"), make_mirrored_agent(peer.id, "b", did=None)]
        with pytest.raises(Conflict):
            await records.apply_peer_changes(peer.id, batch, ["kept"], 9)
        assert await self.mirrored(records, peer.id) == [kept]
        stored = await records.get_peer(peer.id)
        assert stored is not None
        assert stored.change_cursor == 1

    async def test_concurrent_batches_all_land_and_keep_the_highest_cursor(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        counts = await asyncio.gather(
            *(
                records.apply_peer_changes(
                    peer.id, [make_mirrored_agent(peer.id, f"agent-{n:02d}", seq=n)], [], n
                )
                for n in range(1, CONCURRENT_BATCHES + 1)
            )
        )
        # Batches ran one after the other: each saw the agents of those before it.
        assert sorted(counts) == list(range(1, CONCURRENT_BATCHES + 1))
        assert len(await self.mirrored(records, peer.id)) == CONCURRENT_BATCHES
        stored = await records.get_peer(peer.id)
        assert stored is not None
        assert stored.change_cursor == CONCURRENT_BATCHES

    # ------------------------------------------------------- mirrored listing

    async def test_pages_cover_every_agent_once_in_code_point_order(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        ids = ["agent-b", "Agent-a", "agent_c", "AGENT-D", "agent-a", "agent.e", "Agent-B"]
        agents = [make_mirrored_agent(peer.id, agent_id) for agent_id in ids]
        await records.apply_peer_changes(peer.id, agents, [], 1)
        pages, after = [], None
        while page := await records.list_mirrored_agents(peer.id, limit=3, after_agent_id=after):
            assert len(page) <= 3
            pages.append([agent.agent_id for agent in page])
            after = page[-1].agent_id
        assert [agent_id for page in pages for agent_id in page] == sorted(ids)
        assert [len(page) for page in pages] == [3, 3, 1]

    async def test_listing_starts_after_an_id_that_is_not_mirrored(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        agents = [make_mirrored_agent(peer.id, agent_id) for agent_id in ("a", "c", "e")]
        await records.apply_peer_changes(peer.id, agents, [], 1)
        listed = await records.list_mirrored_agents(peer.id, limit=10, after_agent_id="b")
        assert listed == agents[1:]
        assert await records.list_mirrored_agents(peer.id, limit=10, after_agent_id="e") == []

    async def test_listing_shows_only_the_peers_agents(
        self, records: RecordsBackend, peer: PeerRecord
    ) -> None:
        other = await records.add_peer(make_peer(2))
        await records.apply_peer_changes(other.id, [make_mirrored_agent(other.id, "a")], [], 1)
        assert await self.mirrored(records, peer.id) == []
        assert await self.mirrored(records, "no-such-peer") == []

    @pytest.mark.parametrize("limit", [0, -1])
    async def test_listing_refuses_a_limit_below_one(
        self, records: RecordsBackend, peer: PeerRecord, limit: int
    ) -> None:
        with pytest.raises(ValueError):
            await records.list_mirrored_agents(peer.id, limit=limit)
