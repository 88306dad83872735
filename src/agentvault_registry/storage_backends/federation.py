"""The records the ``federation`` plugin keeps: peer registries and mirrors of their agents.

Part of the records interface (:class:`~agentvault_registry.storage_backends.base.RecordsBackend`
inherits :class:`FederationRecords`). A peer is another registry this one queries (with the
outbound token the peer's admin gave us, stored encrypted by the plugin: the backend only
sees ciphertext) and that queries us (with the inbound token we issued, of which only the
SHA-256 digest is stored).

Health bookkeeping is atomic in the backend: two processes recording failures of one peer at
once count two failures, and the peer turns ``unhealthy`` exactly when the count reaches the
threshold, whichever process got there.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PEER_ACTIVE = "active"
PEER_DISABLED = "disabled"
PEER_UNHEALTHY = "unhealthy"
PEER_STATUSES = (PEER_ACTIVE, PEER_DISABLED, PEER_UNHEALTHY)

#: Fields of a peer that ``update_peer`` may change.
PEER_UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "registry_url",
        "admin_contact",
        "status",
        "outbound_token",
        "inbound_token_digest",
        "spiffe_id",
    }
)


@dataclass(frozen=True)
class PeerRecord:
    id: str
    #: Unique, case-insensitively; shown as ``origin_registry_name`` on the peer's agents.
    name: str
    #: The peer's base URL (scheme, host, optional port and path prefix), without a trailing
    #: slash; unique.
    registry_url: str
    admin_contact: str
    #: :data:`PEER_ACTIVE`, :data:`PEER_DISABLED` (by an admin) or :data:`PEER_UNHEALTHY`
    #: (failing; set and cleared by the health bookkeeping).
    status: str
    #: Ciphertext of the token we present to the peer (the plugin encrypts it).
    outbound_token: str
    #: SHA-256 hex digest of the token the peer presents to us; unique.
    inbound_token_digest: str
    created_at: dt.datetime
    updated_at: dt.datetime
    #: The SPIFFE ID the peer's certificate must carry, when mTLS is used.
    spiffe_id: str | None = None
    last_seen_at: dt.datetime | None = None
    last_error: str | None = None
    last_failure_at: dt.datetime | None = None
    consecutive_failures: int = 0
    #: Latency of the last successful query, in milliseconds.
    last_latency_ms: float | None = None
    #: The last ``seq`` of the peer's change feed mirrored here (0: never synced).
    change_cursor: int = 0


@dataclass(frozen=True)
class MirroredAgent:
    """A peer's agent as its change feed last described it."""

    peer_id: str
    #: The agent's id on the peer.
    agent_id: str
    did: str
    #: The agent as the peer's change feed served it (the API shape of agents).
    document: Mapping[str, Any] = field(default_factory=dict)
    #: The change-feed ``seq`` that last touched it.
    seq: int = 0
    #: When this registry stored it: set by the caller (the backend has no clock of its own
    #: here) and stored as given.
    mirrored_at: dt.datetime | None = None


class FederationRecords(abc.ABC):
    @abc.abstractmethod
    async def add_peer(self, peer: PeerRecord) -> PeerRecord:
        """Insert ``peer``; ``Conflict`` with ``details={"field": ...}`` (``name``,
        ``registry_url`` or ``inbound_token_digest``) when that value is taken."""

    @abc.abstractmethod
    async def get_peer(self, peer_id: str) -> PeerRecord | None:
        """The peer with this id, or None."""

    @abc.abstractmethod
    async def find_peer_by_token_digest(self, digest: str) -> PeerRecord | None:
        """The peer whose inbound token has this digest, in whatever status, or None."""

    @abc.abstractmethod
    async def list_peers(self, statuses: Sequence[str] = PEER_STATUSES) -> list[PeerRecord]:
        """Every peer in one of ``statuses``, oldest first (``created_at``, then ``id``).
        A registry has tens of peers, not thousands: the whole list is one read."""

    @abc.abstractmethod
    async def update_peer(
        self, peer_id: str, changes: Mapping[str, Any], now: dt.datetime
    ) -> PeerRecord:
        """Apply ``changes`` (fields in :data:`PEER_UPDATABLE_FIELDS`; others are a
        ``ValueError``) and set ``updated_at`` to ``now``; return the peer as stored.
        ``NotFound`` when there is no such peer, ``Conflict`` as in :meth:`add_peer`.
        Setting ``status`` to active or disabled also resets ``consecutive_failures``."""

    @abc.abstractmethod
    async def delete_peer(self, peer_id: str) -> bool:
        """Remove the peer and its mirrored agents; True when it existed."""

    @abc.abstractmethod
    async def record_peer_success(
        self, peer_id: str, now: dt.datetime, latency_ms: float
    ) -> PeerRecord | None:
        """The peer answered: ``last_seen_at`` = ``now``, ``last_latency_ms``,
        ``consecutive_failures`` = 0, and an ``unhealthy`` peer becomes ``active`` again (a
        disabled one stays disabled). ``last_error`` stays, to go with ``last_failure_at``;
        ``updated_at`` too, which dates the last :meth:`update_peer`. One atomic update;
        None when there is no such peer."""

    @abc.abstractmethod
    async def record_peer_failure(
        self, peer_id: str, now: dt.datetime, error: str, unhealthy_after: int
    ) -> PeerRecord | None:
        """The peer failed: ``consecutive_failures`` + 1, ``last_error``, ``last_failure_at``
        = ``now``, and an ``active`` peer becomes ``unhealthy`` once the count reaches
        ``unhealthy_after`` (or passes it, should the threshold have been lowered meanwhile).
        ``updated_at`` stays, as in :meth:`record_peer_success`. One atomic update
        (concurrent failures all count); None when there is no such peer."""

    @abc.abstractmethod
    async def apply_peer_changes(
        self,
        peer_id: str,
        upserts: Sequence[MirroredAgent],
        deleted_agent_ids: Sequence[str],
        cursor: int,
    ) -> int:
        """In one transaction: store ``upserts`` (replacing the mirrored agent with the same
        ``(peer_id, agent_id)`` unless that one has a higher ``seq``: an older concurrent
        sync never overwrites a newer one), remove ``deleted_agent_ids``, and advance the peer's
        ``change_cursor`` to ``cursor`` (never backwards). Returns the number of agents now
        mirrored for the peer. ``NotFound`` when there is no such peer.

        Every upsert must carry ``peer_id`` (``ValueError`` otherwise, before anything is
        written). Upserts are applied in order, then deletions: an agent named twice in
        ``upserts`` ends as the last says, one also in ``deleted_agent_ids`` ends deleted."""

    @abc.abstractmethod
    async def list_mirrored_agents(
        self, peer_id: str, *, limit: int, after_agent_id: str | None = None
    ) -> list[MirroredAgent]:
        """At most ``limit`` (positive, else ``ValueError``) of the peer's mirrored agents
        in ``agent_id`` order (code points), after ``after_agent_id``; empty for an unknown
        peer."""


# ------------------------------------------------------------ shared by the implementations

#: Column names of the two tables, in the dataclasses' field order.
PEER_FIELDS = tuple(item.name for item in dataclasses.fields(PeerRecord))
MIRROR_FIELDS = tuple(item.name for item in dataclasses.fields(MirroredAgent))
#: What identifies a mirrored agent; an upsert replaces every other field.
MIRROR_KEY = ("peer_id", "agent_id")


def check_upserts_belong_to(peer_id: str, upserts: Sequence[MirroredAgent]) -> None:
    strangers = sorted({agent.peer_id for agent in upserts} - {peer_id})
    if strangers:
        raise ValueError(f"upserts of peer {peer_id!r} name other peers: {strangers}")


def peer_column_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The columns ``update_peer`` writes for ``changes``; ``ValueError`` for a field that
    may not change."""
    unknown = set(changes) - PEER_UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"peers have no updatable field(s) {sorted(unknown)}")
    values = dict(changes)
    if "name" in changes:
        values["name_lower"] = changes["name"].lower()
    # In the same statement as the status: an admin's decision starts the count afresh.
    if changes.get("status") in {PEER_ACTIVE, PEER_DISABLED}:
        values["consecutive_failures"] = 0
    return values
