"""Federation conformance: the health bookkeeping of peers, atomic across callers."""

from __future__ import annotations

import asyncio
import dataclasses

from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.federation import (
    PEER_ACTIVE,
    PEER_DISABLED,
    PEER_UNHEALTHY,
    PeerRecord,
)

from .accounts_data import LATER, SOON
from .federation_data import (
    CONCURRENT_FAILURES,
    UNHEALTHY_AFTER,
    FederationFixtures,
    make_peer,
)


class FederationHealth(FederationFixtures):
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
