"""Peers: admins add, change and remove them; peers authenticate with the token we issued and
ask for our agents and our change feed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agentvault_registry.core.errors import InvalidCredentials, NotFound, ValidationFailed
from agentvault_registry.core.httpclient.addresses import AddressPolicy
from agentvault_registry.plugins.federation.health import HealthPolicy, circuit_state
from agentvault_registry.plugins.federation.tokens import (
    TokenCipher,
    digests_match,
    new_inbound_token,
    token_digest,
)
from agentvault_registry.plugins.federation.urls import checked_registry_url
from agentvault_registry.storage_backends.agents import AgentEvent
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.federation import (
    PEER_DISABLED,
    PEER_STATUSES,
    PeerRecord,
)

PEER_NOT_FOUND = "No such peer."
#: The one answer to every bad inbound token, so a caller learns nothing about which tokens
#: exist or which peers are disabled.
INVALID_TOKEN = "The federation token is not valid."


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class PeerUrlPolicy:
    allow_http: bool
    addresses: AddressPolicy


@dataclass(frozen=True)
class IssuedPeer:
    peer: PeerRecord
    #: The inbound token in clear: returned once, never stored.
    inbound_token: str


class PeerService:
    def __init__(
        self,
        records: RecordsBackend,
        cipher: TokenCipher,
        url_policy: PeerUrlPolicy,
        health: HealthPolicy,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.records = records
        self.cipher = cipher
        self.url_policy = url_policy
        self.health = health
        self.clock = clock

    # ------------------------------------------------------------------ admin

    async def add(self, fields: Mapping[str, Any]) -> IssuedPeer:
        token, token_digest = new_inbound_token()
        now = self.clock()
        peer = PeerRecord(
            id=str(uuid.uuid4()),
            name=fields["name"].strip(),
            registry_url=await self._checked_url(fields["registry_url"]),
            admin_contact=fields["admin_contact"].strip(),
            status=fields["status"],
            outbound_token=self.cipher.encrypt(fields["federation_access_token"]),
            inbound_token_digest=token_digest,
            created_at=now,
            updated_at=now,
            spiffe_id=fields.get("spiffe_id"),
        )
        return IssuedPeer(await self.records.add_peer(peer), token)

    async def get(self, peer_id: str) -> PeerRecord:
        peer = await self.records.get_peer(peer_id)
        if peer is None:
            raise NotFound(PEER_NOT_FOUND)
        return peer

    async def page(self, page: int, per_page: int) -> tuple[list[PeerRecord], int]:
        """Page ``page`` of the peers, oldest first, and how many there are in all (tens:
        the list is read whole)."""
        peers = await self.records.list_peers()
        return peers[(page - 1) * per_page : page * per_page], len(peers)

    async def update(self, peer_id: str, fields: Mapping[str, Any]) -> PeerRecord:
        changes: dict[str, Any] = {}
        for name in ("name", "admin_contact"):
            if name in fields:
                changes[name] = fields[name].strip()
        if "registry_url" in fields:
            if "federation_access_token" not in fields:
                # The stored token was issued by the registry at the old URL: never send it
                # to another host.
                raise ValidationFailed(
                    details={
                        "federation_access_token": [
                            "A new registry_url needs the token that registry issued."
                        ]
                    }
                )
            changes["registry_url"] = await self._checked_url(fields["registry_url"])
        if "federation_access_token" in fields:
            changes["outbound_token"] = self.cipher.encrypt(fields["federation_access_token"])
        for name in ("spiffe_id", "status"):
            if name in fields:
                changes[name] = fields[name]
        return await self.records.update_peer(peer_id, changes, self.clock())

    async def rotate_inbound_token(self, peer_id: str) -> IssuedPeer:
        """A new inbound token; the old one stops working at once."""
        token, token_digest = new_inbound_token()
        peer = await self.records.update_peer(
            peer_id, {"inbound_token_digest": token_digest}, self.clock()
        )
        return IssuedPeer(peer, token)

    async def delete(self, peer_id: str) -> None:
        if not await self.records.delete_peer(peer_id):
            raise NotFound(PEER_NOT_FOUND)

    async def health_report(self) -> dict[str, Any]:
        now = self.clock()
        peers = await self.records.list_peers()
        counts = {status: 0 for status in PEER_STATUSES}
        report = []
        for peer in peers:
            counts[peer.status] += 1
            circuit = circuit_state(peer, self.health, now)
            report.append(
                {
                    "id": peer.id,
                    "name": peer.name,
                    "registry_url": peer.registry_url,
                    "status": peer.status,
                    "circuit": circuit.state,
                    "retry_at": circuit.retry_at,
                    "consecutive_failures": peer.consecutive_failures,
                    "last_seen_at": peer.last_seen_at,
                    "last_latency_ms": peer.last_latency_ms,
                    "last_error": peer.last_error,
                    "last_failure_at": peer.last_failure_at,
                }
            )
        return {"peers": report, "counts": counts}

    async def _checked_url(self, url: str) -> str:
        return await checked_registry_url(
            url, allow_http=self.url_policy.allow_http, policy=self.url_policy.addresses
        )

    # ------------------------------------------------------------------ inbound

    async def authenticate(self, presented: str) -> PeerRecord:
        """The peer whose inbound token ``presented`` is; 401 for an unknown token or a
        disabled peer, with the same message for both."""
        peer = await self.records.find_peer_by_token_digest(token_digest(presented))
        # The index lookup compares digests, and its timing can tell at most how much of a
        # SHA-256 digest matched, which says nothing of the token. The constant-time check
        # here is the one every secret gets, and holds whatever the backend's collation.
        if peer is None or not digests_match(presented, peer.inbound_token_digest):
            raise InvalidCredentials(INVALID_TOKEN)
        if peer.status == PEER_DISABLED:
            raise InvalidCredentials(INVALID_TOKEN)
        return peer

    async def changes(self, after_seq: int, limit: int) -> tuple[list[AgentEvent], int]:
        """Our change feed after ``after_seq``, and the cursor to continue from."""
        events = await self.records.list_agent_events(after_seq=after_seq, limit=limit)
        return events, events[-1].seq if events else after_seq
