"""Mirroring a peer: pulling its agent change feed from where we left off, into our records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from marshmallow import ValidationError

from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.core.httpclient.tls import ServerIdentityContext
from agentvault_registry.plugins.discovery.remote import HOP_HEADER
from agentvault_registry.plugins.federation.schemas import PeerChangesSchema, RemoteAgentSchema
from agentvault_registry.plugins.federation.tokens import TokenCipher
from agentvault_registry.plugins.federation.urls import CHANGES_PATH
from agentvault_registry.storage_backends.agents import DELETED
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.federation import MirroredAgent, PeerRecord

CHANGES = PeerChangesSchema()
REMOTE_AGENT = RemoteAgentSchema()
#: Changes asked for per request.
PAGE_SIZE = 500


class MirrorFailed(Exception):
    """The peer's change feed could not be read, or is not a change feed."""


@dataclass(frozen=True)
class SyncResult:
    peer: str
    changes: int
    mirrored: int
    cursor: int


async def sync_peer(
    records: RecordsBackend,
    client: SafeHttpClient,
    cipher: TokenCipher,
    peer: PeerRecord,
    *,
    now: dt.datetime,
    max_pages: int = 1_000,
    tls: ServerIdentityContext | None = None,
) -> SyncResult:
    """Pull every change after the peer's ``change_cursor`` and apply each page in one
    transaction, so an interrupted sync resumes where the last applied page ended."""
    try:
        token = cipher.decrypt(peer.outbound_token)
    except ValueError as exc:
        raise MirrorFailed(f"{peer.name}: {exc}") from None
    cursor, applied, mirrored = peer.change_cursor, 0, 0
    for _ in range(max_pages):
        result = await client.get_json(
            f"{peer.registry_url}{CHANGES_PATH}?since={cursor}&limit={PAGE_SIZE}",
            headers={"Authorization": f"Bearer {token}", HOP_HEADER: "1"},
            tls=tls,
        )
        try:
            page = CHANGES.load(result.json)
        except ValidationError as exc:
            raise MirrorFailed(f"{peer.name}: the answer is not a change feed") from exc
        changes = page["changes"]
        if not changes:
            break
        upserts: dict[str, MirroredAgent] = {}
        deleted: set[str] = set()
        for change in changes:
            agent_id = change["agentId"]
            if change["type"] == DELETED:
                upserts.pop(agent_id, None)
                deleted.add(agent_id)
                continue
            try:
                # What is mirrored is what a peer's search answer may hold, checked alike.
                agent = REMOTE_AGENT.load(change["agent"])
            except ValidationError as exc:
                raise MirrorFailed(
                    f"{peer.name}: change {change['seq']} holds no valid agent"
                ) from exc
            deleted.discard(agent_id)
            upserts[agent_id] = MirroredAgent(
                peer.id, agent_id, agent["did"], agent, change["seq"], now
            )
        next_cursor = max(change["seq"] for change in changes)
        if next_cursor <= cursor:
            raise MirrorFailed(f"{peer.name}: the change feed does not move forward")
        mirrored = await records.apply_peer_changes(
            peer.id, list(upserts.values()), sorted(deleted), next_cursor
        )
        cursor, applied = next_cursor, applied + len(changes)
        if len(changes) < PAGE_SIZE:
            break
    return SyncResult(peer.name, applied, mirrored, cursor)
