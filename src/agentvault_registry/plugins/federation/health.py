"""The circuit breaker over each peer: how its failure count turns into "skip it for now".

The count lives in the peer's record (updated atomically by the backend), so every process
sharing the records backend sees the same circuit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from agentvault_registry.storage_backends.federation import PeerRecord

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


@dataclass(frozen=True)
class HealthPolicy:
    #: Consecutive failures that open the circuit.
    failure_threshold: int
    #: Seconds the circuit stays open before one query may try the peer again.
    backoff: float


@dataclass(frozen=True)
class Circuit:
    #: :data:`CLOSED` (ask the peer), :data:`OPEN` (skip it) or :data:`HALF_OPEN` (the
    #: back-off is over: one query may try it).
    state: str
    #: When an open circuit lets a trial through.
    retry_at: dt.datetime | None = None


def circuit_state(peer: PeerRecord, policy: HealthPolicy, now: dt.datetime) -> Circuit:
    if peer.consecutive_failures < policy.failure_threshold or peer.last_failure_at is None:
        return Circuit(CLOSED)
    retry_at = peer.last_failure_at + dt.timedelta(seconds=policy.backoff)
    if now < retry_at:
        return Circuit(OPEN, retry_at)
    return Circuit(HALF_OPEN)
