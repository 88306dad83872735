"""Agents API over HTTP on PostgreSQL records: create and read throughput, against a floor.

The registry runs in its own process (PostgreSQL records in a fresh database made for the run
and dropped after it, memory cache, development mode, bcrypt cost 4, limits raised). One
developer registers and logs in; 10,000 agents are seeded through ``POST /api/v1/agents``;
then, from separate load-generator processes (one aiohttp ClientSession with a connection
pool each):

1. ``POST /api/v1/agents`` by N clients (16) for a while: req/s, median, p99. Target >= 200/s.
2. ``GET /api/v1/agents/{id}`` of random seeded ids by N clients (32): req/s, median, p99.
   Target >= 1,500 req/s with p99 < 30 ms.
3. The floor: the same GET load against a bare aiohttp app (its own process, same run) with
   one asyncpg pool answering ``SELECT ... FROM agents WHERE id = $1`` as JSON.

    python bench/agents_api.py [--dsn postgresql://postgres@127.0.0.1:5432/test]
        [--agents 10000] [--create-clients 16] [--get-clients 32] [--seconds 10]
        [--load-processes 1] [--py-spy PATH --profile-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import multiprocessing
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
from _harness import Server, free_port, percentile, post_json, run, wait_until_up

from agentvault_registry.storage_backends.agents import AgentRecord

PASSWORD = "benchmark passphrase 2026"
POOL_SIZE = 10  # the registry's default max_size; the floor gets the same
WARMUP = 1.0  # seconds of load before latencies are recorded

AGENTS_BENCH_CONFIG = """
mode = "development"
data_dir = "{data_dir}"
[server]
access_log = false
[logging]
level = "WARNING"
[storage.records]
backend = "postgresql"
dsn = "%(dsn)s"
max_size = %(pool)d
[rate_limits]
"agents.create" = "1000000/minute"
"auth.login" = "1000000/minute"
"auth.register" = "1000000/minute"
[plugins.auth]
bcrypt_cost = 4
"""

FLOOR_SCRIPT = """
import json, sys
import asyncpg
from aiohttp import web

dsn, port, columns, pool_size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
query = f"SELECT {columns} FROM agents WHERE id = $1"

async def pool_ctx(app):
    app["pool"] = await asyncpg.create_pool(dsn, min_size=1, max_size=pool_size)
    yield
    await app["pool"].close()

async def get_agent(request):
    async with request.app["pool"].acquire() as conn:
        row = await conn.fetchrow(query, request.match_info["agent_id"])
    if row is None:
        raise web.HTTPNotFound()
    return web.Response(text=json.dumps(dict(row), default=str), content_type="application/json")

async def health(request):
    return web.Response(text="ok")

app = web.Application()
app.cleanup_ctx.append(pool_ctx)
app.router.add_get("/agents/{agent_id}", get_agent)
app.router.add_get("/health", health)
web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
"""


# ---------------------------------------------------------------- the database


def database_dsn(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def create_database(dsn: str, database: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def drop_database(dsn: str, database: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


# ------------------------------------------------------------------ the floor


class Floor:
    """The bare aiohttp + asyncpg app, in its own process."""

    def __init__(self, dsn: str) -> None:
        self.port = free_port()
        self.dsn = dsn
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        columns = ", ".join(item.name for item in dataclasses.fields(AgentRecord))
        self.process = subprocess.Popen(
            [sys.executable, "-c", FLOOR_SCRIPT, self.dsn, str(self.port), columns, str(POOL_SIZE)]
        )
        wait_until_up(f"{self.url}/health", "the floor app did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        self.process.wait(30)


# -------------------------------------------------------------- load generation


@dataclasses.dataclass
class Load:
    """What one load-generator process saw after its warm-up."""

    seconds: float
    latencies: list[float]
    statuses: dict[int, int]


async def get_once(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        await response.read()
        return response.status


async def generate(request, clients: int, seconds: float) -> Load:
    """``clients`` loops calling ``request(session, n)``; latencies after the warm-up only."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counter = itertools.count()
    started = time.monotonic()
    measuring_from, deadline = started + WARMUP, started + WARMUP + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        while (now := time.monotonic()) < deadline:
            begun = time.perf_counter()
            status = await request(session, next(counter))
            if now >= measuring_from:
                latencies.append(time.perf_counter() - begun)
                statuses[status] += 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return Load(seconds, latencies, dict(statuses))


def load_in_processes(make_request, clients: int, seconds: float, processes: int) -> list[Load]:
    """Run ``generate`` in ``processes`` forked processes sharing the clients out."""
    results: multiprocessing.Queue = multiprocessing.Queue()
    shares = [clients // processes + (1 if n < clients % processes else 0) for n in range(processes)]

    def work(number: int, share: int) -> None:
        load = run(generate(make_request(number), share, seconds))
        results.put(dataclasses.asdict(load))

    workers = [
        multiprocessing.Process(target=work, args=(number, share))
        for number, share in enumerate(shares)
    ]
    for worker in workers:
        worker.start()
    loads = [Load(**results.get()) for _ in workers]
    for worker in workers:
        worker.join()
    return loads


@dataclasses.dataclass
class Row:
    name: str
    clients: int
    loads: list[Load]

    @property
    def latencies(self) -> list[float]:
        return [value for load in self.loads for value in load.latencies]

    @property
    def rate(self) -> float:
        return sum(len(load.latencies) / load.seconds for load in self.loads)

    @property
    def statuses(self) -> dict[int, int]:
        total: Counter[int] = Counter()
        for load in self.loads:
            total.update(load.statuses)
        return dict(sorted(total.items()))

    def line(self) -> str:
        latencies = self.latencies
        return (
            f"| {self.name} | {self.clients} | {self.rate:,.0f} "
            f"| {statistics.median(latencies) * 1000:.2f} ms "
            f"| {percentile(latencies, 0.99) * 1000:.2f} ms "
            f"| {max(latencies) * 1000:.2f} ms | {len(latencies):,} | {self.statuses} |"
        )


def agent_body(label: str) -> dict:
    return {
        "name": f"bench agent {label}",
        "description": "An agent registered by bench/agents_api.py.",
        "apiEndpoints": [f"https://agents.example.org/{label}/a2a"],
        "capabilities": ["search", "summarize"],
        "tags": ["bench"],
    }


# ---------------------------------------------------------------------- phases


async def developer_token(url: str) -> str:
    async with aiohttp.ClientSession() as session:
        account = {"email": "developer@example.org", "username": "developer", "password": PASSWORD}
        assert await post_json(session, f"{url}/api/v1/auth/register", account) == 201
        async with session.post(
            f"{url}/api/v1/auth/login", json={"username": "developer", "password": PASSWORD}
        ) as response:
            assert response.status == 200, await response.text()
            return (await response.json())["access_token"]


async def seed(url: str, token: str, count: int, clients: int) -> list[str]:
    ids: list[str] = []
    numbers = iter(range(count))
    headers = {"Authorization": f"Bearer {token}"}

    async def client(session: aiohttp.ClientSession) -> None:
        for number in numbers:
            async with session.post(
                f"{url}/api/v1/agents", json=agent_body(f"seed-{number}"), headers=headers
            ) as response:
                body = await response.json()
                assert response.status == 201, body
                ids.append(body["id"])

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return ids


class Profiler:
    """``py-spy record`` of the server process during a phase, when asked for."""

    def __init__(self, py_spy: str | None, directory: str | None, pid: int) -> None:
        self.py_spy, self.pid = py_spy, pid
        self.directory = Path(directory) if directory else None
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, seconds: float) -> subprocess.Popen | None:
        if not (self.py_spy and self.directory):
            return None
        return subprocess.Popen(
            [
                self.py_spy,
                "record",
                "--pid",
                str(self.pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(self.directory / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--agents", type=int, default=10_000, help="agents seeded")
    parser.add_argument("--seed-clients", type=int, default=32)
    parser.add_argument("--create-clients", type=int, default=16)
    parser.add_argument("--get-clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured per phase")
    parser.add_argument("--load-processes", type=int, default=1, help="load generators")
    parser.add_argument("--py-spy", metavar="PATH", help="profile the server with py-spy")
    parser.add_argument("--profile-dir", metavar="DIR", help="where py-spy writes its profiles")
    args = parser.parse_args()

    database = f"avreg_bench_{secrets.token_hex(4)}"
    bench_dsn = database_dsn(args.dsn, database)
    run(create_database(args.dsn, database))
    rows: list[Row] = []
    try:
        server = Server(AGENTS_BENCH_CONFIG % {"dsn": bench_dsn, "pool": POOL_SIZE})
        server.start()
        assert server.process is not None
        profiler = Profiler(args.py_spy, args.profile_dir, server.process.pid)
        try:
            token = run(developer_token(server.url))
            started = time.perf_counter()
            ids = run(seed(server.url, token, args.agents, args.seed_clients))
            seeding_seconds = time.perf_counter() - started
            headers = {"Authorization": f"Bearer {token}"}

            def creator(process: int):
                async def create(session: aiohttp.ClientSession, number: int) -> int:
                    body = agent_body(f"load-{process}-{number}")
                    async with session.post(
                        f"{server.url}/api/v1/agents", json=body, headers=headers
                    ) as response:
                        await response.read()
                        return response.status

                return create

            def getter(base: str, seed_value: int):
                def make(process: int):
                    chooser = random.Random(seed_value * 100 + process)

                    async def get(session: aiohttp.ClientSession, _: int) -> int:
                        return await get_once(session, f"{base}/{chooser.choice(ids)}")

                    return get

                return make

            spy = profiler.start("create", WARMUP + args.seconds)
            rows.append(
                Row(
                    "registry `POST /api/v1/agents`",
                    args.create_clients,
                    load_in_processes(
                        creator, args.create_clients, args.seconds, args.load_processes
                    ),
                )
            )
            if spy:
                spy.wait()
            spy = profiler.start("get", WARMUP + args.seconds)
            rows.append(
                Row(
                    "registry `GET /api/v1/agents/{id}`",
                    args.get_clients,
                    load_in_processes(
                        getter(f"{server.url}/api/v1/agents", 1),
                        args.get_clients,
                        args.seconds,
                        args.load_processes,
                    ),
                )
            )
            if spy:
                spy.wait()
        finally:
            lag = server.stop()

        floor = Floor(bench_dsn)
        floor.start()
        try:
            rows.append(
                Row(
                    "floor: aiohttp + asyncpg `GET /agents/{id}`",
                    args.get_clients,
                    load_in_processes(
                        getter(f"{floor.url}/agents", 2),
                        args.get_clients,
                        args.seconds,
                        args.load_processes,
                    ),
                )
            )
        finally:
            floor.stop()
    finally:
        run(drop_database(args.dsn, database))

    print(
        f"agents API on PostgreSQL: {args.seconds:g} s per phase after {WARMUP:g} s warm-up, "
        f"{args.load_processes} load process(es), pool {POOL_SIZE}, {os.cpu_count()} cores"
    )
    print(
        f"seeded {len(ids):,} agents over HTTP ({args.seed_clients} clients) in "
        f"{seeding_seconds:.1f} s: {len(ids) / seeding_seconds:,.0f} agents/s"
    )
    print()
    print("| measure | clients | req/s | median | p99 | max | requests | statuses |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row.line())
    create, get, floor_row = rows
    print()
    print(
        f"GET vs floor: {get.rate:,.0f} / {floor_row.rate:,.0f} req/s = "
        f"{get.rate / floor_row.rate:.2f} of the floor"
    )
    print(
        f"server event-loop lag over the run: median {statistics.median(lag) * 1000:.2f} ms, "
        f"p99 {percentile(lag, 0.99) * 1000:.2f} ms"
    )
    get_p99 = percentile(get.latencies, 0.99) * 1000
    verdicts = [
        ("create >= 200/s", create.rate >= 200),
        ("GET >= 1,500 req/s", get.rate >= 1500),
        ("GET p99 < 30 ms", get_p99 < 30),
    ]
    print("targets: " + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in verdicts))


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
