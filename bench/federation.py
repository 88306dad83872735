"""Federation fan-out: how much a federated search adds to its slowest peer.

Everything runs in this one process, on loopback: a "home" registry (the real app from
``create_app``: development mode, SQLite records in a temp dir, memory cache, bcrypt cost 4,
login/register/create/search limits raised, the discovery cache and the federation answer
cache off so every search really asks every peer) served by aiohttp's ``AppRunner`` on a free
127.0.0.1 port, and fake peer registries: small aiohttp apps answering
``POST /api/v1/internal/federation/query`` with a valid federation answer (20 agents in the
discovery shape) after a set delay, a "hang" peer that never answers and a "refuse" peer, a
port nothing listens on. An admin (registered over HTTP, made admin through the auth service)
adds the peers through ``POST /api/v1/admin/federation/peers``; a developer's few local
agents are registered through ``POST /api/v1/agents``.

1. Three answering peers at 20 / 50 / 80 ms (default peer_timeout 2 s, deadline 2.5 s):
   ``GET /api/v1/discovery/agents?include_federated=true&q=<word>`` sent one at a time,
   the word rotating. Target (issue F6): the whole request within the slowest peer
   (80 ms) + 15 ms.
2. One peer at 20 ms, one that hangs and one that refuses, peer_timeout = deadline = 1 s,
   on a second home registry: target within 1 s + 50 ms. The failure threshold is raised
   out of reach, so the failing peers are asked on every search rather than skipped once
   their circuit opens (after 3 failures by default).

Latency is the client's wall time from sending the request to the last byte of the answer.
Every answer is checked: HTTP 200, ``federation_status.peers_queried == 3``, each peer's
status (``ok`` / ``timeout`` / ``error``), every agent of each answering peer present (the
page is 60 agents, so none is capped away) and none from the others. Per request the bench
also keeps what the home registry says of itself: ``federation_status.query_time_ms`` (the
fan-out) and each peer's ``latency_ms``, which split the total into the fan-out and what
surrounds it, and times every full (generation 2) garbage collection during the measured
requests: this process is the home registry's, and a full collection stops its event loop.
Once everything is up the bench calls ``freeze_startup_objects`` as ``serve`` does (objects
alive at startup leave the collector's sight); ``--no-gc-freeze`` skips it, to show what the
pauses cost without it. ``--profile FILE`` runs scenario 1 under cProfile
(the home registry, the peers and the client share the one event loop, so the profile has
all of them) and prints the top functions.

    python bench/federation.py [--requests 200] [--slow-requests 20] [--warmup 10]
        [--delays 20,50,80] [--timeout 1.0] [--no-gc-freeze] [--profile /tmp/federation.pstats]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import datetime as dt
import gc
import io
import json
import logging
import os
import platform
import pstats
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
from _harness import free_port, percentile
from aiohttp import web

from agentvault_registry.config.loader import load_configuration
from agentvault_registry.core.app import create_app
from agentvault_registry.core.lifecycle import freeze_startup_objects
from agentvault_registry.core.logs import configure_logging
from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE
from agentvault_registry.plugins.federation.fanout import HOP_HEADER
from agentvault_registry.plugins.federation.schemas import (
    FederationAnswerSchema,
    FederationQuerySchema,
)
from agentvault_registry.plugins.federation.urls import QUERY_PATH

PASSWORD = "benchmark passphrase 2026"
SEARCH_PATH = "/api/v1/discovery/agents"
PEERS_PATH = "/api/v1/admin/federation/peers"
LIMITS = ("auth.login", "auth.login_failures", "auth.register", "agents.create")
#: The words searched, in turn: some match the local agents, most only the peers' (which
#: answer every query alike).
WORDS = (
    "translate",
    "invoice",
    "weather",
    "planner",
    "review",
    "forecast",
    "documents",
    "assistant",
    "search",
    "summarize",
    "agent",
    "travel",
)
LOCAL_AGENTS = (
    ("Polyglot Translator", "Turns documents from one language into another.", "translate"),
    ("Invoice Reader", "Reads invoices and returns their line items.", "extract-tables"),
    ("Travel Planner", "Plans journeys and books them.", "plan-trip"),
    ("Code Reviewer", "Reviews pull requests.", "review-code"),
    ("Weather Oracle", "Forecasts the weather for any city.", "forecast"),
)
#: A failure threshold no run reaches: the hanging and refusing peers are asked on every
#: search instead of being skipped once their circuit opens (after 3 failures by default).
FAILURE_THRESHOLD = 1_000
MAX_SHOWN_FAILURES = 10


# ------------------------------------------------------------------ fake peers


def remote_agent(peer: str, number: int, stamp: str) -> dict[str, Any]:
    """An agent as a registry's discovery answers it (and so as a peer sends it)."""
    agent_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{peer}/{number}"))
    slug = f"{peer}-agent-{number}"
    return {
        "id": agent_id,
        "did": f"did:agentvault:{agent_id}",
        "name": f"{peer.title()} Agent {number}",
        "agentType": ("assistant", "tool", "orchestrator")[number % 3],
        "status": "active",
        "description": f"Agent {number} of the {peer} registry: translates, summarizes, plans.",
        "developerId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{peer}/developer")),
        "apiEndpoints": [f"https://{slug}.example.net/a2a"],
        "capabilities": ["translate", "summarize", f"skill-{number % 7}"],
        "tags": ["language", "bench"],
        "humanReadableId": slug,
        "pricing": {"model": "per_call", "base_price": "0.01", "currency": "USD"},
        "tegWalletAddress": None,
        "metadata": {},
        "verified": number % 2 == 0,
        "verifiedAt": stamp if number % 2 == 0 else None,
        "cardSource": "derived",
        "createdAt": stamp,
        "updatedAt": stamp,
        "a2a": {
            "protocolBindings": ["JSONRPC"],
            "streaming": number % 2 == 1,
            "pushNotifications": False,
            "inputModes": ["text/plain"],
            "outputModes": ["text/plain", "application/json"],
            "securitySchemes": ["apiKey"],
            "extensions": [],
            "skills": ["Translate", "Summarize"],
        },
        "is_federated": False,
        "registry_url": f"https://{peer}.example.net",
    }


class FakePeer:
    """A peer registry answering federation queries after ``delay`` seconds (None: never).

    It checks the bearer token the home registry was given for it, the hop header and the
    query body (by the federation schema), then sleeps, then sends its answer, serialized
    once. Its answer passes ``FederationAnswerSchema``: checked when the peer is built.
    """

    def __init__(self, name: str, delay: float | None, agents: int) -> None:
        self.name = name
        self.delay = delay
        self.token = f"bench-token-{name}-{uuid.uuid4().hex}"
        self.agents = agents
        self.released = asyncio.Event()
        self.answered = 0
        self.refused = 0
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._query = FederationQuerySchema()
        self._answers: dict[int, bytes] = {}

    def _answer(self, limit: int) -> bytes:
        count = min(limit, self.agents)
        if count not in self._answers:
            stamp = dt.datetime(2026, 11, 1, tzinfo=dt.UTC).isoformat()
            document = {
                "agents": [remote_agent(self.name, n, stamp) for n in range(count)],
                "total": self.agents,
                "total_exact": True,
                "registry": {"name": self.name, "url": self.url},
            }
            FederationAnswerSchema().load(document)  # raises if the bench's answer is wrong
            self._answers[count] = json.dumps(document).encode()
        return self._answers[count]

    async def query(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}" or (
            request.headers.get(HOP_HEADER) != "1"
        ):
            self.refused += 1
            return web.json_response({"error": "bad token or no hop header"}, status=401)
        try:
            search = self._query.load(await request.json())
        except ValueError as exc:  # marshmallow's ValidationError is a ValueError
            self.refused += 1
            return web.json_response({"error": str(exc)}, status=422)
        if self.delay is None:
            # "Forever": until the bench stops, bounded so a stray handler cannot outlive it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.released.wait(), 3600)
            return web.json_response({"error": "released"}, status=503)
        await asyncio.sleep(self.delay)
        self.answered += 1
        return web.Response(body=self._answer(search.per_page), content_type="application/json")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(QUERY_PATH, self.query)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self.released.set()
        if self._runner is not None:
            await self._runner.cleanup()


@dataclasses.dataclass
class RefusingPeer:
    """A peer at a loopback port nothing listens on: every connection is refused."""

    name: str
    delay: None = None
    token: str = dataclasses.field(default_factory=lambda: f"bench-token-{uuid.uuid4().hex}")
    url: str = ""

    async def start(self) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"

    async def stop(self) -> None:
        pass


# ---------------------------------------------------------------- home registry


@dataclasses.dataclass(frozen=True)
class Expected:
    """What every answer of a scenario must say of each peer: its status, and whether its
    agents are in the page."""

    statuses: Mapping[str, str]
    agents_per_peer: int

    def problems(self, document: dict[str, Any], peer_urls: Mapping[str, str]) -> list[str]:
        found = []
        status = document.get("federation_status") or {}
        if status.get("requested") is not True:
            found.append(f"federation_status.requested is {status.get('requested')!r}")
        if status.get("peers_queried") != len(self.statuses):
            found.append(f"peers_queried {status.get('peers_queried')} != {len(self.statuses)}")
        seen = {peer.get("name"): peer.get("status") for peer in status.get("peers", [])}
        if seen != dict(self.statuses):
            found.append(f"peer statuses {seen} != {dict(self.statuses)}")
        remote = [agent for agent in document.get("agents", []) if agent.get("is_federated")]
        by_peer = Counter(agent.get("origin_registry_name") for agent in remote)
        wanted = {
            name: self.agents_per_peer for name, state in self.statuses.items() if state == "ok"
        }
        if dict(by_peer) != wanted:
            found.append(f"remote agents per peer {dict(by_peer)} != {wanted}")
        misplaced = [
            agent["id"]
            for agent in remote
            if agent.get("registry_url") != peer_urls.get(agent.get("origin_registry_name"))
        ]
        if misplaced:
            found.append(f"{len(misplaced)} remote agents with a wrong registry_url")
        return found


class HomeRegistry:
    """The real registry app, in this process and this event loop, on 127.0.0.1."""

    def __init__(self, federation: Mapping[str, Any], data_dir: str) -> None:
        overrides = {
            "mode": "development",
            "data_dir": data_dir,
            "server": {"access_log": False},
            "rate_limits": {
                "discovery.search": "1000000/minute",
                **{name: "100000/minute" for name in LIMITS},
            },
            "plugins": {
                "auth": {"bcrypt_cost": 4},
                "discovery": {"cache_ttl": 0},
                "federation": {
                    "allow_http": True,
                    "allow_private_peers": True,
                    "cache_ttl": 0,
                    "failure_threshold": FAILURE_THRESHOLD,
                    **federation,
                },
            },
        }
        settings, pm = load_configuration(
            None, environ={}, overrides=overrides, load_entry_points=False
        )
        self.app = create_app(settings, pm)
        self.runner = web.AppRunner(self.app, access_log=None)
        self.url = ""

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def account(
        self, session: aiohttp.ClientSession, username: str, role: str | None = None
    ) -> dict[str, str]:
        """Register ``username`` over HTTP (optionally given ``role``) and log in."""
        async with session.post(
            f"{self.url}/api/v1/auth/register",
            json={"email": f"{username}@example.org", "username": username, "password": PASSWORD},
        ) as response:
            user = await checked_json(response, 201)
        if role is not None:
            await self.app[AUTH_SERVICE].set_role(user["id"], role)
        async with session.post(
            f"{self.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        ) as response:
            token = (await checked_json(response, 200))["access_token"]
        return {"Authorization": f"Bearer {token}"}

    async def seed(self, session: aiohttp.ClientSession, peers: list[Any]) -> None:
        """A developer's local agents, then every peer added by an admin, over HTTP."""
        developer = await self.account(session, "developer")
        for name, description, capability in LOCAL_AGENTS:
            slug = name.lower().replace(" ", "-")
            body = {
                "name": name,
                "description": description,
                "apiEndpoints": [f"https://{slug}.example.net/a2a"],
                "capabilities": [capability],
            }
            async with session.post(
                f"{self.url}/api/v1/agents", json=body, headers=developer
            ) as response:
                await checked_json(response, 201)
        admin = await self.account(session, "admin", role="admin")
        for peer in peers:
            body = {
                "name": peer.name,
                "registry_url": peer.url,
                "admin_contact": f"admin@{peer.name}.example.org",
                "federation_access_token": peer.token,
            }
            async with session.post(
                f"{self.url}{PEERS_PATH}", json=body, headers=admin
            ) as response:
                await checked_json(response, 201)


async def checked_json(response: aiohttp.ClientResponse, status: int) -> Any:
    body = await response.json()
    if response.status != status:
        raise RuntimeError(f"{response.method} {response.url.path}: {response.status} {body}")
    return body


# -------------------------------------------------------------------- scenarios


@dataclasses.dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    #: The peers' names and delays in seconds ("hang": never answers, "refuse": no server).
    peers: tuple[tuple[str, float | str], ...]
    federation: Mapping[str, Any]
    requests: int
    #: The bound the whole request is held to: the slowest answering peer, or the timeout.
    floor: float
    allowance: float

    @property
    def expected_statuses(self) -> dict[str, str]:
        kinds = {"hang": "timeout", "refuse": "error"}
        return {name: kinds.get(delay, "ok") for name, delay in self.peers}  # type: ignore


@dataclasses.dataclass
class Sample:
    total: float
    #: What the home registry reports: the fan-out, and each peer's latency, in seconds.
    fanout: float
    peer_latency: dict[str, float | None]


@dataclasses.dataclass
class Outcome:
    scenario: Scenario
    samples: list[Sample] = dataclasses.field(default_factory=list)
    failures: list[str] = dataclasses.field(default_factory=list)
    checked: int = 0
    #: How long each full (generation 2) garbage collection during the measured requests
    #: took: the process is the home registry's, so these pauses are the registry's.
    full_collections: list[float] = dataclasses.field(default_factory=list)


class FullCollections:
    """Times every generation-2 collection while enabled."""

    def __init__(self, into: list[float]) -> None:
        self.into = into
        self._started: float | None = None
        self.enabled = False

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if not self.enabled or info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.into.append(time.perf_counter() - self._started)
            self._started = None


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    delays = [float(ms) / 1000 for ms in args.delays.split(",")]
    names = ("near", "middle", "far")
    fast = [(names[i] if i < len(names) else f"peer{i}", d) for i, d in enumerate(delays)]
    return [
        Scenario(
            "answering",
            f"{len(delays)} peers at {'/'.join(f'{d * 1000:g}' for d in delays)} ms",
            tuple(fast),
            {},
            args.requests,
            floor=max(delays),
            allowance=0.015,
        ),
        Scenario(
            "failing",
            f"1 peer at {delays[0] * 1000:g} ms, 1 hanging, 1 refusing; "
            f"peer_timeout = deadline = {args.timeout:g} s",
            (("near", delays[0]), ("hang", "hang"), ("refuse", "refuse")),
            {"peer_timeout": args.timeout, "deadline": args.timeout},
            args.slow_requests,
            floor=args.timeout,
            allowance=0.050,
        ),
    ]


def build_peer(name: str, delay: float | str, agents: int) -> Any:
    if delay == "refuse":
        return RefusingPeer(name)
    return FakePeer(name, None if delay == "hang" else float(delay), agents)


@contextlib.asynccontextmanager
async def running(scenario: Scenario, args: argparse.Namespace) -> AsyncIterator[Any]:
    """The scenario's peers and its home registry, seeded; stopped on the way out."""
    peers = [build_peer(name, delay, args.agents_per_peer) for name, delay in scenario.peers]
    with tempfile.TemporaryDirectory(prefix=f"avreg-bench-federation-{scenario.key}-") as tmp:
        home = HomeRegistry(scenario.federation, os.path.join(tmp, "data"))
        started: list[Any] = []
        try:
            for peer in peers:
                await peer.start()
                started.append(peer)
            await home.start()
            started.append(home)
            async with aiohttp.ClientSession() as session:
                await home.seed(session, peers)
            yield home, peers
        finally:
            # The home first: its client lets go of the peers' connections before they stop.
            for part in reversed(started):
                await part.stop()


async def search_once(
    session: aiohttp.ClientSession, url: str, word: str, per_page: int
) -> tuple[float, int, bytes]:
    params = {"include_federated": "true", "q": word, "per_page": str(per_page)}
    started = time.perf_counter()
    async with session.get(url, params=params) as response:
        body = await response.read()
    return time.perf_counter() - started, response.status, body


async def measure(scenario: Scenario, args: argparse.Namespace, profile: bool) -> Outcome:
    outcome = Outcome(scenario)
    profiler = cProfile.Profile() if profile else None
    collections = FullCollections(outcome.full_collections)
    async with running(scenario, args) as (home, peers):
        if args.gc_freeze:
            await freeze_startup_objects(home.app)
        gc.callbacks.append(collections)
        try:
            await searches(scenario, args, home, peers, outcome, collections, profiler)
        finally:
            collections.enabled = False
            gc.callbacks.remove(collections)
            if args.gc_freeze:
                gc.unfreeze()
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile)
        for peer in peers:
            if getattr(peer, "refused", 0):
                outcome.failures.append(f"peer {peer.name} refused {peer.refused} queries")
    return outcome


async def searches(
    scenario: Scenario,
    args: argparse.Namespace,
    home: HomeRegistry,
    peers: list[Any],
    outcome: Outcome,
    collections: FullCollections,
    profiler: cProfile.Profile | None,
) -> None:
    """The warm-up, then the measured searches, one at a time, every answer checked."""
    per_page = args.agents_per_peer * len(scenario.peers)
    expected = Expected(scenario.expected_statuses, args.agents_per_peer)
    peer_urls = {peer.name: peer.url for peer in peers}
    url = home.url + SEARCH_PATH
    async with aiohttp.ClientSession() as session:
        for number in range(args.warmup + scenario.requests):
            measured = number >= args.warmup
            if number == args.warmup:
                collections.enabled = True
                if profiler is not None:
                    profiler.enable()
            word = WORDS[number % len(WORDS)]
            elapsed, status, body = await search_once(session, url, word, per_page)
            outcome.checked += 1
            label = f"{'request' if measured else 'warm-up'} {number} (q={word})"
            if status != 200:
                outcome.failures.append(f"{label}: HTTP {status}: {body[:200]!r}")
                continue
            document = json.loads(body)
            outcome.failures += [
                f"{label}: {problem}" for problem in expected.problems(document, peer_urls)
            ]
            if measured:
                outcome.samples.append(sample_of(elapsed, document))


def sample_of(elapsed: float, document: dict[str, Any]) -> Sample:
    status = document["federation_status"]
    latencies = {
        peer["name"]: None if peer.get("latency_ms") is None else peer["latency_ms"] / 1000
        for peer in status["peers"]
    }
    return Sample(elapsed, status["query_time_ms"] / 1000, latencies)


# ----------------------------------------------------------------------- report


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


@dataclasses.dataclass(frozen=True)
class Row:
    measure: str
    values: list[float]
    target: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def p99(self) -> float:
        return percentile(self.values, 0.99)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.p99 <= self.target


def rows(outcome: Outcome) -> list[Row]:
    scenario, samples = outcome.scenario, outcome.samples
    floor_ms = f"{scenario.floor * 1000:g} ms"
    totals = [s.total for s in samples]
    answering = [name for name, state in scenario.expected_statuses.items() if state == "ok"]
    result = [
        Row("total (client wall time)", totals),
        Row(f"total - {floor_ms}", [t - scenario.floor for t in totals], scenario.allowance),
        Row("fan-out (federation_status.query_time_ms)", [s.fanout for s in samples]),
        Row("total - fan-out (local search, merge, HTTP)", [s.total - s.fanout for s in samples]),
    ]
    for name, delay in scenario.peers:
        latencies = [s.peer_latency.get(name) for s in samples]
        known = [value for value in latencies if value is not None]
        if not known:
            continue
        if name in answering:
            label = f"peer {name} latency_ms - {float(delay) * 1000:g} ms"
            result.append(Row(label, [value - float(delay) for value in known]))
        else:
            result.append(Row(f"peer {name} latency_ms", known))
    return result


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def print_report(
    args: argparse.Namespace, outcomes: list[Outcome], started: str, load_before: str
) -> None:
    print()
    print(f"federation fan-out, {started}")
    print(f"  command: {shlex.join([os.path.relpath(sys.executable), *sys.argv])}")
    print(
        f"  Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}, "
        f"aiohttp {aiohttp.__version__}; load average {load_before} at the start, "
        f"{load_average()} at the end"
    )
    print(
        f"  every request: GET {SEARCH_PATH}?include_federated=true&q=<word>&per_page=<all>, "
        f"one at a time, after {args.warmup} warm-up requests; {args.agents_per_peer} agents "
        "per answering peer"
    )
    print()
    print("| scenario | measure | median | p99 | max | target (p99) |")
    print("|---|---|---|---|---|---|")
    checks = []
    for outcome in outcomes:
        if not outcome.samples:
            print(f"| {outcome.scenario.title} | no measured answers | | | | |")
            checks.append((outcome.scenario.key, False))
            continue
        title = f"{outcome.scenario.title} (n={len(outcome.samples)})"
        for row in rows(outcome):
            target = ""
            if row.target is not None:
                target = f"<= {ms(row.target)}: {'met' if row.met else 'MISSED'}"
                checks.append((f"{outcome.scenario.key} p99 {row.measure}", bool(row.met)))
            print(
                f"| {title} | {row.measure} | {ms(row.median)} | {ms(row.p99)} "
                f"| {ms(max(row.values))} | {target} |"
            )
            title = ""
    print()
    for outcome in outcomes:
        failures = outcome.failures
        pauses = outcome.full_collections
        longest = f", longest {ms(max(pauses))}" if pauses else ""
        print(
            f"{outcome.scenario.key}: {outcome.checked} answers checked, "
            f"{len(failures)} failures; {len(pauses)} full garbage collections during the "
            f"measured requests{longest}{' (after gc.freeze())' if args.gc_freeze else ''}"
        )
        for failure in failures[:MAX_SHOWN_FAILURES]:
            print(f"  FAILED {failure}")
        if len(failures) > MAX_SHOWN_FAILURES:
            print(f"  ... and {len(failures) - MAX_SHOWN_FAILURES} more")
        checks.append((f"{outcome.scenario.key} answers correct", not failures))
    print()
    print("targets: " + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in checks))
    summary = {
        "date": started,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "gc_freeze": args.gc_freeze,
        "scenarios": {
            outcome.scenario.key: {
                "requests": len(outcome.samples),
                "failures": len(outcome.failures),
                "full_collections_ms": [round(p * 1000, 1) for p in outcome.full_collections],
                **{
                    row.measure: {
                        "median_ms": round(row.median * 1000, 2),
                        "p99_ms": round(row.p99 * 1000, 2),
                        "max_ms": round(max(row.values) * 1000, 2),
                    }
                    for row in (rows(outcome) if outcome.samples else [])
                },
            }
            for outcome in outcomes
        },
        "targets_met": all(ok for _, ok in checks),
    }
    print(json.dumps(summary, separators=(",", ":")))


def print_profile(path: str) -> None:
    out = io.StringIO()
    stats = pstats.Stats(path, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    print(out.getvalue(), file=sys.stderr)


# ------------------------------------------------------------------------- main


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="measured, scenario 1")
    parser.add_argument("--slow-requests", type=int, default=20, help="measured, scenario 2")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured, each scenario")
    parser.add_argument("--delays", default="20,50,80", help="ms, the answering peers")
    parser.add_argument("--timeout", type=float, default=1.0, help="s, scenario 2")
    parser.add_argument("--agents-per-peer", type=int, default=20)
    parser.add_argument(
        "--scenario", choices=("all", "answering", "failing"), default="all", help="which to run"
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile scenario 1 into FILE")
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="skip the gc.freeze() that serve does once started",
    )
    parser.add_argument("--log-level", default="ERROR", help="of the registry's logging")
    args = parser.parse_args()
    bounded = args.warmup + max(args.requests, args.slow_requests)
    if not 1 <= args.requests <= 100_000 or not 1 <= args.slow_requests <= 500:
        parser.error("--requests must be 1-100000 and --slow-requests 1-500")
    if bounded >= FAILURE_THRESHOLD and args.scenario != "answering":
        parser.error(f"warm-up + requests must stay under {FAILURE_THRESHOLD}")
    if args.agents_per_peer * 3 > 100:
        parser.error("--agents-per-peer: at most 33 (a page holds 100 agents)")
    return args


async def run_all(args: argparse.Namespace) -> list[Outcome]:
    outcomes = []
    for scenario in scenarios(args):
        if args.scenario in ("all", scenario.key):
            print(f"running: {scenario.title}", file=sys.stderr, flush=True)
            profile = bool(args.profile) and scenario.key == "answering"
            outcomes.append(await measure(scenario, args, profile))
    return outcomes


def main() -> None:
    args = parse_arguments()
    configure_logging(args.log_level)
    logging.getLogger("aiohttp.access").disabled = True
    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    load_before = load_average()
    outcomes = asyncio.run(run_all(args))
    print_report(args, outcomes, started, load_before)
    if args.profile:
        print_profile(args.profile)


if __name__ == "__main__":
    main()
