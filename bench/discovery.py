"""Discovery at scale: latency per query class, on the records backend and over HTTP.

Seeds N synthetic agents (``bench/discovery_corpus.py``: Zipf vocabulary and capabilities,
an A2A card each) through ``records.import_agents`` into an empty database, runs ANALYZE
(PostgreSQL: VACUUM ANALYZE, as after any bulk load), then measures p50/p99 of each query
class, every one with the ``status:active`` group, 20 agents a page, totals counted up to
1,000 and relevance ranking at most 1,000 candidates:

- common / medium / rare word: a word around the 5th most frequent, one in 0.5-1% of the
  agents, one in 5-19 agents, sorted by relevance;
- capability: one of the most used capabilities, newest first;
- A2A: a protocol binding and ``streaming=true``, newest first;
- combined: a medium word, a common capability and the A2A filter, by relevance;
- deep cursor page: newest first from a keyset position ~50,000 active agents down.

Each class rotates through five terms of its kind picked from the generated data, so no
round repeats the previous one's plan or page. Directly, the bench calls ``search_agents`` on
the backend. Over HTTP, it starts ``agentvault-registry serve`` on the same database (its
discovery cache off, the ``discovery.search`` limit raised) and asks
``GET /api/v1/discovery/agents`` the same searches one at a time, then measures throughput
with 16 concurrent clients mixing every class.

Targets (issue F5): PostgreSQL 1,000,000 agents, every class p50 < 10 ms and p99 < 50 ms,
and >= 400 searches/s over HTTP; SQLite 100,000 agents p99 < 15 ms, 1,000,000 p99 < 50 ms.

    python bench/discovery.py --backend sqlite --agents 100000 --path /tmp/avreg-disc-100k.db
    python bench/discovery.py --backend postgresql --agents 1000000 \\
        --dsn postgresql://postgres@127.0.0.1:5432/avreg_bench
    # --reuse: measure a database an earlier run seeded with the same --agents

The database must be empty, or hold exactly N agents with ``--reuse``; the bench never adds to
a database that holds anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
from _harness import free_port, percentile
from agents_api import Load, cpu_seconds, generate
from discovery_corpus import Corpus, QueryTerms

from agentvault_registry.config.secrets import Secret
from agentvault_registry.plugins.discovery.cursors import encode_cursor
from agentvault_registry.storage_backends.agents import STATUSES, AgentFilter
from agentvault_registry.storage_backends.base import RecordsBackend
from agentvault_registry.storage_backends.discovery import (
    DiscoveryQuery,
    SortKey,
    plain_words,
    term,
)
from agentvault_registry.storage_backends.postgresql import PostgresRecords
from agentvault_registry.storage_backends.sqlite import SqliteRecords

PER_PAGE = 20
COUNT_LIMIT = 1_000
RANK_LIMIT = 1_000
ACTIVE = (term("status", "active"),)
STREAMING = (term("streaming", True),)
SEARCH_PATH = "/api/v1/discovery/agents"

SERVE_CONFIG = """
mode = "development"
data_dir = "{data_dir}"
[server]
host = "127.0.0.1"
access_log = false
[logging]
level = "WARNING"
[storage.records]
{records}
[rate_limits]
"discovery.search" = "1000000/minute"
[plugins.discovery]
cache_ttl = 0  # every search reaches the index
"""


# ------------------------------------------------------------------ probes


@dataclasses.dataclass(frozen=True)
class Probe:
    """One search of a query class, as the records backend and as HTTP are asked it."""

    label: str
    query: DiscoveryQuery
    params: dict[str, str]
    after: SortKey | None = None
    #: The active agents with the term, as the corpus counted them (single-term classes).
    expected: int | None = None


def word_probe(word: str, expected: int) -> Probe:
    query = DiscoveryQuery(words=plain_words(word), groups=(ACTIVE,), sort="relevance")
    return Probe(word, query, {"q": word, "sort": "relevance"}, expected=expected)


def capability_probe(capability: str, expected: int) -> Probe:
    groups = (ACTIVE, (term("capability", capability),))
    params = {"capabilities": capability}
    return Probe(capability, DiscoveryQuery(groups=groups), params, expected=expected)


def a2a_probe(binding: str, expected: int) -> Probe:
    groups = (ACTIVE, (term("binding", binding),), STREAMING)
    params = {"protocol_binding": binding, "streaming": "true"}
    label = f"{binding}+streaming"
    return Probe(label, DiscoveryQuery(groups=groups), params, expected=expected)


def combined_probe(word: str, capability: str, binding: str) -> Probe:
    groups = (ACTIVE, (term("capability", capability),), (term("binding", binding),), STREAMING)
    query = DiscoveryQuery(words=plain_words(word), groups=groups, sort="relevance")
    params = {
        "q": word,
        "capabilities": capability,
        "protocol_binding": binding,
        "streaming": "true",
        "sort": "relevance",
    }
    return Probe(f"{word} {capability} {binding}+streaming", query, params)


def deep_probe(position: SortKey) -> Probe:
    params = {"cursor": encode_cursor("created_at", position), "sort": "created_at"}
    return Probe(position[0].isoformat(), DiscoveryQuery(groups=(ACTIVE,)), params, position)


def probes(terms: QueryTerms) -> dict[str, list[Probe]]:
    """Every query class and the searches it rotates through."""
    combined = zip(
        itertools.cycle(terms.medium_words),
        itertools.cycle(terms.common_capabilities),
        itertools.cycle(terms.a2a_bindings),
        strict=False,
    )
    counted = terms.documents
    return {
        "common word": [word_probe(w, counted[f"word:{w}"]) for w in terms.common_words],
        "medium word": [word_probe(w, counted[f"word:{w}"]) for w in terms.medium_words],
        "rare word": [word_probe(w, counted[f"word:{w}"]) for w in terms.rare_words],
        "capability": [
            capability_probe(name, counted[f"capability:{name}"])
            for name in terms.common_capabilities
        ],
        "A2A filter": [
            a2a_probe(binding, counted[f"a2a:{binding}+streaming"])
            for binding in terms.a2a_bindings
        ],
        "combined": [combined_probe(*parts) for parts in itertools.islice(combined, 5)],
        "deep cursor page": [deep_probe(position) for position in terms.deep_keys],
    }


def rounds_of(classes: dict[str, list[Probe]], rounds: int) -> Iterator[tuple[str, Probe]]:
    """Classes interleaved round by round, each round taking the next term of each class, so
    no class runs only while the caches are warm from its own previous search."""
    for number in range(rounds):
        for name, class_probes in classes.items():
            yield name, class_probes[number % len(class_probes)]


@dataclasses.dataclass(frozen=True)
class Matched:
    """What one search found, in the warm-up: its total and whether that was all."""

    probe: Probe
    total: int
    exact: bool

    def __str__(self) -> str:
        return f"{self.probe.label}: {self.total}{'' if self.exact else '+'}"

    @property
    def plausible(self) -> bool:
        """Whether the total agrees with the corpus's count, where there is one."""
        expected = self.probe.expected
        if expected is None:
            return True
        return self.total == expected if self.exact else self.total < expected


@dataclasses.dataclass
class ClassResult:
    latencies: list[float] = dataclasses.field(default_factory=list)
    matches: list[Matched] = dataclasses.field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)


# ------------------------------------------------------------------ direct


async def search(records: RecordsBackend, probe: Probe) -> tuple[int, bool]:
    page = await records.search_agents(
        probe.query,
        limit=PER_PAGE,
        after=probe.after,
        count_limit=COUNT_LIMIT,
        rank_limit=RANK_LIMIT,
    )
    return page.total, page.total_exact


async def measure_direct(
    records: RecordsBackend, classes: dict[str, list[Probe]], rounds: int
) -> dict[str, ClassResult]:
    results = {name: ClassResult() for name in classes}
    for name, class_probes in classes.items():  # the warm-up, which also says what matches
        for probe in class_probes:
            results[name].matches.append(Matched(probe, *await search(records, probe)))
    for name, probe in rounds_of(classes, rounds):
        started = time.perf_counter()
        await search(records, probe)
        results[name].latencies.append(time.perf_counter() - started)
    return results


# -------------------------------------------------------------------- HTTP


class RegistryProcess:
    """``agentvault-registry serve`` on the benchmark's database, in its own process."""

    def __init__(self, records_section: str) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="avreg-bench-discovery-"))
        self.port = free_port()
        self.config = self.workdir / "registry.toml"
        self.config.write_text(
            SERVE_CONFIG.format(data_dir=self.workdir / "data", records=records_section)
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = Path(sys.executable).with_name("agentvault-registry")
        env = {key: value for key, value in os.environ.items() if not key.startswith("AVREG_")}
        log = self.workdir / "server.log"
        self.process = subprocess.Popen(
            [command, "serve", "--config", self.config, "--port", str(self.port)],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up(log)

    def _wait_until_up(self, log: Path) -> None:
        """Until ``/health`` answers; a registry that exits fails at once, with its log."""
        assert self.process is not None
        # A minute at most: startup migrates, which checks (not rebuilds) the search index.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the registry exited: {log.read_text().strip()[-500:]}")
            try:
                urllib.request.urlopen(f"{self.url}/health", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the registry did not answer within a minute; see {log}")

    def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        self.process.wait(30)


async def get_search(session: aiohttp.ClientSession, url: str, probe: Probe) -> dict[str, Any]:
    async with session.get(url, params=probe.params) as response:
        body = await response.json()
        if response.status != 200:
            raise RuntimeError(f"{probe.params} answered {response.status}: {body}")
        return body


async def measure_http(
    base: str, classes: dict[str, list[Probe]], rounds: int
) -> dict[str, ClassResult]:
    url = base + SEARCH_PATH
    results = {name: ClassResult() for name in classes}
    async with aiohttp.ClientSession() as session:
        for name, class_probes in classes.items():
            for probe in class_probes:
                pagination = (await get_search(session, url, probe))["pagination"]
                matched = Matched(probe, pagination["total"], pagination["total_exact"])
                results[name].matches.append(matched)
        for name, probe in rounds_of(classes, rounds):
            started = time.perf_counter()
            await get_search(session, url, probe)
            results[name].latencies.append(time.perf_counter() - started)
    return results


@dataclasses.dataclass(frozen=True)
class Throughput:
    load: Load
    #: CPU seconds of the registry process and of PostgreSQL's backends for its database
    #: (None on SQLite, whose work is the registry process's), warm-up included like
    #: ``load.total``.
    server_cpu: float | None
    database_cpu: float | None

    @property
    def rate(self) -> float:
        return len(self.load.latencies) / self.load.seconds

    def per_search(self, cpu: float | None) -> str:
        return "n/a" if cpu is None else ms(cpu / self.load.total)


def throughput(
    server: RegistryProcess, database: Database, classes: dict[str, list[Probe]], args: Any
) -> Throughput:
    """``args.clients`` closed-loop clients cycling through every search of every class, and
    the CPU the registry and the database spent on them: on a 2-core machine shared by the
    registry, the database and the clients, CPU per search says more than searches/s."""
    mix = [probe for class_probes in classes.values() for probe in class_probes]
    url = server.url + SEARCH_PATH

    async def request(session: aiohttp.ClientSession, number: int) -> int:
        async with session.get(url, params=mix[number % len(mix)].params) as response:
            await response.read()
            return response.status

    assert server.process is not None
    server_before, database_before = cpu_seconds(server.process.pid), database.backend_cpu()
    load = asyncio.run(generate(request, args.clients, args.seconds))
    server_after, database_after = cpu_seconds(server.process.pid), database.backend_cpu()
    server_cpu = None if None in (server_before, server_after) else server_after - server_before
    return Throughput(load, server_cpu, database_cpu(database_before, database_after))


def database_cpu(
    before: dict[int, float | None] | None, after: dict[int, float | None] | None
) -> float | None:
    """CPU seconds PostgreSQL's backends spent between two readings; None when unknown."""
    if before is None or after is None or None in after.values():
        return None
    # A backend that started in between (the pool growing) counts from zero.
    return sum(spent - (before.get(pid) or 0.0) for pid, spent in after.items())


# ----------------------------------------------------------------- database


class Database:
    """The benchmark's records database: opening, counting, seeding and analysing it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        if args.backend == "sqlite":
            self.records: RecordsBackend = SqliteRecords(Path(args.path))
        else:
            self.records = PostgresRecords(Secret(args.dsn))

    @property
    def serve_section(self) -> str:
        """The ``[storage.records]`` config for a registry on this database."""
        if self.args.backend == "sqlite":
            return f'backend = "sqlite"\npath = "{self.args.path}"'
        return f'backend = "postgresql"\ndsn = "{self.args.dsn}"'

    @property
    def terms_file(self) -> Path:
        """Where the query terms of a seeded database are kept, for ``--reuse``."""
        if self.args.backend == "sqlite":
            return Path(f"{self.args.path}.terms.json")
        name = urlsplit(self.args.dsn).path.strip("/")
        return Path(tempfile.gettempdir()) / f"avreg-discovery-{name}.terms.json"

    def backend_cpu(self) -> dict[int, float | None] | None:
        """CPU seconds of each PostgreSQL backend serving this database (on this host)."""
        if self.args.backend == "sqlite":
            return None

        async def backend_pids() -> list[int]:
            conn = await asyncpg.connect(self.args.dsn)
            try:
                rows = await conn.fetch(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            finally:
                await conn.close()
            return [row["pid"] for row in rows]

        return {pid: cpu_seconds(pid) for pid in asyncio.run(backend_pids())}

    async def agent_count(self, at_most: int) -> int:
        page = await self.records.list_agents(
            AgentFilter(statuses=STATUSES), limit=1, count_limit=at_most
        )
        return page.total

    async def seed(self, corpus: Corpus) -> None:
        for user in corpus.developer_users():
            if await self.records.get_user(user.id) is None:
                await self.records.create_user(user)
        started = time.perf_counter()
        importing = 0.0
        done = 0
        for batch in batched(corpus.records(), self.args.batch):
            batch_started = time.perf_counter()
            await self.records.import_agents(batch)
            importing += time.perf_counter() - batch_started
            done += len(batch)
            if done % 100_000 < len(batch) or done == corpus.count:
                elapsed = time.perf_counter() - started
                print(
                    f"  seeded {done:,} / {corpus.count:,} agents in {elapsed:.0f} s: "
                    f"{done / elapsed:,.0f}/s ({importing / elapsed:.0%} of it in import_agents)",
                    flush=True,
                )

    async def analyse(self) -> None:
        if self.args.backend == "sqlite":
            await asyncio.to_thread(sqlite_analyse, self.args.path)
            return
        conn = await asyncpg.connect(self.args.dsn)
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()


def sqlite_analyse(path: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("ANALYZE")


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


async def prepare(database: Database, args: argparse.Namespace) -> QueryTerms:
    """The open database seeded with ``args.agents`` agents, and the query terms of its
    corpus."""
    started = time.perf_counter()
    # Rebuilds a search index that older code built (another INDEX_VERSION): minutes at a
    # million agents, so say how long it took.
    await database.records.migrate()
    print(f"migrated in {time.perf_counter() - started:.0f} s", flush=True)
    held = await database.agent_count(args.agents + 1)
    corpus = Corpus(args.agents, seed=args.seed)
    if args.reuse and held == args.agents:
        return reused_terms(database, corpus)
    if held:
        raise SystemExit(
            f"the database holds {held:,} agents: give an empty one, or --reuse with "
            f"--agents {held}"
        )
    print(f"seeding {args.agents:,} agents in batches of {args.batch:,}", flush=True)
    await database.seed(corpus)
    started = time.perf_counter()
    await database.analyse()
    print(f"  analysed in {time.perf_counter() - started:.0f} s", flush=True)
    terms = corpus.query_terms()
    database.terms_file.write_text(json.dumps(terms.as_json()))
    return terms


def reused_terms(database: Database, corpus: Corpus) -> QueryTerms:
    if database.terms_file.exists():
        terms = QueryTerms.from_json(json.loads(database.terms_file.read_text()))
        if terms.agents == corpus.count:
            return terms
    # Generating again gives the same words; deep positions may shift by the days since.
    print(f"no {database.terms_file}: generating the corpus again for its terms", flush=True)
    for _ in corpus.records():
        pass
    return corpus.query_terms()


# ------------------------------------------------------------------- report


def target_p99(args: argparse.Namespace) -> float:
    if args.backend == "postgresql" or args.agents > 100_000:
        return 0.050
    return 0.015


def verdicts(
    args: argparse.Namespace, direct: dict[str, ClassResult], mixed: Throughput | None
) -> list[tuple[str, bool]]:
    limit = target_p99(args)
    checks = [(f"{name} p99 < {limit * 1000:.0f} ms", r.p99 < limit) for name, r in direct.items()]
    if args.backend == "postgresql":
        checks += [(f"{name} p50 < 10 ms", r.p50 < 0.010) for name, r in direct.items()]
        if mixed is not None:
            checks.append((">= 400 searches/s over HTTP", mixed.rate >= 400))
    return checks


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def print_report(
    args: argparse.Namespace,
    terms: QueryTerms,
    direct: dict[str, ClassResult],
    http: dict[str, ClassResult] | None,
    mixed: Throughput | None,
) -> None:
    print()
    print(f"discovery on {args.backend}, {args.agents:,} agents, {args.rounds} rounds per class")
    print()
    print(
        "| class | searches (matches; + = more than counted) | direct p50 | direct p99 "
        "| HTTP p50 | HTTP p99 |"
    )
    print("|---|---|---|---|---|---|")
    for name, result in direct.items():
        over_http = http[name] if http else None
        print(
            f"| {name} | {'; '.join(map(str, result.matches))} "
            f"| {ms(result.p50)} | {ms(result.p99)} "
            f"| {ms(over_http.p50) if over_http else 'n/a'} "
            f"| {ms(over_http.p99) if over_http else 'n/a'} |"
        )
    if mixed is not None:
        print()
        print(throughput_line(args, mixed))
    for result in [*direct.values(), *(http or {}).values()]:
        for matched in result.matches:
            if not matched.plausible:
                print(f"WRONG TOTAL: {matched}, the corpus has {matched.probe.expected}")
    checks = verdicts(args, direct, mixed)
    print()
    print("targets: " + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in checks))
    summary = {
        "backend": args.backend,
        "agents": args.agents,
        "rounds": args.rounds,
        "documents": terms.documents,
        "direct": {name: summary_of(result) for name, result in direct.items()},
        "http": {name: summary_of(result) for name, result in http.items()} if http else None,
        "throughput": None if mixed is None else throughput_summary(args, mixed),
        "targets_met": all(ok for _, ok in checks),
    }
    print(json.dumps(summary, separators=(",", ":")))


def throughput_line(args: argparse.Namespace, mixed: Throughput) -> str:
    load = mixed.load
    failures = {status: n for status, n in load.statuses.items() if status != 200}
    return (
        f"HTTP throughput, {args.clients} clients, {args.seconds:g} s: {mixed.rate:,.0f} "
        f"searches/s, p50 {ms(statistics.median(load.latencies))}, "
        f"p99 {ms(percentile(load.latencies, 0.99))}; CPU per search: registry "
        f"{mixed.per_search(mixed.server_cpu)}, PostgreSQL {mixed.per_search(mixed.database_cpu)}"
        f", clients {mixed.per_search(load.cpu)}"
        + (f"; non-200 answers {failures}" if failures else "")
    )


def throughput_summary(args: argparse.Namespace, mixed: Throughput) -> dict[str, Any]:
    load = mixed.load

    def per_search_ms(cpu: float | None) -> float | None:
        return None if cpu is None else round(cpu / load.total * 1000, 3)

    return {
        "clients": args.clients,
        "searches_per_second": round(mixed.rate, 1),
        "p50_ms": round(statistics.median(load.latencies) * 1000, 2),
        "p99_ms": round(percentile(load.latencies, 0.99) * 1000, 2),
        "statuses": load.statuses,
        "cpu_ms_per_search": {
            "registry": per_search_ms(mixed.server_cpu),
            "postgresql": per_search_ms(mixed.database_cpu),
            "clients": per_search_ms(load.cpu),
        },
    }


def summary_of(result: ClassResult) -> dict[str, Any]:
    return {
        "p50_ms": round(result.p50 * 1000, 2),
        "p99_ms": round(result.p99 * 1000, 2),
        "matches": [str(matched) for matched in result.matches],
    }


# --------------------------------------------------------------------- main


async def direct_phase(
    database: Database, args: argparse.Namespace
) -> tuple[QueryTerms, dict[str, ClassResult]]:
    """Seed (or reuse) the database, then measure every class on the records backend."""
    await database.records.open()
    try:
        terms = await prepare(database, args)
        return terms, await measure_direct(database.records, probes(terms), args.rounds)
    finally:
        await database.records.close()


def http_phase(
    database: Database, classes: dict[str, list[Probe]], args: argparse.Namespace
) -> tuple[dict[str, ClassResult], Throughput]:
    server = RegistryProcess(database.serve_section)
    server.start()
    try:
        per_class = asyncio.run(measure_http(server.url, classes, args.rounds))
        return per_class, throughput(server, database, classes, args)
    finally:
        server.stop()


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--path", default="/tmp/avreg-discovery-bench.db", help="SQLite file")
    parser.add_argument(
        "--dsn", default="postgresql://postgres@127.0.0.1:5432/avreg_bench", help="PostgreSQL"
    )
    parser.add_argument("--reuse", action="store_true", help="measure an already seeded database")
    parser.add_argument("--seed", type=int, default=2026, help="of the synthetic corpus")
    parser.add_argument("--batch", type=int, default=5_000, help="agents per import_agents")
    parser.add_argument("--rounds", type=int, default=300, help="measured searches per class")
    parser.add_argument("--http", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--clients", type=int, default=16, help="for the throughput phase")
    parser.add_argument("--seconds", type=float, default=15.0, help="of the throughput phase")
    return parser.parse_args()


def main() -> None:
    args = parse_arguments()
    database = Database(args)
    terms, direct = asyncio.run(direct_phase(database, args))
    http, mixed = None, None
    if args.http:
        try:
            http, mixed = http_phase(database, probes(terms), args)
        except (RuntimeError, aiohttp.ClientError) as error:
            # The direct figures took long to get: report them anyway.
            print(f"the HTTP part failed: {error}", file=sys.stderr)
    print_report(args, terms, direct, http, mixed)


if __name__ == "__main__":
    main()
