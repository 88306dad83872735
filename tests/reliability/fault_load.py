"""Concurrent API clients for fault injection: each one a developer with its own agents, all
sending a mix of reads and writes over HTTP while a backend is killed and restarted.

Every request has a client-side deadline; one that passes it counts as hung. Every write the
registry acknowledged (2xx) goes into a :class:`Ledger`, which is checked through the API once
the backend is back: an acknowledged write that is missing is a lost write. Importable as
``fault_load`` (the CI test and ``bench/fault_injection.py`` share it).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from registry_harness import PASSWORD, Registry

AGENTS = "/api/v1/agents"
SEARCH = "/api/v1/discovery/agents"
ERROR_KEYS = {"error", "message", "details", "request_id"}
#: The words agents are described with; searches look for one of them.
WORDS = ("harbor", "lantern", "quartz", "meadow")
#: Seconds between two requests of one probe.
PROBE_INTERVAL = 0.05


@dataclass
class Outcome:
    """One request as the client saw it."""

    op: str
    phase: str
    started: float
    latency: float
    status: int | None  # None: hung (no answer within the client deadline)
    problem: str = ""  # why a non-2xx answer does not have the outage shape, if it does not

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Ledger:
    """Acknowledged writes: agents created (with the card name when one was sent) and, per
    agent, the last acknowledged description plus every one attempted after it. A write that
    failed may still have been applied (its answer was lost), so the stored description must
    be the acknowledged one or a later attempt, never an older value."""

    created: dict[str, dict[str, Any]] = field(default_factory=dict)
    acked_description: dict[str, str] = field(default_factory=dict)
    attempted_since: dict[str, list[str]] = field(default_factory=dict)

    def attempt(self, agent_id: str, description: str) -> None:
        self.attempted_since.setdefault(agent_id, []).append(description)

    def ack(self, agent_id: str, description: str) -> None:
        self.acked_description[agent_id] = description
        self.attempted_since[agent_id] = []


class Clock:
    """The phase requests start in: the scenario moves it (``before``, ``outage``...)."""

    def __init__(self) -> None:
        self.phase = "before"
        self.origin = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.origin


@dataclass
class Client:
    """One developer: bearer headers, the agents it created (acknowledged; those registered
    with a card apart), its session."""

    index: int
    name: str
    headers: dict[str, str]
    session: aiohttp.ClientSession
    base: str
    agents: list[str] = field(default_factory=list)
    carded: list[str] = field(default_factory=list)
    counter: itertools.count = field(default_factory=itertools.count)


Operation = Callable[["Load", Client], Awaitable[tuple[str, Any]]]


class Load:
    """Runs ``clients`` developers, each looping over ``operations`` until stopped."""

    def __init__(
        self,
        registry: Registry,
        clients: int,
        operations: Sequence[str],
        *,
        deadline: float,
        card: dict[str, Any] | None = None,
        probes: Sequence[str] = (),
    ) -> None:
        self.registry = registry
        self.client_count = clients
        self.operations = [OPERATIONS[name] for name in operations]
        self.operation_names = list(operations)
        self.deadline = deadline
        self.card = card
        #: Operations each also run in a loop of their own (as one of the clients), so every
        #: one of them is tried throughout a fault however long the mixed requests take.
        self.probes = list(probes)
        self.clock = Clock()
        self.ledger = Ledger()
        self.outcomes: list[Outcome] = []
        #: Per operation, what is wrong with a 2xx answer's body (empty when nothing is).
        self.validators: dict[str, Callable[[str, Any], str]] = {}
        self.clients: list[Client] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    # ------------------------------------------------------------------ lifecycle

    async def sign_up(self) -> None:
        """Each client's account and first agent, made while every backend is up."""
        for index in range(self.client_count):
            name = f"load{index}{uuid.uuid4().hex[:6]}"
            headers = await self.registry.account(name)
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None),
                connector=aiohttp.TCPConnector(limit=4),
            )
            client = Client(index, name, headers, session, self.registry.url)
            self.clients.append(client)
            status, _ = await create_agent(self, client)
            assert status == 201, f"setting up {name}: {status}"

    def start(self) -> None:
        self._stop.clear()
        self._tasks = [asyncio.create_task(self._run(client)) for client in self.clients]
        self._tasks += [
            asyncio.create_task(self._probe(name, self.clients[index % len(self.clients)]))
            for index, name in enumerate(self.probes)
        ]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def close(self) -> None:
        for client in self.clients:
            await client.session.close()

    async def _run(self, client: Client) -> None:
        # Clients start at different operations, so every kind runs at any moment.
        for step in itertools.count(client.index):
            if self._stop.is_set():
                return
            index = step % len(self.operations)
            await self._one(self.operation_names[index], self.operations[index], client)

    async def _probe(self, name: str, client: Client) -> None:
        while not self._stop.is_set():
            await self._one(name, OPERATIONS[name], client)
            await asyncio.sleep(PROBE_INTERVAL)  # a probe, not a flood

    async def _one(self, name: str, operation: Operation, client: Client) -> None:
        phase, started = self.clock.phase, self.clock.now()
        try:
            async with asyncio.timeout(self.deadline):
                status, body = await operation(self, client)
        except TimeoutError:
            self.outcomes.append(Outcome(name, phase, started, self.clock.now() - started, None))
            return
        latency = self.clock.now() - started
        outcome = Outcome(name, phase, started, latency, status)
        if not outcome.ok:
            outcome.problem = outage_shape_problem(status, body)
        elif name in self.validators:
            outcome.problem = self.validators[name](client.name, body["body"])
        self.outcomes.append(outcome)
        if not outcome.ok:
            # A failing backend answers at once: do not spin on it faster than a client would.
            await asyncio.sleep(0.05)

    # ----------------------------------------------------------------- requests

    async def send(
        self, client: Client, method: str, path: str, **kwargs: Any
    ) -> tuple[int, dict[str, Any]]:
        """The status and ``{"body", "headers"}`` of one request as ``client``."""
        async with client.session.request(
            method, client.base + path, headers=client.headers, **kwargs
        ) as response:
            raw = await response.read()
            try:
                body = await response.json(content_type=None) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            return response.status, {"body": body, "headers": dict(response.headers)}


def outage_shape_problem(status: int, answer: Any) -> str:
    """Empty when a failing answer is the outage answer: a 503 with ``Retry-After`` and the
    error JSON; else what is wrong with it."""
    body, headers = answer["body"], answer["headers"]
    if status != 503:
        return f"status {status}: {str(body)[:200]}"
    if not isinstance(body, dict) or set(body) != ERROR_KEYS:
        return f"503 without the error JSON: {str(body)[:200]}"
    retry_after = headers.get("Retry-After", "")
    if not retry_after.isdigit() or int(retry_after) < 1:
        return f"503 without a usable Retry-After: {retry_after!r}"
    return ""


# ------------------------------------------------------------------- operations


def _description(client: Client) -> str:
    word = WORDS[next(client.counter) % len(WORDS)]
    return f"{client.name} keeps the {word} {uuid.uuid4().hex[:8]}."


async def create_agent(load: Load, client: Client) -> tuple[int, Any]:
    name = f"{client.name} agent {next(client.counter)}"
    description = _description(client)
    payload = {
        "name": name,
        "description": description,
        "apiEndpoints": [f"https://{uuid.uuid4().hex[:10]}.example.net/a2a"],
    }
    status, answer = await load.send(client, "POST", AGENTS, json=payload)
    if status == 201:
        agent_id = answer["body"]["id"]
        load.ledger.created[agent_id] = {"name": name, "card": None}
        load.ledger.ack(agent_id, description)
        client.agents.append(agent_id)
    return status, answer


async def create_carded_agent(load: Load, client: Client) -> tuple[int, Any]:
    """An agent registered with an A2A card, which the registry keeps in the blob store."""
    assert load.card is not None
    card_name = f"{client.name} card {next(client.counter)}"
    card = {**load.card, "name": card_name, "description": _description(client)}
    status, answer = await load.send(client, "POST", AGENTS, json={"card": card})
    if status == 201:
        agent_id = answer["body"]["id"]
        load.ledger.created[agent_id] = {"name": card_name, "card": card_name}
        load.ledger.ack(agent_id, answer["body"]["description"])
        client.carded.append(agent_id)
    return status, answer


async def update_agent(load: Load, client: Client) -> tuple[int, Any]:
    agent_id = client.agents[next(client.counter) % len(client.agents)]
    description = _description(client)
    load.ledger.attempt(agent_id, description)
    path = f"{AGENTS}/{agent_id}"
    status, answer = await load.send(client, "PATCH", path, json={"description": description})
    if status == 200:
        load.ledger.ack(agent_id, description)
    return status, answer


async def read_agent(load: Load, client: Client) -> tuple[int, Any]:
    agent_id = client.agents[next(client.counter) % len(client.agents)]
    status, answer = await load.send(client, "GET", f"{AGENTS}/{agent_id}")
    return status, answer


async def read_card(load: Load, client: Client) -> tuple[int, Any]:
    """The card of an agent registered with one (read from the blob store)."""
    agents = client.carded or client.agents  # a derived card until the first carded agent
    agent_id = agents[next(client.counter) % len(agents)]
    status, answer = await load.send(client, "GET", f"{AGENTS}/{agent_id}/card")
    return status, answer


async def search(load: Load, client: Client) -> tuple[int, Any]:
    word = WORDS[next(client.counter) % len(WORDS)]
    status, answer = await load.send(client, "GET", SEARCH, params={"q": word})
    return status, answer


async def federated_search(load: Load, client: Client) -> tuple[int, Any]:
    params = {"q": client.name, "include_federated": "true"}
    status, answer = await load.send(client, "GET", SEARCH, params=params)
    return status, answer


async def log_in(load: Load, client: Client) -> tuple[int, Any]:
    body = {"username": client.name, "password": PASSWORD}
    status, answer = await load.send(client, "POST", "/api/v1/auth/login", json=body)
    return status, answer


async def who_am_i(load: Load, client: Client) -> tuple[int, Any]:
    status, answer = await load.send(client, "GET", "/api/v1/auth/me")
    return status, answer


async def health(load: Load, client: Client) -> tuple[int, Any]:
    status, answer = await load.send(client, "GET", "/health")
    return status, answer


OPERATIONS: dict[str, Operation] = {
    "create": create_agent,
    "create_carded": create_carded_agent,
    "update": update_agent,
    "read": read_agent,
    "read_card": read_card,
    "search": search,
    "federated_search": federated_search,
    "login": log_in,
    "me": who_am_i,
    "health": health,
}


# ------------------------------------------------------------------ verification


async def lost_writes(load: Load) -> tuple[int, list[str]]:
    """Check every acknowledged write through the API: (writes checked, what was lost)."""
    client = load.clients[0]
    lost: list[str] = []
    checked = 0
    owners = {agent_id: c for c in load.clients for agent_id in [*c.agents, *c.carded]}
    for agent_id, created in load.ledger.created.items():
        owner = owners[agent_id]
        status, answer = await load.send(owner, "GET", f"{AGENTS}/{agent_id}")
        checked += 1
        if status != 200:
            lost.append(f"agent {agent_id} created (201) but GET says {status}")
            continue
        agent = answer["body"]
        allowed = [load.ledger.acked_description[agent_id]]
        allowed += load.ledger.attempted_since.get(agent_id, [])
        checked += 1
        if agent["description"] not in allowed:
            lost.append(
                f"agent {agent_id}: description {agent['description']!r}, acknowledged"
                f" {allowed[0]!r}"
            )
        if created["card"] is not None:
            checked += 1
            status, answer = await load.send(client, "GET", f"{AGENTS}/{agent_id}/card")
            if status != 200 or answer["body"].get("name") != created["card"]:
                lost.append(f"card of agent {agent_id}: {status} {str(answer['body'])[:120]}")
    return checked, lost
