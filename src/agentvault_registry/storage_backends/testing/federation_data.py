"""Shared pieces of the federation conformance suite: sample peers and mirrored agents, and
the fixtures and helpers every part of it uses."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.federation import (
    PEER_ACTIVE,
    MirroredAgent,
    PeerRecord,
)

from .accounts_data import NOW, SOON

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


class FederationFixtures:
    """The subclass (named ``Test...`` so pytest collects it) provides one async fixture:

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
