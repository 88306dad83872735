"""Agents API over HTTP on PostgreSQL records: create and read throughput, against a floor.

The registry runs in its own process (PostgreSQL records in a fresh database made for the run
and dropped after it, memory cache, development mode, bcrypt cost 4, limits raised). One
developer registers and logs in; 10,000 agents are seeded through ``POST /api/v1/agents``;
then, from separate load-generator processes (one aiohttp ClientSession with a connection
pool each), closed-loop clients that send the next request as soon as an answer comes:

1. ``POST /api/v1/agents`` by 16 clients: req/s, median, p99. Target >= 200/s.
2. ``GET /api/v1/agents/{id}`` of random seeded ids by 32 clients: req/s, median, p99.
   Target >= 1,500 req/s with p99 < 30 ms.
3. The floor: the same GET load against a bare aiohttp app (its own process, same run) with
   one asyncpg pool answering ``SELECT ... FROM agents WHERE id = $1`` as JSON.

Besides latencies, each phase reports the CPU time spent per request by the server process,
by the PostgreSQL backends of the run's database and by the load generators (from /proc when
PostgreSQL runs on this host): throughput moves with whatever else the machine is doing, CPU
per request much less.

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
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
from _harness import Server, free_port, percentile, post_json, run, wait_until_up

from agentvault_registry.storage_backends.agents import AgentRecord

PASSWORD = "benchmark passphrase 2026"
POOL_SIZE = 10  # the registry's default max_size; the floor gets the same
WARMUP = 1.0  # seconds of load before latencies are recorded
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

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


class Database:
    """A fresh database for the run, made through ``admin_dsn`` and dropped at the end."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.name = f"avreg_bench_{secrets.token_hex(4)}"
        self.dsn = urlunsplit(urlsplit(admin_dsn)._replace(path=f"/{self.name}"))

    async def _admin(self, query: str, *arguments) -> list:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            return await conn.fetch(query, *arguments)
        finally:
            await conn.close()

    def create(self) -> None:
        run(self._admin(f'CREATE DATABASE "{self.name}"'))

    def drop(self) -> None:
        run(self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    def backend_pids(self) -> list[int]:
        """The PostgreSQL server processes serving this database's connections."""
        query = "SELECT pid FROM pg_stat_activity WHERE datname = $1"
        return [row["pid"] for row in run(self._admin(query, self.name))]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process on this host; None when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


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
    """What one load-generator process saw: latencies after the warm-up, totals with it."""

    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    total: int  # requests answered, warm-up included
    cpu: float  # the generator's own CPU seconds, warm-up included


async def get_once(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        await response.read()
        return response.status


async def generate(request, clients: int, seconds: float) -> Load:
    """``clients`` loops calling ``request(session, n)`` back to back for warm-up + seconds."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counter = itertools.count()
    total = 0
    cpu_started, started = time.process_time(), time.monotonic()
    measuring_from, deadline = started + WARMUP, started + WARMUP + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal total
        while (now := time.monotonic()) < deadline:
            begun = time.perf_counter()
            status = await request(session, next(counter))
            total += 1
            if now >= measuring_from:
                latencies.append(time.perf_counter() - begun)
                statuses[status] += 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return Load(seconds, latencies, dict(statuses), total, time.process_time() - cpu_started)


def load_in_processes(make_request, clients: int, seconds: float, processes: int) -> list[Load]:
    """Run ``generate`` in ``processes`` forked processes sharing the clients out."""
    results: multiprocessing.Queue = multiprocessing.Queue()
    base, extra = divmod(clients, processes)
    shares = [base + (1 if number < extra else 0) for number in range(processes)]

    def work(number: int, share: int) -> None:
        results.put(dataclasses.asdict(run(generate(make_request(number), share, seconds))))

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
    server_cpu: float | None
    database_cpu: float | None

    @property
    def latencies(self) -> list[float]:
        return [value for load in self.loads for value in load.latencies]

    @property
    def rate(self) -> float:
        return sum(len(load.latencies) / load.seconds for load in self.loads)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)

    @property
    def failures(self) -> dict[int, int]:
        total: Counter[int] = Counter()
        for load in self.loads:
            total.update({s: n for s, n in load.statuses.items() if not 200 <= s < 300})
        return dict(sorted(total.items()))

    def line(self) -> str:
        latencies = self.latencies
        total = sum(load.total for load in self.loads)

        def per_request(seconds: float | None) -> str:
            return "n/a" if seconds is None else f"{seconds / total * 1e6:,.0f} us"

        return (
            f"| {self.name} | {self.clients} | {self.rate:,.0f} "
            f"| {statistics.median(latencies) * 1000:.2f} ms | {self.p99 * 1000:.2f} ms "
            f"| {max(latencies) * 1000:.2f} ms | {len(latencies):,} "
            f"| {per_request(self.server_cpu)} | {per_request(self.database_cpu)} "
            f"| {per_request(sum(load.cpu for load in self.loads))} |"
        )


class Phase:
    """Runs one load phase, measuring the server's and the database's CPU over it."""

    def __init__(self, args: argparse.Namespace, database: Database) -> None:
        self.args, self.database = args, database

    def __call__(
        self, name: str, server_pid: int, make_request: Callable, clients: int, profile: str
    ) -> Row:
        spy = profile_start(self.args, profile, server_pid, WARMUP + self.args.seconds)
        server_before = cpu_seconds(server_pid)
        database_before = {pid: cpu_seconds(pid) for pid in self.database.backend_pids()}
        loads = load_in_processes(
            make_request, clients, self.args.seconds, self.args.load_processes
        )
        server_after = cpu_seconds(server_pid)
        database_after = {pid: cpu_seconds(pid) for pid in self.database.backend_pids()}
        if spy:
            spy.wait()
        server_cpu = None
        if server_before is not None and server_after is not None:
            server_cpu = server_after - server_before
        database_cpu = None
        if database_after and None not in database_after.values():
            # A backend started during the phase (the pool growing) counts from zero.
            database_cpu = sum(
                after - (database_before.get(pid) or 0.0) for pid, after in database_after.items()
            )
        return Row(name, clients, loads, server_cpu, database_cpu)


def profile_start(
    args: argparse.Namespace, name: str, pid: int, seconds: float
) -> subprocess.Popen | None:
    """``py-spy record`` of a server process over a phase (raw collapsed stacks), if asked."""
    if not (args.py_spy and args.profile_dir):
        return None
    Path(args.profile_dir).mkdir(parents=True, exist_ok=True)
    command = [args.py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds))]
    command += ["--rate", "200", "--format", "raw"]
    command += ["--output", str(Path(args.profile_dir) / f"{name}.txt")]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def agent_body(label: str) -> dict:
    return {
        "name": f"bench agent {label}",
        "description": "An agent registered by bench/agents_api.py.",
        "apiEndpoints": [f"https://agents.example.org/{label}/a2a"],
        "capabilities": ["search", "summarize"],
        "tags": ["bench"],
    }


# ---------------------------------------------------------------------- setup


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
    """``count`` agents created through the API by ``clients`` concurrent clients; their ids."""
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


def getter(base: str, ids: list[str], seed_value: int):
    """A request factory: each load process GETs ids chosen by its own seeded generator."""

    def make(process: int):
        chooser = random.Random(seed_value * 100 + process)

        async def get(session: aiohttp.ClientSession, _: int) -> int:
            return await get_once(session, f"{base}/{chooser.choice(ids)}")

        return get

    return make


def creator(url: str, token: str):
    headers = {"Authorization": f"Bearer {token}"}

    def make(process: int):
        async def create(session: aiohttp.ClientSession, number: int) -> int:
            body = agent_body(f"load-{process}-{number}")
            async with session.post(url, json=body, headers=headers) as response:
                await response.read()
                return response.status

        return create

    return make


# ----------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--agents", type=int, default=10_000, help="agents seeded")
    parser.add_argument("--seed-clients", type=int, default=16)
    parser.add_argument("--create-clients", type=int, default=16)
    parser.add_argument("--get-clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured per phase")
    parser.add_argument("--load-processes", type=int, default=1, help="load generators")
    parser.add_argument("--py-spy", metavar="PATH", help="profile the servers with py-spy")
    parser.add_argument("--profile-dir", metavar="DIR", help="where py-spy writes profiles")
    args = parser.parse_args()

    database = Database(args.dsn)
    database.create()
    phase = Phase(args, database)
    try:
        server = Server(AGENTS_BENCH_CONFIG % {"dsn": database.dsn, "pool": POOL_SIZE})
        server.start()
        assert server.process is not None
        try:
            token = run(developer_token(server.url))
            started = time.perf_counter()
            ids = run(seed(server.url, token, args.agents, args.seed_clients))
            seeding_seconds = time.perf_counter() - started
            agents_url = f"{server.url}/api/v1/agents"
            create = phase(
                "registry `POST /api/v1/agents`",
                server.process.pid,
                creator(agents_url, token),
                args.create_clients,
                "create",
            )
            get = phase(
                "registry `GET /api/v1/agents/{id}`",
                server.process.pid,
                getter(agents_url, ids, 1),
                args.get_clients,
                "get",
            )
        finally:
            lag = server.stop()

        floor = Floor(database.dsn)
        floor.start()
        assert floor.process is not None
        try:
            floor_get = phase(
                "floor: aiohttp + asyncpg `GET /agents/{id}`",
                floor.process.pid,
                getter(f"{floor.url}/agents", ids, 2),
                args.get_clients,
                "floor",
            )
        finally:
            floor.stop()
    finally:
        database.drop()

    print(
        f"agents API on PostgreSQL: {args.seconds:g} s per phase after {WARMUP:g} s warm-up, "
        f"{args.load_processes} load process(es), pool {POOL_SIZE}, {os.cpu_count()} cores"
    )
    print(
        f"seeded {len(ids):,} agents through the API ({args.seed_clients} clients) in "
        f"{seeding_seconds:.1f} s: {len(ids) / seeding_seconds:,.0f} agents/s"
    )
    print()
    print(
        "| measure | clients | req/s | median | p99 | max | requests "
        "| server CPU/req | DB CPU/req | client CPU/req |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = [create, get, floor_get]
    for row in rows:
        print(row.line())
    print()
    for row in rows:
        if row.failures:
            print(f"non-2xx answers, {row.name}: {row.failures}")
    print(
        f"GET vs floor: {get.rate:,.0f} / {floor_get.rate:,.0f} req/s = "
        f"{get.rate / floor_get.rate:.2f} of the floor"
    )
    print(
        f"registry event-loop lag over the run: median {statistics.median(lag) * 1000:.2f} ms, "
        f"p99 {percentile(lag, 0.99) * 1000:.2f} ms"
    )
    verdicts = [
        ("create >= 200/s", create.rate >= 200),
        ("GET >= 1,500 req/s", get.rate >= 1500),
        ("GET p99 < 30 ms", get.p99 < 0.030),
    ]
    print("targets: " + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in verdicts))


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
