"""The in-process cache: a dict with expiry times, for one registry process.

Every method runs without awaiting inside, so on the single-threaded event loop each one is
atomic. Expired entries are dropped lazily when touched, and when the cache is full (then the
oldest entries go too, so memory stays bounded whatever the callers do).
"""

from __future__ import annotations

import heapq
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from agentvault_registry.core.errors import BackendError
from agentvault_registry.storage_backends.base import CacheBackend
from agentvault_registry.storage_backends.spec import BackendContext


class MemoryCacheOptions(Schema):
    class Meta:
        unknown = RAISE

    max_entries = fields.Integer(load_default=100_000, validate=validate.Range(min=1))


@dataclass(slots=True)
class _Entry:
    value: bytes
    #: ``time.monotonic()`` deadline; None never expires.
    expires_at: float | None


def expiry_deadline(ttl: float | None) -> float | None:
    if ttl is None:
        return None
    if ttl <= 0:
        raise ValueError(f"ttl must be positive seconds or None, not {ttl!r}")
    return time.monotonic() + ttl


def parse_counter(value: bytes) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError("the cached value is not an integer counter") from None


class MemoryCache(CacheBackend):
    name = "memory"

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        # Insertion-ordered, and every write moves its key to the end: the first entry is the
        # one written longest ago, which is what eviction drops when nothing has expired.
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # (deadline, key) for every entry written with a TTL; stale pairs (the key was
        # rewritten or deleted since) are skipped when popped, and pruned when they pile up.
        self._deadlines: list[tuple[float, str]] = []
        self._open = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: BackendContext) -> MemoryCache:
        """Build from options already validated by :class:`MemoryCacheOptions`."""
        return cls(max_entries=options["max_entries"])

    def describe(self) -> str:
        return f"memory (max {self.max_entries} entries)"

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False
        self._entries.clear()
        self._deadlines.clear()

    async def ping(self) -> None:
        self._check_open()

    async def get(self, key: str) -> bytes | None:
        entry = self._live_entry(key)
        return None if entry is None else entry.value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._check_open()
        self._store(key, bytes(value), expiry_deadline(ttl))

    async def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        deadline = expiry_deadline(ttl)
        if self._live_entry(key) is not None:
            return False
        self._store(key, bytes(value), deadline)
        return True

    async def delete(self, key: str) -> bool:
        existed = self._live_entry(key) is not None
        self._entries.pop(key, None)
        return existed

    async def pop(self, key: str) -> bytes | None:
        entry = self._live_entry(key)
        if entry is None:
            return None
        del self._entries[key]
        return entry.value

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        deadline = expiry_deadline(ttl)
        entry = self._live_entry(key)
        if entry is None:
            self._store(key, str(amount).encode(), deadline)
            return amount
        counter = parse_counter(entry.value) + amount
        entry.value = str(counter).encode()
        return counter

    async def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, ttl: float | None = None
    ) -> bool:
        deadline = expiry_deadline(ttl)
        entry = self._live_entry(key)
        current = None if entry is None else entry.value
        if current != expected:
            return False
        self._store(key, bytes(value), deadline)
        return True

    async def ttl(self, key: str) -> float | None:
        entry = self._live_entry(key)
        if entry is None or entry.expires_at is None:
            return None
        return max(0.0, entry.expires_at - time.monotonic())

    # ------------------------------------------------------------------ internals

    def _check_open(self) -> None:
        if not self._open:
            raise BackendError("The memory cache is closed.", backend=self.name)

    def _live_entry(self, key: str) -> _Entry | None:
        self._check_open()
        entry = self._entries.get(key)
        expired = entry is not None and entry.expires_at is not None
        if expired and entry.expires_at <= time.monotonic():
            del self._entries[key]
            return None
        return entry

    def _store(self, key: str, value: bytes, deadline: float | None) -> None:
        if key not in self._entries and len(self._entries) >= self.max_entries:
            self._make_room()
        self._entries[key] = _Entry(value, deadline)
        self._entries.move_to_end(key)
        if deadline is not None:
            heapq.heappush(self._deadlines, (deadline, key))
            if len(self._deadlines) > 2 * len(self._entries) + 64:
                self._prune_deadlines()

    def _make_room(self) -> None:
        now = time.monotonic()
        while self._deadlines and self._deadlines[0][0] <= now:
            deadline, key = heapq.heappop(self._deadlines)
            entry = self._entries.get(key)
            if entry is not None and entry.expires_at == deadline:
                del self._entries[key]
        while len(self._entries) >= self.max_entries:
            self._entries.popitem(last=False)

    def _prune_deadlines(self) -> None:
        self._deadlines = [
            (entry.expires_at, key)
            for key, entry in self._entries.items()
            if entry.expires_at is not None
        ]
        heapq.heapify(self._deadlines)
