"""Fault-injection scenarios: a registry under load (:mod:`fault_load`) while one of its
backends is killed and restarted, or while its federation peers misbehave.

Each scenario returns :class:`Figures` (what the clients saw) and the list of what broke the
degradation policy; the CI test asserts that list is empty, ``bench/fault_injection.py``
prints the figures of longer runs. Importable as ``fault_scenarios``.

The policy checked, from DESIGN.md §3/§5 and the backends' docstrings:

- a backend outage answers 503 JSON with ``Retry-After``, within the backend's configured
  timeout + 1 s; no other error status, and no request left hanging;
- what does not need the dead backend keeps answering (``Policy.available``): with Redis
  down, discovery searches (uncached), agent reads and existing sessions; with the blob store
  down, everything but card documents; with PostgreSQL down, liveness;
- once the backend is back, every kind of request succeeds again without restarting the app;
- every write acknowledged with a 2xx is there afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fault_load import Load, Outcome, lost_writes

from private_servers import PrivatePostgres, PrivateRedis, PrivateS3
from registry_harness import (
    Registry,
    answering,
    hanging,
    remote_agent,
    resetting_mid_body,
    start_fake_peer,
    start_registry,
    trickling,
)
from sample_cards import V1_CARD

#: Backend timeouts of the scenarios: small, so an outage shows within a second.
REDIS_TIMEOUTS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
POSTGRES_TIMEOUTS = {"acquire_timeout": 1.0, "connect_timeout": 1.0, "command_timeout": 2.0}
S3_TIMEOUTS = {"connect_timeout": 1.0, "read_timeout": 1.0, "max_attempts": 1}
#: Long enough that the in-time peer (0.2 s) stays in time on a loaded CI machine.
FEDERATION_TIMEOUT = 1.5
#: A failing request may take the backend's timeout plus this (DESIGN: "timeout + 1 s").
SLACK = 1.0
#: Caches off: every search reaches the records and every federated search the peers.
NO_CACHES = {"discovery": {"cache_ttl": 0}, "federation": {"cache_ttl": 0}}


@dataclass
class Phases:
    """How long each part of a scenario lasts, in seconds, and how many clients load it."""

    clients: int = 4
    before: float = 1.0
    outage: float = 2.0
    #: The registry must answer everything again within this long after the restart...
    recovery_limit: float = 15.0
    #: ... and then keep doing so for this long (no failure at all) to count as recovered.
    settle: float = 1.0
    #: A request without an answer after this long counts as hung.
    deadline: float = 10.0


@dataclass
class Policy:
    """What a scenario expects while its fault lasts."""

    #: Operations that must keep answering 2xx during the outage.
    available: frozenset[str]
    #: Seconds within which any failing request must have its answer.
    bound: float
    #: The fault must make some requests fail (else it was never injected).
    expect_unavailable: bool = True


@dataclass
class Figures:
    scenario: str
    bound: float
    issued: int = 0
    succeeded: int = 0
    unavailable: int = 0
    hung: int = 0
    max_failing_latency: float = 0.0
    max_latency: float = 0.0
    outage_requests: int = 0
    outage_available_ok: int = 0
    #: Seconds the server took to restart (until it accepted connections again)...
    restart_took: float | None = None
    #: ... and from then until the registry answered every kind of request again.
    recovered_after: float | None = None
    writes_acked: int = 0
    writes_checked: int = 0
    lost: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def line(self) -> str:
        recovered = (
            "(no restart)"
            if self.restart_took is None
            else f"server restarted in {self.restart_took:.2f} s, registry recovered"
            f" {self.recovered_after:.2f} s after that"
        )
        return (
            f"{self.scenario}: {self.issued} requests, {self.succeeded} 2xx,"
            f" {self.unavailable} 503, {self.hung} hung; max latency of failing requests"
            f" {self.max_failing_latency:.3f} s (bound {self.bound:.1f} s), max latency"
            f" {self.max_latency:.3f} s; during the fault {self.outage_available_ok} policy"
            f" reads 2xx of {self.outage_requests} requests; {recovered};"
            f" {self.writes_acked} acknowledged writes, {self.writes_checked} checks,"
            f" {len(self.lost)} lost; {len(self.violations)} violations"
        )


# ------------------------------------------------------------------ judging a run


def judge(
    scenario: str,
    outcomes: list[Outcome],
    policy: Policy,
    fault_at: float,
    restarted_at: float | None,
) -> Figures:
    """The figures of a run whose fault began ``fault_at`` (and whose backend was back at
    ``restarted_at``, if it was restarted), and every breach of ``policy``."""
    figures = Figures(scenario, policy.bound, issued=len(outcomes))
    failing = [o for o in outcomes if not o.ok]
    figures.succeeded = len(outcomes) - len(failing)
    figures.unavailable = sum(o.status == 503 for o in failing)
    figures.hung = sum(o.status is None for o in outcomes)
    figures.max_failing_latency = max((o.latency for o in failing), default=0.0)
    figures.max_latency = max((o.latency for o in outcomes), default=0.0)
    during = [o for o in outcomes if o.phase == "outage"]
    figures.outage_requests = len(during)
    figures.outage_available_ok = sum(o.ok for o in during if o.op in policy.available)
    violations = figures.violations
    for outcome in outcomes:
        where = f"{outcome.op} at {outcome.started:.2f} s ({outcome.phase})"
        if outcome.status is None:
            violations.append(f"{where}: hung")
        elif outcome.problem:
            violations.append(f"{where}: {outcome.problem}")
        elif not outcome.ok and outcome.latency > policy.bound:
            violations.append(f"{where}: 503 after {outcome.latency:.2f} s > {policy.bound} s")
        elif not outcome.ok and outcome.started + outcome.latency < fault_at:
            violations.append(f"{where}: {outcome.status} before the fault")
        elif not outcome.ok and outcome.phase == "outage" and outcome.op in policy.available:
            violations.append(f"{where}: {outcome.status}, but the policy keeps it available")
    for op in policy.available:
        if not any(o.op == op and o.ok for o in during):
            violations.append(f"no {op} succeeded during the fault")
    if policy.expect_unavailable and not any(o.status == 503 for o in during):
        violations.append("no request failed during the fault: was it injected?")
    if restarted_at is not None:
        figures.recovered_after = recovery_time(outcomes, restarted_at)
    return figures


def recovery_time(outcomes: list[Outcome], restarted_at: float) -> float:
    """Seconds from the restart to the end of the last failing request started after it."""
    ends = [o.started + o.latency for o in outcomes if o.started >= restarted_at and not o.ok]
    return max(ends, default=restarted_at) - restarted_at


def recovered(load: Load, restarted_at: float, settle: float) -> bool:
    """No failure for ``settle`` seconds, and every kind of request succeeded since."""
    after = [o for o in load.outcomes if o.started >= restarted_at]
    quiet_since = restarted_at + recovery_time(after, restarted_at)
    if load.clock.now() - quiet_since < settle:
        return False
    succeeded = {o.op for o in after if o.ok and o.started >= quiet_since}
    return succeeded >= set(load.operation_names)


# ---------------------------------------------------------------- running a fault


async def run_outage(
    scenario: str,
    load: Load,
    policy: Policy,
    phases: Phases,
    kill: Callable[[], None],
    restart: Callable[[], None],
) -> Figures:
    """Load the registry, kill the backend, keep loading, restart it, wait for recovery,
    then check every acknowledged write. Killing and restarting run in a thread: the
    registry (in this process) keeps serving meanwhile."""
    load.start()
    try:
        await asyncio.sleep(phases.before)
        load.clock.phase = "killing"
        fault_at = load.clock.now()
        await asyncio.to_thread(kill)
        load.clock.phase = "outage"
        await asyncio.sleep(phases.outage)
        load.clock.phase = "restarting"
        restart_began = load.clock.now()
        await asyncio.to_thread(restart)
        restarted_at = load.clock.now()
        load.clock.phase = "after"
        deadline = time.monotonic() + phases.recovery_limit + phases.settle
        while not recovered(load, restarted_at, phases.settle) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        await load.stop()
    figures = judge(scenario, load.outcomes, policy, fault_at, restarted_at)
    figures.restart_took = restarted_at - restart_began
    if not recovered(load, restarted_at, phases.settle):
        figures.violations.append(f"not recovered {phases.recovery_limit} s after the restart")
    await check_writes(load, figures)
    return figures


async def check_writes(load: Load, figures: Figures) -> None:
    figures.writes_acked = len(load.ledger.created) + sum(
        o.ok for o in load.outcomes if o.op == "update"
    )
    figures.writes_checked, figures.lost = await lost_writes(load)
    figures.violations.extend(f"lost: {line}" for line in figures.lost)


@contextlib.asynccontextmanager
async def loaded_registry(
    make_settings: Callable[..., Any],
    workdir: Path,
    overrides: dict[str, Any],
    operations: list[str],
    phases: Phases,
    policy: Policy,
    **load_options: Any,
) -> AsyncIterator[Load]:
    """A registry on loopback (data under ``workdir``) with ``phases.clients`` signed up,
    each operation the policy keeps available probed on its own as well."""
    overrides = {"data_dir": str(workdir / "registry"), **overrides}
    registry = await start_registry(make_settings, "Faults", overrides)
    load = Load(
        registry,
        phases.clients,
        operations,
        deadline=phases.deadline,
        probes=sorted(policy.available),
        **load_options,
    )
    try:
        await load.sign_up()
        yield load
    finally:
        await load.close()
        await close_registry(registry)


async def close_registry(registry: Registry) -> None:
    await registry.session.close()
    await registry.runner.cleanup()


# ------------------------------------------------------------------------ scenarios


async def redis_outage(
    make_settings: Callable[..., Any],
    workdir: Path,
    redis: PrivateRedis,
    phases: Phases,
    *,
    frozen: bool = False,
) -> Figures:
    """Redis killed (SIGKILL) and started again, or, when ``frozen``, stopped (SIGSTOP: it
    accepts and never answers, so only the socket timeouts end the wait) and continued."""
    cache = {"backend": "redis", "url": redis.url, **REDIS_TIMEOUTS}
    overrides = {"storage": {"cache": cache}, "plugins": NO_CACHES}
    policy = Policy(frozenset({"search", "read", "me"}), max(REDIS_TIMEOUTS.values()) + SLACK)
    operations = ["create", "update", "read", "search", "login", "me"]
    async with loaded_registry(
        make_settings, workdir, overrides, operations, phases, policy
    ) as load:
        if frozen:
            return await run_outage("redis frozen", load, policy, phases, redis.freeze, redis.thaw)
        return await run_outage("redis", load, policy, phases, redis.kill, redis.start)


async def postgres_outage(
    make_settings: Callable[..., Any],
    workdir: Path,
    postgres: PrivatePostgres,
    phases: Phases,
    *,
    frozen: bool = False,
) -> Figures:
    """PostgreSQL stopped (``pg_ctl -m immediate``) and started again, or, when ``frozen``,
    every process of the cluster stopped (SIGSTOP) and continued: then a statement sent on
    a pooled connection waits for the command timeout, not only the acquire timeout."""
    records = {"backend": "postgresql", "dsn": postgres.dsn, **POSTGRES_TIMEOUTS}
    overrides = {"storage": {"records": records}, "plugins": NO_CACHES}
    timeouts = ["acquire_timeout", "connect_timeout"] + ["command_timeout"] * frozen
    bound = max(POSTGRES_TIMEOUTS[name] for name in timeouts)
    policy = Policy(frozenset({"health"}), bound + SLACK)
    operations = ["create", "update", "read", "search", "login", "me", "health"]
    async with loaded_registry(
        make_settings, workdir, overrides, operations, phases, policy
    ) as load:
        if frozen:
            return await run_outage(
                "postgresql frozen", load, policy, phases, postgres.freeze, postgres.thaw
            )
        return await run_outage("postgresql", load, policy, phases, postgres.kill, postgres.start)


async def blob_store_outage(
    make_settings: Callable[..., Any],
    workdir: Path,
    s3: PrivateS3,
    phases: Phases,
    *,
    frozen: bool = False,
) -> Figures:
    """The S3 server stopped with its socket closed (connections refused) and started again
    on its port, or, when ``frozen``, stopped with its socket listening (requests accepted,
    never answered) and then started again."""
    blobs = {
        "backend": "s3",
        "bucket": f"faults-{uuid.uuid4().hex[:12]}",
        "endpoint_url": s3.url,
        "access_key_id": "testing",
        "secret_access_key": "testing",
        "addressing_style": "path",
        "create_bucket": True,
        **S3_TIMEOUTS,
    }
    overrides = {"storage": {"blobs": blobs}, "plugins": NO_CACHES}
    bound = max(S3_TIMEOUTS["connect_timeout"], S3_TIMEOUTS["read_timeout"]) + SLACK
    # Agents without a card keep nothing in the blob store: only card documents need it.
    policy = Policy(frozenset({"create", "update", "read", "search", "me"}), bound)
    operations = ["create", "create_carded", "update", "read", "read_card", "search", "me"]
    async with loaded_registry(
        make_settings, workdir, overrides, operations, phases, policy, card=V1_CARD
    ) as load:
        if frozen:
            return await run_outage("s3 blobs frozen", load, policy, phases, s3.freeze, s3.thaw)
        return await run_outage("s3 blobs", load, policy, phases, s3.kill, s3.start)


#: How each misbehaving peer must show in ``federation_status.peers``.
PEER_STATUSES = {"Hangs": "timeout", "Resets": "error", "Trickles": "timeout", "Slow": "ok"}


def federated_answer_problem(client_name: str, body: Any) -> str:
    """What is wrong with a 200 federated search of ``client_name``'s: its own (local) agents
    must be there, the slow-but-in-time peer's agent too, and every peer must have the status
    it deserves."""
    local = [a for a in body["agents"] if not a.get("is_federated")]
    remote = [a["name"] for a in body["agents"] if a.get("is_federated")]
    if not any(a["name"].startswith(client_name) for a in local):
        return f"no local result: {[a['name'] for a in body['agents']]}"
    if remote != ["Faraway Scribe"]:
        return f"remote results {remote}"
    statuses = {p["name"]: p["status"] for p in body["federation_status"]["peers"]}
    if statuses != PEER_STATUSES:
        return f"peer statuses {statuses}"
    return ""


async def misbehaving_peers(
    make_settings: Callable[..., Any], workdir: Path, phases: Phases
) -> Figures:
    """Peers that hang, reset mid-body, trickle their answer past the timeout, or answer
    slowly but in time, asked by every federated search while writes go on."""

    async def slow(request):
        await asyncio.sleep(0.2)
        return await answering(remote_agent("Faraway Scribe"), name="Slow")(request)

    behaviours = {
        "Hangs": hanging,
        "Resets": resetting_mid_body,
        "Trickles": trickling(FEDERATION_TIMEOUT / 20),
        "Slow": slow,
    }
    peers = {name: await start_fake_peer(behaviour) for name, behaviour in behaviours.items()}
    federation = {
        "peer_timeout": FEDERATION_TIMEOUT,
        "deadline": FEDERATION_TIMEOUT,
        "cache_ttl": 0,
        # Never skip a failing peer: every search must meet every misbehaviour.
        "failure_threshold": 1000,
    }
    overrides = {"plugins": {**NO_CACHES, "federation": federation}}
    policy = Policy(
        frozenset({"federated_search", "create", "update", "read"}),
        FEDERATION_TIMEOUT + SLACK,
        expect_unavailable=False,
    )
    operations = ["federated_search", "create", "update", "read"]
    try:
        async with loaded_registry(
            make_settings, workdir, overrides, operations, phases, policy
        ) as load:
            for name, peer in peers.items():
                await load.registry.add_peer(name, peer.url, "avf_fault_injection")
            load.validators["federated_search"] = federated_answer_problem
            load.clock.phase = "outage"  # the peers misbehave all along
            fault_at = load.clock.now()
            load.start()
            await asyncio.sleep(phases.outage)
            await load.stop()
            figures = judge("federation", load.outcomes, policy, fault_at, None)
            searches = [o for o in load.outcomes if o.op == "federated_search"]
            slowest = max((o.latency for o in searches), default=0.0)
            if slowest > policy.bound:
                figures.violations.append(
                    f"a federated search took {slowest:.2f} s > {policy.bound} s"
                )
            await check_writes(load, figures)
            return figures
    finally:
        for peer in peers.values():
            await peer.close()
