"""The records the ``agents`` plugin keeps: agents and the ordered feed of their changes.

Part of the records interface (:class:`~agentvault_registry.storage_backends.base.RecordsBackend`
inherits :class:`AgentsRecords`). An agent's A2A card document lives in the blob backend; the
record keeps its hash, its blob key and the fields extracted from it for search.

Every write to an agent and the event describing it are committed together, in one
transaction: the change feed never misses a change and never shows one that did not happen.
Updates are optimistic: each record carries a ``version`` that every update must name.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACTIVE = "active"
INACTIVE = "inactive"
DEPRECATED = "deprecated"
DELETED = "deleted"
STATUSES = (ACTIVE, INACTIVE, DEPRECATED, DELETED)

#: Fields of an agent that ``update_agent`` may change.
AGENT_UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "agent_type",
        "status",
        "description",
        "api_endpoints",
        "capabilities",
        "human_readable_id",
        "pricing",
        "teg_wallet_address",
        "metadata",
        "tags",
        "verified",
        "verified_at",
        "card_hash",
        "card_blob_key",
        "card_summary",
        "signature",
    }
)


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
DID_PREFIX = "did:agentvault:"


def reference_lookup(reference: str) -> tuple[str, str]:
    """The one column a reference names, and the value to match: an id, a DID, or else a
    slug (compared lower-cased). Slugs may not look like ids, so the three never collide,
    and each lookup is a single-column index probe."""
    if _UUID.match(reference):
        return "id", reference.lower()
    if reference.startswith(DID_PREFIX):
        return "did", reference
    return "human_readable_id_lower", reference.lower()


@dataclass(frozen=True)
class AgentRecord:
    id: str
    did: str
    name: str
    agent_type: str
    status: str
    description: str
    developer_id: str
    human_readable_id: str
    created_at: dt.datetime
    updated_at: dt.datetime
    api_endpoints: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    pricing: Mapping[str, Any] | None = None
    teg_wallet_address: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    verified: bool = False
    verified_at: dt.datetime | None = None
    #: SHA-256 of the stored card document, and where the blob backend keeps it.
    card_hash: str | None = None
    card_blob_key: str | None = None
    #: Fields extracted from the card for search (skill ids and tags, modes, bindings ...).
    card_summary: Mapping[str, Any] = field(default_factory=dict)
    #: What checking the card's own signatures found (see :func:`signature_status`): status,
    #: and for a valid one the key id and the domain that vouched. Empty: never checked.
    signature: Mapping[str, Any] = field(default_factory=dict)
    #: What probing the agent's origin found (see :func:`health_status`). Written by the
    #: prober without an event or a new version: it describes the agent, the developer did
    #: not change it. Empty: never probed.
    health: Mapping[str, Any] = field(default_factory=dict)
    #: Bumped by every update; the ETag and the If-Match precondition are built on it.
    version: int = 1


SIGNATURE_STATUSES = ("none", "valid", "invalid", "unverifiable")
HEALTH_STATUSES = ("healthy", "degraded", "unreachable", "unknown")


def signature_status(agent: AgentRecord) -> str:
    return agent.signature.get("status", "none")


def health_status(agent: AgentRecord) -> str:
    return agent.health.get("status", "unknown")


@dataclass(frozen=True)
class AgentEvent:
    """One entry of the change feed. ``seq`` is assigned by the backend, strictly increasing."""

    event_type: str
    agent_id: str
    actor_id: str | None
    occurred_at: dt.datetime
    #: The agent as it is after the change (for ``deleted``: the tombstone).
    snapshot: Mapping[str, Any]
    seq: int = 0


@dataclass(frozen=True)
class AgentFilter:
    developer_id: str | None = None
    #: Statuses to include; the default hides tombstones.
    statuses: tuple[str, ...] = (ACTIVE, INACTIVE, DEPRECATED)
    agent_type: str | None = None
    #: Agents whose ``capabilities`` contain this value.
    capability: str | None = None


@dataclass(frozen=True)
class AgentPage:
    agents: list[AgentRecord]
    #: Total matches, counted up to ``count_limit``; ``total_exact`` is False beyond it.
    total: int
    total_exact: bool
    #: Keyset position of the last agent, for the next page; None on the last page.
    next_after: tuple[dt.datetime, str] | None


def agent_snapshot(agent: AgentRecord) -> dict[str, Any]:
    """The agent as plain JSON data, as events carry it: one key per field, timestamps as
    ISO-8601 strings, sequences as lists, mappings as dicts."""
    return {item.name: _jsonable(getattr(agent, item.name)) for item in dataclasses.fields(agent)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


class AgentsRecords(abc.ABC):
    @abc.abstractmethod
    async def create_agent(self, agent: AgentRecord, event: AgentEvent) -> AgentRecord:
        """Insert ``agent`` and append ``event``, atomically; ``Conflict`` with
        ``details={"field": "human_readable_id"}`` when the slug is taken (case-insensitively).

        The stored event's ``agent_id`` and ``snapshot`` are the stored agent's (see
        :func:`agent_snapshot`), whatever ``event`` carries; so for ``update_agent``."""

    @abc.abstractmethod
    async def get_agent(self, reference: str) -> AgentRecord | None:
        """The agent whose id, DID or humanReadableId (case-insensitive) is ``reference``."""

    @abc.abstractmethod
    async def update_agent(
        self,
        agent_id: str,
        expected_version: int,
        changes: Mapping[str, Any],
        event: AgentEvent,
    ) -> AgentRecord:
        """Apply ``changes`` (fields in :data:`AGENT_UPDATABLE_FIELDS`; others are a
        ``ValueError``), set ``updated_at`` to ``event.occurred_at``, bump ``version`` and
        append ``event`` with the new snapshot, atomically — only if the stored version is
        ``expected_version``: ``PreconditionFailed`` otherwise, ``NotFound`` when there is no
        such agent. Of two updates naming the same version, exactly one succeeds."""

    @abc.abstractmethod
    async def list_agents(
        self,
        agent_filter: AgentFilter,
        *,
        limit: int,
        after: tuple[dt.datetime, str] | None = None,
        offset: int = 0,
        count_limit: int = 10_000,
    ) -> AgentPage:
        """Matching agents, newest first (``created_at`` desc, ``id`` desc), after the keyset
        position ``after`` and then ``offset`` rows (page numbers; callers cap it, cursors
        are for going deep); the total is counted only up to ``count_limit``."""

    @abc.abstractmethod
    async def list_agent_events(self, *, after_seq: int = 0, limit: int = 100) -> list[AgentEvent]:
        """Events with ``seq`` greater than ``after_seq``, in ``seq`` order."""
