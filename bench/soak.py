"""Load and soak: a mixed workload against two gunicorn workers for minutes, watching for leaks.

The registry runs as production runs it: ``gunicorn -c deploy/gunicorn.conf.py`` with two
aiohttp workers on one PostgreSQL database (made fresh for the run, dropped after it) and one
Redis (a key prefix of the run's own), access log on. A developer registers and seeds
``--agents`` agents through the API. Then load-generator processes run closed-loop clients for
``--minutes``, each request drawn from this mix:

- 90% reads: discovery browsing (no text), capability filters, the capability list, one agent,
  one agent's A2A card, and the developer's own agent list;
- 9% text searches;
- 1% writes: new agents and PATCHes of seeded ones.

Every ``--sample-seconds`` the resident memory (VmRSS) and open file descriptors of each
worker are read from /proc. The report gives throughput per minute, p50/p99 per route, every
non-2xx answer, and the memory and descriptor series; it fails (exit 1) on any 5xx, on RSS
growth of 10% or more from the first sample after ``--warmup`` to the last, on descriptors that
keep growing, or on a worker that was replaced. Throughput and latency move with whatever else
the machine runs; the workers' CPU time per request, reported per minute, much less.

    python bench/soak.py [--dsn postgresql://postgres@127.0.0.1:5432/test]
        [--redis-url redis://127.0.0.1:6379/0] [--minutes 10] [--clients 16]
        [--load-processes 2] [--agents 2000] [--warmup 60] [--sample-seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import aiohttp
from _harness import free_port, percentile, post_json, run, wait_until_up
from agents_api import PASSWORD, Database, cpu_seconds

GUNICORN_CONF = Path(__file__).parents[1] / "deploy" / "gunicorn.conf.py"
RSS_GROWTH_LIMIT = 0.10
#: Descriptors may move with keep-alive connections and pool sizes; more than this many above
#: the first sample after warm-up, at the end, is a leak.
FD_SLACK = 8
CAPABILITIES = ["search", "summarize", "translate", "plan", "code", "vision", "speech", "math"]
WORDS = ["weather", "invoice", "travel", "legal", "medical", "music", "chess", "recipes"]
RAISED_LIMITS = (
    "AGENTS__CREATE",
    "AUTH__LOGIN",
    "AUTH__REGISTER",
    "DISCOVERY__SEARCH",
)


# ------------------------------------------------------------------ the server


class Workers:
    """The gunicorn arbiter and its two registry workers."""

    def __init__(self, workdir: Path, dsn: str, redis_url: str, workers: int) -> None:
        self.port = free_port()
        self.workdir = workdir
        env = {key: value for key, value in os.environ.items() if not key.startswith("AVREG_")}
        env.update(
            {
                "AVREG_MODE": "production",
                "AVREG_DATA_DIR": str(workdir / "data"),
                "AVREG_SERVER__PUBLIC_URL": f"http://127.0.0.1:{self.port}",
                "AVREG_SECURITY__JWT_SECRET": "s" * 48,
                "AVREG_PLUGINS__FEDERATION__TOKEN_KEY": "f" * 48,
                "AVREG_PLUGINS__AUTH__BCRYPT_COST": "4",
                "AVREG_LOGGING__LEVEL": "WARNING",
                "AVREG_STORAGE__RECORDS__BACKEND": "postgresql",
                "AVREG_STORAGE__RECORDS__DSN": dsn,
                "AVREG_STORAGE__CACHE__BACKEND": "redis",
                "AVREG_STORAGE__CACHE__URL": redis_url,
                "AVREG_STORAGE__CACHE__KEY_PREFIX": f"avreg-soak:{os.getpid()}:",
                "AVREG_STORAGE__BLOBS__ROOT": str(workdir / "blobs"),
                **{f"AVREG_RATE_LIMITS__{name}": "100000000/minute" for name in RAISED_LIMITS},
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "GUNICORN_WORKERS": str(workers),
                "GUNICORN_ACCESSLOG": str(workdir / "access.log"),
                "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
            }
        )
        self.log = (workdir / "gunicorn.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.expected_workers = workers

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return sorted(int(pid) for pid in children.read_text().split())

    def wait_ready(self) -> None:
        wait_until_up(f"{self.url}/ready", f"gunicorn did not start: {self.workdir}", 600)
        for _ in range(200):
            if len(self.worker_pids()) == self.expected_workers:
                return
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not fork {self.expected_workers} workers")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        self.log.close()


@dataclasses.dataclass
class Sample:
    at: float  # seconds since the load started
    rss_kib: dict[int, int]
    fds: dict[int, int]
    cpu: float  # user + system seconds of all workers so far


def cpu_of_minute(samples: list[Sample], minute: int) -> float | None:
    """The workers' CPU seconds between the samples nearest the minute's two ends."""

    def nearest(at: float) -> Sample:
        return min(samples, key=lambda s: abs(s.at - at))

    first, last = nearest(minute * 60), nearest((minute + 1) * 60)
    return last.cpu - first.cpu if last.at > first.at else None


def sample(workers: Workers, started: float) -> Sample:
    rss: dict[int, int] = {}
    fds: dict[int, int] = {}
    for pid in workers.worker_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss[pid] = int(line.split()[1])
        fds[pid] = len(os.listdir(f"/proc/{pid}/fd"))
    cpu = sum(cpu_seconds(pid) or 0.0 for pid in rss)
    return Sample(time.monotonic() - started, rss, fds, cpu)


# ---------------------------------------------------------------- the workload


def agent_body(label: str, chooser: random.Random) -> dict:
    words = chooser.sample(WORDS, 2)
    return {
        "name": f"soak agent {label}",
        "description": f"Answers questions about {words[0]} and {words[1]}.",
        "apiEndpoints": [f"https://agents.example.org/{label}/a2a"],
        "capabilities": chooser.sample(CAPABILITIES, 3),
        "tags": ["soak", words[0]],
    }


class Mix:
    """Draws the next request: (route label, method, path, JSON body or None)."""

    def __init__(self, ids: list[str], chooser: random.Random, process: int) -> None:
        self.ids, self.chooser, self.process = ids, chooser, process
        self.created = 0
        reads = [
            (30, self.browse),
            (15, self.by_capability),
            (5, self.capabilities),
            (25, self.agent),
            (10, self.card),
            (5, self.mine),
        ]
        self.choices = [*reads, (9, self.search), (0.5, self.create), (0.5, self.patch)]
        self.weights = [weight for weight, _ in self.choices]

    def next(self) -> tuple[str, str, str, dict | None]:
        return self.chooser.choices(self.choices, self.weights)[0][1]()

    def browse(self):
        return ("GET /discovery/agents", "GET", "/api/v1/discovery/agents?per_page=20", None)

    def by_capability(self):
        capability = self.chooser.choice(CAPABILITIES)
        path = f"/api/v1/discovery/agents?capabilities={capability}&per_page=20"
        return ("GET /discovery/agents?capabilities", "GET", path, None)

    def capabilities(self):
        return ("GET /discovery/capabilities", "GET", "/api/v1/discovery/capabilities", None)

    def agent(self):
        path = f"/api/v1/agents/{self.chooser.choice(self.ids)}"
        return ("GET /agents/{id}", "GET", path, None)

    def card(self):
        path = f"/api/v1/agents/{self.chooser.choice(self.ids)}/card"
        return ("GET /agents/{id}/card", "GET", path, None)

    def mine(self):
        return ("GET /agents (own)", "GET", "/api/v1/agents?owner=me&per_page=20", None)

    def search(self):
        path = f"/api/v1/discovery/agents?q={self.chooser.choice(WORDS)}&per_page=20"
        return ("GET /discovery/agents?q", "GET", path, None)

    def create(self):
        self.created += 1
        body = agent_body(f"load-{self.process}-{self.created}", self.chooser)
        return ("POST /agents", "POST", "/api/v1/agents", body)

    def patch(self):
        body = {"description": f"Updated by soak process {self.process} at {time.time():.3f}."}
        path = f"/api/v1/agents/{self.chooser.choice(self.ids)}"
        return ("PATCH /agents/{id}", "PATCH", path, body)


@dataclasses.dataclass
class Load:
    """What one load process saw after the warm-up (per route), and per minute with it."""

    latencies: dict[str, list[float]]
    statuses: dict[str, dict[int, int]]
    per_minute: dict[int, int]
    errors: list[str]


async def generate(
    url: str, token: str, ids: list[str], process: int, clients: int, args: argparse.Namespace
) -> Load:
    mix = Mix(ids, random.Random(process), process)
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    per_minute: Counter[int] = Counter()
    errors: list[str] = []
    started = time.monotonic()
    measuring_from, deadline = started + args.warmup, started + args.minutes * 60
    headers = {"Authorization": f"Bearer {token}"}
    # A request that takes this long counts as hung; nothing in the mix should come close.
    timeout = aiohttp.ClientTimeout(total=30)

    async def client(session: aiohttp.ClientSession) -> None:
        while (now := time.monotonic()) < deadline:
            route, method, path, body = mix.next()
            begun = time.perf_counter()
            try:
                async with session.request(
                    method, url + path, json=body, headers=headers, timeout=timeout
                ) as response:
                    await response.read()
                    status = response.status
            except (TimeoutError, aiohttp.ClientError) as error:
                errors.append(f"{route}: {type(error).__name__}: {error}")
                continue
            per_minute[int((now - started) // 60)] += 1
            if now >= measuring_from:
                latencies[route].append(time.perf_counter() - begun)
                statuses[route][status] += 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return Load(
        dict(latencies),
        {route: dict(counts) for route, counts in statuses.items()},
        dict(per_minute),
        errors,
    )


def load_in_processes(url, token, ids, args):
    """Start the load processes; their :class:`Load` results arrive on the returned queue."""
    results: multiprocessing.Queue = multiprocessing.Queue()
    base, extra = divmod(args.clients, args.load_processes)
    shares = [base + (1 if number < extra else 0) for number in range(args.load_processes)]

    def work(number: int, share: int) -> None:
        load = run(generate(url, token, ids, number, share, args))
        results.put(dataclasses.asdict(load))

    processes = [
        multiprocessing.Process(target=work, args=(number, share))
        for number, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    return processes, results


# ---------------------------------------------------------------------- setup


async def developer_session(url: str) -> str:
    async with aiohttp.ClientSession() as session:
        account = {"email": "soak@example.org", "username": "soak", "password": PASSWORD}
        status = await post_json(session, f"{url}/api/v1/auth/register", account)
        assert status == 201, status
        login = {"username": "soak", "password": PASSWORD}
        async with session.post(f"{url}/api/v1/auth/login", json=login) as response:
            assert response.status == 200, await response.text()
            return (await response.json())["access_token"]


async def seed(url: str, token: str, count: int) -> list[str]:
    chooser = random.Random(2026)
    bodies = iter([agent_body(f"seed-{number}", chooser) for number in range(count)])
    ids: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}

    async def client(session: aiohttp.ClientSession) -> None:
        for body in bodies:
            async with session.post(f"{url}/api/v1/agents", json=body, headers=headers) as answer:
                created = await answer.json()
                assert answer.status == 201, created
                ids.append(created["id"])

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(8)))
    return ids


# --------------------------------------------------------------------- report


def merge(loads: list[Load]) -> Load:
    merged = Load(defaultdict(list), defaultdict(Counter), Counter(), [])
    for load in loads:
        for route, values in load.latencies.items():
            merged.latencies[route].extend(values)
        for route, counts in load.statuses.items():
            merged.statuses[route].update({int(s): n for s, n in counts.items()})
        merged.per_minute.update({int(m): n for m, n in load.per_minute.items()})
        merged.errors.extend(load.errors)
    return merged


def report(args, load: Load, samples: list[Sample], replaced: bool, ids: int) -> bool:
    measured = args.minutes * 60 - args.warmup
    total = sum(len(values) for values in load.latencies.values())
    print(
        f"soak: {args.minutes:g} min, {args.clients} clients in {args.load_processes} load "
        f"processes, 2 gunicorn workers, PostgreSQL + Redis, {ids:,} seeded agents, "
        f"{os.cpu_count()} cores; figures after a {args.warmup:g} s warm-up"
    )
    print(
        f"\nthroughput: {total / measured:,.0f} req/s over {measured:,.0f} s ({total:,} requests)"
    )
    minutes = ", ".join(f"{n / 60:,.0f}" for _, n in sorted(load.per_minute.items()))
    print(f"per minute (req/s): {minutes}")
    # Throughput moves with whatever else the machine runs; the CPU one request costs the
    # workers does not, so a registry that slows down by itself shows here.
    costs = []
    for minute, count in sorted(load.per_minute.items()):
        cpu = cpu_of_minute(samples, minute)
        costs.append("n/a" if cpu is None else f"{cpu / count * 1000:.2f}")
    print(f"per minute (worker CPU ms per request): {', '.join(costs)}")
    print("\n| route | share | requests | p50 | p99 | max | non-2xx |")
    print("|---|---|---|---|---|---|---|")
    for route in sorted(load.latencies, key=lambda r: -len(load.latencies[r])):
        values = load.latencies[route]
        failures = {s: n for s, n in sorted(load.statuses[route].items()) if not 200 <= s < 300}
        print(
            f"| `{route}` | {len(values) / total:.1%} | {len(values):,} "
            f"| {percentile(values, 0.50) * 1000:.1f} ms "
            f"| {percentile(values, 0.99) * 1000:.1f} ms "
            f"| {max(values) * 1000:.1f} ms | {failures or 0} |"
        )
    server_errors = sum(
        n for counts in load.statuses.values() for s, n in counts.items() if s >= 500
    )
    baseline = next(s for s in samples if s.at >= args.warmup)
    last = samples[-1]
    print(
        "\n| worker | RSS after warm-up | RSS at end | growth "
        "| fds after warm-up | fds max | fds at end |"
    )
    print("|---|---|---|---|---|---|---|")
    memory_ok = descriptors_ok = True
    for pid, rss in sorted(baseline.rss_kib.items()):
        end = last.rss_kib.get(pid)
        if end is None:
            continue
        growth = (end - rss) / rss
        fd_series = [s.fds[pid] for s in samples if s.at >= args.warmup and pid in s.fds]
        memory_ok &= growth < RSS_GROWTH_LIMIT
        descriptors_ok &= last.fds[pid] <= baseline.fds[pid] + FD_SLACK
        print(
            f"| {pid} | {rss / 1024:.1f} MiB | {end / 1024:.1f} MiB | {growth:+.1%} "
            f"| {baseline.fds[pid]} | {max(fd_series)} | {last.fds[pid]} |"
        )
    series = "; ".join(
        f"{s.at:.0f}s " + "/".join(f"{v / 1024:.0f}" for _, v in sorted(s.rss_kib.items()))
        for s in samples[:: max(1, len(samples) // 12)]
    )
    print(f"RSS series (MiB per worker): {series}")
    print(f"client errors (connection, timeout = hung): {len(load.errors)}")
    for error in load.errors[:10]:
        print(f"  {error}")
    unexpected = sum(
        n for counts in load.statuses.values() for s, n in counts.items() if not 200 <= s < 300
    )
    verdicts = [
        ("0 5xx", server_errors == 0),
        ("every answer 2xx", unexpected == 0),
        ("0 client errors", not load.errors),
        (f"RSS growth < {RSS_GROWTH_LIMIT:.0%}", memory_ok),
        (f"fds stable (end <= after warm-up + {FD_SLACK})", descriptors_ok),
        ("no worker replaced", not replaced),
    ]
    print("verdict: " + ", ".join(f"{name} {'held' if ok else 'FAILED'}" for name, ok in verdicts))
    return all(ok for _, ok in verdicts)


# ----------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before measuring")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--agents", type=int, default=2000, help="agents seeded")
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    args = parser.parse_args()

    database = Database(args.dsn)
    database.create()
    workdir = Path(tempfile.mkdtemp(prefix="avreg-soak-"))
    try:
        workers = Workers(workdir, database.dsn, args.redis_url, workers=2)
        try:
            workers.wait_ready()
            token = run(developer_session(workers.url))
            ids = run(seed(workers.url, token, args.agents))
            first_pids = workers.worker_pids()
            started = time.monotonic()
            processes, results = load_in_processes(workers.url, token, ids, args)
            samples = [sample(workers, started)]
            # Sample until the load ends; a load process exits only once its result is read.
            while time.monotonic() - started < args.minutes * 60:
                time.sleep(args.sample_seconds)
                samples.append(sample(workers, started))
            loads = [Load(**results.get()) for _ in processes]
            for process in processes:
                process.join()
            replaced = workers.worker_pids() != first_pids
        finally:
            workers.stop()
    finally:
        database.drop()
    print(f"(server logs: {workdir})")
    return 0 if report(args, merge(loads), samples, replaced, len(ids)) else 1


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    sys.exit(main())
