"""Helpers shared by the liveness tests: agents' origins on loopback, registries allowed to
reach them, and the requests the tests make."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sample_cards import V1_CARD
from support import ONBOARDING_LIMITS, fast_registry, free_port, merged, sign_up

AGENTS = "/api/v1/agents"
CARD_PATH = "/.well-known/agent-card.json"
LEGACY_CARD_PATH = "/.well-known/agent.json"
#: Limits no test reaches by accident; the rate limit test sets its own.
LIMITS = (*ONBOARDING_LIMITS, "liveness.check")


def app_overrides(liveness: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A registry that may reach origins on loopback, with the scheduled prober off (tests
    run rounds themselves) and no politeness delay unless ``liveness`` says otherwise."""
    options = {"enabled": False, "per_host_delay": 0} | (liveness or {})
    base = fast_registry(
        LIMITS,
        outbound={"allow_private_targets": True},
        plugins={"auth": {"bcrypt_cost": 4}, "liveness": options},
    )
    return merged(base, extra)


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


async def developer(client, username: str, *, role: str | None = None) -> dict[str, str]:
    """Bearer headers of a new account (verified, so it may also mint bootstrap tokens)."""
    return (await sign_up(client, username, role=role)).headers


async def register(client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(AGENTS, json=body, headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


async def register_at(client, headers: dict[str, str], origin: AgentOrigin) -> dict[str, Any]:
    """An agent registered with the card ``origin`` serves (when it serves one)."""
    return await register(client, headers, card=card_at(origin.url))


async def check(client, agent_id: str, headers: dict[str, str], expect: int = 200) -> Any:
    """POST .../health/check; the answer's JSON."""
    response = await client.post(f"{AGENTS}/{agent_id}/health/check", headers=headers)
    assert response.status == expect, await response.text()
    return await response.json()


async def health(client, agent_id: str) -> dict[str, Any]:
    response = await client.get(f"{AGENTS}/{agent_id}/health")
    assert response.status == 200, await response.text()
    return await response.json()
