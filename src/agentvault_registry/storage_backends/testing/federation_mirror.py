"""Federation conformance: mirrored agents and the change cursor."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from agentvault_registry.core.errors import Conflict, NotFound
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.federation import (
    PeerRecord,
)

from .accounts_data import LATER
from .federation_data import (
    CONCURRENT_BATCHES,
    FederationFixtures,
    make_mirrored_agent,
    make_peer,
)


class FederationMirror(FederationFixtures):
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
