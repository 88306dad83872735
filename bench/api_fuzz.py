"""The long API fuzzing run (issue F11 item 1): the checks of tests/reliability/test_api_fuzz.py
with many more cases. For each records backend and identity, a fresh registry on loopback is
fuzzed with schemathesis from its own OpenAPI document, stateless then stateful; the figures
are the cases run, the 5xx answers, the schema violations and (anonymous) the protected
operations that answered 2xx.

    AVREG_BENCH_POSTGRES_DSN=postgresql://postgres@127.0.0.1:5432/postgres \\
        PYTHONPATH=src python bench/api_fuzz.py [--examples 100] [--stateful-examples 50] \\
        [--stateful-steps 10] [--backend sqlite --backend postgresql] [--identity admin ...]

The DSN's server gets a scratch database per run, dropped afterwards. Exits 1 when anything
was found (each finding is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
# The fuzzing code is shared with the CI-bounded test, beside it under tests/.
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "reliability")]

from api_fuzzing import IDENTITIES, FuzzReport, Limits, fuzz_app, fuzz_registry  # noqa: E402

BACKENDS = ("sqlite", "postgresql")


@asynccontextmanager
async def scratch_database(server_dsn: str) -> AsyncIterator[str]:
    name = f"avreg_fuzz_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"{server_dsn.rpartition('/')[0]}/{name}"
    finally:
        admin = await asyncpg.connect(server_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def records(backend: str, server_dsn: str | None) -> AsyncIterator[dict]:
    if backend == "sqlite":
        yield {}
        return
    if not server_dsn:
        raise SystemExit("postgresql needs AVREG_BENCH_POSTGRES_DSN (or --postgres-dsn)")
    async with scratch_database(server_dsn) as dsn:
        yield {"records": {"backend": "postgresql", "dsn": dsn}}


async def fuzz_one(backend: str, identity: str, limits: Limits, server_dsn: str | None):
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="avreg-fuzz-") as data_dir:
        async with records(backend, server_dsn) as storage:
            report = await fuzz_registry(
                lambda extra: fuzz_app(data_dir, storage, extra), identity, limits
            )
    return report, time.monotonic() - started


HEADER = (
    f"{'backend':<11} {'identity':<10} {'cases':>7} {'stateless':>9} {'stateful':>8} "
    f"{'operations':>10} {'links':>5} {'5xx':>4} {'schema':>6} {'no-auth':>7} {'seconds':>7}"
)


def row(backend: str, report: FuzzReport, seconds: float) -> str:
    stateful = report.cases["stateful"]
    operations = f"{len(report.operations)}/{len(report.documented)}"
    return (
        f"{backend:<11} {report.identity:<10} {report.total_cases:>7} "
        f"{report.total_cases - stateful:>9} {stateful:>8} {operations:>10} "
        f"{report.inferred_links:>5} {report.responses_5xx:>4} "
        f"{len(report.schema_violations):>6} {len(report.answered_without_auth):>7} "
        f"{seconds:>7.1f}"
    )


async def main(args: argparse.Namespace) -> int:
    limits = Limits(
        max_examples=args.examples,
        stateful_examples=args.stateful_examples,
        stateful_steps=args.stateful_steps,
        seed=args.seed,
        coverage=args.coverage,
    )
    print(f"schemathesis fuzzing, {limits}")
    print(HEADER)
    findings: list[str] = []
    totals = {"cases": 0, "5xx": 0, "schema": 0, "no-auth": 0}
    for backend in args.backend or BACKENDS:
        for identity in args.identity or IDENTITIES:
            report, seconds = await fuzz_one(backend, identity, limits, args.postgres_dsn)
            print(row(backend, report, seconds), flush=True)
            totals["cases"] += report.total_cases
            totals["5xx"] += report.responses_5xx
            totals["schema"] += len(report.schema_violations)
            totals["no-auth"] += len(report.answered_without_auth)
            untested = sorted(report.documented - report.operations)
            findings += [f"{backend}/{identity}: {problem}" for problem in report.problems()]
            findings += [f"{backend}/{identity}: never exercised: {op}" for op in untested]
    print(
        f"total: {totals['cases']} cases, {totals['5xx']} responses 5xx, "
        f"{totals['schema']} schema violations, {totals['no-auth']} protected operations "
        "answered without auth"
    )
    for finding in findings:
        print(finding)
    return 1 if findings else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="per operation, stateless")
    parser.add_argument("--stateful-examples", type=int, default=50, help="stateful scenarios")
    parser.add_argument("--stateful-steps", type=int, default=10, help="steps per scenario")
    parser.add_argument("--seed", type=int, default=Limits.seed)
    parser.add_argument(
        "--coverage", action="store_true", help="add schemathesis' coverage phase (boundaries)"
    )
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    parser.add_argument("--identity", action="append", choices=IDENTITIES)
    parser.add_argument(
        "--postgres-dsn",
        default=os.environ.get("AVREG_BENCH_POSTGRES_DSN"),
        help="a PostgreSQL server (its database is only used to create a scratch one)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
