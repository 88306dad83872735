"""Fault injection under load, the long version of tests/reliability/test_fault_injection.py.

The same scenarios (tests/reliability/fault_scenarios.py), with longer phases and more
clients. Each runs a registry in this process (the real app from ``create_app``, development
mode, SQLite records in a temp dir unless the scenario says otherwise, bcrypt cost 4, rate
limits out of reach, discovery and federation caches off) on a free loopback port, and
``--clients`` developers, each with its own account and agents, sending a mix of creates,
updates, reads, searches, logins and ``/auth/me`` over HTTP, plus one probe loop for each
operation the policy keeps available during the fault; each request has a client-side deadline
(``--deadline``). Clients, registry and moto share this process: latencies include its
event-loop lag.

- ``redis``: a private redis-server as the cache (socket timeouts 1 s), SIGKILLed after
  ``--before`` seconds, started again after ``--outage`` seconds;
- ``postgresql``: a private PostgreSQL cluster as the records (acquire and connect timeouts
  1 s), stopped with ``pg_ctl -m immediate``, started again;
- ``s3``: moto's S3 server on a port of its own as the blob store (connect and read timeouts
  1 s, one attempt), stopped with its listening socket closed, started again on the port;
- ``redis-frozen``, ``postgresql-frozen``, ``s3-frozen``: the same servers hanging instead
  (SIGSTOP of every server process; for moto, its port listening and never accepting), so
  only the registry's timeouts end each wait, then continued;
- ``federation``: four fake peers, one that hangs, one that resets the connection mid-body,
  one that trickles its answer past the 1.5 s peer timeout, one that answers in 0.2 s; every
  federated search for ``--outage`` seconds.

Per scenario it prints the requests issued, 2xx, 503s, hung, the largest latency of a failing
request against its bound (the backend's timeout + 1 s; the federation deadline + 1 s for
searches; for a frozen PostgreSQL the command timeout + 1 s), how soon every kind of request
succeeded after the restart, and the acknowledged writes checked through the API afterwards;
then every breach of the policy. Exit status 1 when there was any.

    python bench/fault_injection.py [--clients 12] [--before 5] [--outage 20]
        [--recovery-limit 30] [--deadline 15] [--scenarios redis,postgresql-frozen,...]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "reliability")]

from fault_scenarios import (  # noqa: E402 (after the path to the shared test code)
    Figures,
    Phases,
    blob_store_outage,
    misbehaving_peers,
    postgres_outage,
    redis_outage,
)

from agentvault_registry.config.loader import load_configuration  # noqa: E402
from private_servers import (  # noqa: E402
    postgres_bindir,
    running_postgres,
    running_redis,
    running_s3,
)

SCENARIOS = (
    "redis",
    "redis-frozen",
    "postgresql",
    "postgresql-frozen",
    "s3",
    "s3-frozen",
    "federation",
)


def settings_maker(root: Path):
    """What the tests' ``make_settings`` fixture does: settings as the CLI builds them, from
    ``overrides`` alone (no environment, no config file), logging only errors."""

    def make(overrides=None, *, plugins=()):
        layer = {"mode": "development", "data_dir": str(root / "data"), "logging": {}}
        layer.update(overrides or {})
        layer["logging"] = {**layer["logging"], "level": "ERROR"}
        return load_configuration(
            None,
            environ={},
            overrides=layer,
            extra_plugins=plugins,
            load_entry_points=False,
        )

    return make


async def run_scenario(name: str, root: Path, phases: Phases) -> Figures:
    make = settings_maker(root)
    workdir = root / name
    workdir.mkdir()
    if name in ("redis", "redis-frozen"):
        with running_redis(workdir) as redis:
            return await redis_outage(make, workdir, redis, phases, frozen=name != "redis")
    if name in ("postgresql", "postgresql-frozen"):
        bindir = postgres_bindir()
        if bindir is None:
            raise SystemExit("PostgreSQL server binaries are not installed")
        with running_postgres(bindir) as postgres:
            frozen = name != "postgresql"
            return await postgres_outage(make, workdir, postgres, phases, frozen=frozen)
    if name in ("s3", "s3-frozen"):
        with running_s3() as s3:
            return await blob_store_outage(make, workdir, s3, phases, frozen=name != "s3")
    return await misbehaving_peers(make, workdir, phases)


async def main(options: argparse.Namespace) -> int:
    phases = Phases(
        clients=options.clients,
        before=options.before,
        outage=options.outage,
        recovery_limit=options.recovery_limit,
        deadline=options.deadline,
    )
    print(f"fault injection, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {phases}")
    breaches = 0
    with tempfile.TemporaryDirectory(prefix="avreg-faults-") as directory:
        for name in options.scenarios:
            started = time.monotonic()
            figures = await run_scenario(name, Path(directory), phases)
            print(f"\n{figures.line()} [{time.monotonic() - started:.0f} s wall]")
            for violation in figures.violations[:30]:
                print(f"  VIOLATION {violation}")
            breaches += len(figures.violations)
    print(f"\n{breaches} violations in all")
    return 1 if breaches else 0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--before", type=float, default=5.0, help="seconds of load first")
    parser.add_argument("--outage", type=float, default=20.0, help="seconds the fault lasts")
    parser.add_argument("--recovery-limit", type=float, default=30.0)
    parser.add_argument("--deadline", type=float, default=15.0, help="client-side, seconds")
    parser.add_argument(
        "--scenarios",
        type=lambda text: [name for name in text.split(",") if name],
        default=list(SCENARIOS),
    )
    options = parser.parse_args()
    unknown = set(options.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; known: {', '.join(SCENARIOS)}")
    return options


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    sys.exit(asyncio.run(main(parse_arguments())))
