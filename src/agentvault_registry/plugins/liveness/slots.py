"""When the prober may send a request: a bound on all of them, and politeness to each host."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


class SlotExpired(Exception):
    """The request's turn came after the time it was allowed to start by."""


@dataclass
class _Host:
    concurrency: asyncio.Semaphore
    #: Held while a request waits out the politeness delay: requests start one by one.
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Loop time before which the next request to the host may not start.
    next_start: float = 0.0
    #: Requests in flight or waiting for this host.
    users: int = 0


class HostSlots:
    """At most ``total`` requests in flight, at most ``per_host`` of them to one host (a
    ``host:port``), and requests to one host starting at least ``delay`` seconds apart.

    A request waits for its host before it takes one of the ``total`` places: the requests
    queued for a busy host hold none of them, so that host never keeps the others waiting.
    """

    def __init__(self, total: int, per_host: int, delay: float) -> None:
        self._total = asyncio.Semaphore(total)
        self._per_host = per_host
        self._delay = delay
        self._hosts: dict[str, _Host] = {}

    @contextlib.asynccontextmanager
    async def request(self, host: str, *, not_after: float | None = None) -> AsyncIterator[None]:
        """Hold a place for one request to ``host`` while the block runs. ``not_after``: the
        loop time after which the request is no longer wanted (:class:`SlotExpired` when its
        turn comes later)."""
        loop = asyncio.get_running_loop()
        slot = self._hosts.get(host)
        if slot is None:
            slot = self._hosts[host] = _Host(asyncio.Semaphore(self._per_host))
        slot.users += 1
        try:
            async with slot.concurrency:
                async with slot.turn:
                    start = max(loop.time(), slot.next_start)
                    if not_after is not None and start > not_after:
                        raise SlotExpired()
                    if start > loop.time():
                        await asyncio.sleep(start - loop.time())
                    await self._total.acquire()
                    # From when it really starts: the wait for a place counts as no delay.
                    slot.next_start = loop.time() + self._delay
                try:
                    yield
                finally:
                    self._total.release()
        finally:
            slot.users -= 1

    def forget_idle(self) -> None:
        """Drop the hosts nothing waits for whose delay has passed; they start afresh."""
        now = asyncio.get_running_loop().time()
        self._hosts = {
            host: slot for host, slot in self._hosts.items() if slot.users or slot.next_start > now
        }
