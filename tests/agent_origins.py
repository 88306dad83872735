"""An agent's origin on loopback: serves a card (or misbehaves as told) and notes every
request. Shared by the liveness tests and the authorization matrix."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sample_cards import V1_CARD
from support import free_port

CARD_PATH = "/.well-known/agent-card.json"
LEGACY_CARD_PATH = "/.well-known/agent.json"


def card_at(origin: str, **changes: Any) -> dict[str, Any]:
    """The sample A2A card of an agent whose interface is at ``origin``."""
    card = copy.deepcopy(V1_CARD)
    card["supportedInterfaces"][0]["url"] = f"{origin}/a2a"
    return card | changes


@dataclass(frozen=True)
class Seen:
    path: str
    if_none_match: str | None
    #: Loop time of the request's arrival.
    at: float


@dataclass
class Flights:
    """Requests in flight at a group of origins together, and the most there ever were."""

    now: int = 0
    most: int = 0

    def start(self) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def end(self) -> None:
        self.now -= 1


Hold = Callable[["AgentOrigin"], bool]


@dataclass
class AgentOrigin:
    """An agent's origin on loopback: serves ``card`` at ``card_path`` (404 elsewhere),
    answers ``If-None-Match`` with 304 while ``etag`` matches, and notes every request."""

    card: Any = None
    card_path: str = CARD_PATH
    etag: str | None = None
    #: Answer with this status (and no card) instead.
    status: int | None = None
    #: Seconds each answer takes.
    delay: float = 0.0
    #: Never answer (until the origin closes).
    hanging: bool = False
    seen: list[Seen] = field(default_factory=list)
    #: Every origin sharing these counts the requests in flight at all of them.
    flights: Flights = field(default_factory=Flights)
    in_flight: Flights = field(default_factory=Flights)
    port: int = field(default_factory=free_port)
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    #: Answers wait until this says so (asked again whenever a request arrives or ends
    #: here, or at an origin that has this one in its ``watched_by``).
    hold: Hold | None = None
    #: Origins whose held requests look at their ``hold`` again whenever a request arrives
    #: or ends here.
    watched_by: list[AgentOrigin] = field(default_factory=list)
    #: Requests answered.
    answered: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> AgentOrigin:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        return self

    async def stop(self) -> None:
        """Close the port: the origin is down until :meth:`start`."""
        if self._runner is not None:
            self._closing.set()
            await self._runner.cleanup()
            self._runner = None
            self._closing = asyncio.Event()

    async def notify(self) -> None:
        """Let held requests look at ``hold`` again (another origin's state changed)."""
        async with self._changed:
            self._changed.notify_all()

    def requests_to(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        self.seen.append(Seen(request.path, request.headers.get("If-None-Match"), loop.time()))
        self.flights.start()
        self.in_flight.start()
        await self._tell_watchers()
        try:
            if self.hanging:
                await self._closing.wait()
            if self.hold is not None:
                async with self._changed:
                    self._changed.notify_all()
                    await self._changed.wait_for(lambda: self.hold(self))
            if self.delay:
                await asyncio.sleep(self.delay)
            return self._answer(request)
        finally:
            self.flights.end()
            self.in_flight.end()
            self.answered += 1
            await self._tell_watchers()

    async def _tell_watchers(self) -> None:
        for other in self.watched_by:
            await other.notify()

    def _answer(self, request: web.Request) -> web.StreamResponse:
        if self.status is not None:
            return web.Response(status=self.status)
        if request.path != self.card_path or self.card is None:
            return web.Response(status=404)
        headers = {} if self.etag is None else {"ETag": self.etag}
        if self.etag is not None and request.headers.get("If-None-Match") == self.etag:
            return web.Response(status=304, headers=headers)
        return web.json_response(self.card, headers=headers)
