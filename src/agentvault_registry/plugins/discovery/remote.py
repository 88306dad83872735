"""What a federation plugin exchanges with discovery through ``discover_remote_agents``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Marks a request that is itself federated (a peer asking on a client's behalf): it is
#: answered from local agents only and never passed on to peers, so no topology, loops
#: included, costs more than one hop.
HOP_HEADER = "X-AgentVault-Federation-Hop"

OK = "ok"
TIMEOUT = "timeout"
ERROR = "error"
SKIPPED = "skipped"


@dataclass(frozen=True)
class RemoteQuery:
    """A discovery search as peers are asked it: the client's text and filters, the sort, and
    how many agents the page holds (a peer never needs to send more)."""

    text: str | None
    #: The validated filters, keyed as in ``POST /discovery/search`` (``capabilities`` as
    #: ``{"any": [...], "all": [...]}``, the others as lists or booleans).
    filters: Mapping[str, Any]
    sort: str
    limit: int


@dataclass(frozen=True)
class PeerStatus:
    name: str
    #: :data:`OK`, :data:`TIMEOUT`, :data:`ERROR` or :data:`SKIPPED`.
    status: str
    latency_ms: float | None = None
    error: str | None = None
    #: Answered from the cache of an earlier answer of the peer's, without asking it.
    cached: bool = False
    #: Agents of its answer left out because they lack the peer's valid signature (why is
    #: logged: the reasons quote what the peer sent).
    dropped: int = 0

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "status": self.status}
        body["latency_ms"] = None if self.latency_ms is None else round(self.latency_ms, 1)
        body["cached"] = self.cached
        if self.error is not None:
            body["error"] = self.error
        if self.dropped:
            body["dropped"] = self.dropped
            body["dropped_reason"] = "no valid signature of the peer's"
        return body


@dataclass(frozen=True)
class RemoteResults:
    #: Agents in the discovery shape, each with ``is_federated: true``, ``registry_url`` and
    #: ``origin_registry_name``, in the query's sort order.
    agents: Sequence[Mapping[str, Any]] = ()
    peers: Sequence[PeerStatus] = field(default_factory=tuple)
