"""Work plugins repeat on a schedule (purging expired records), declared through
``register_periodic_tasks``.

Time is cut into rounds of one interval, counted from the Unix epoch, so every process agrees
on which round it is. Several processes serve one registry: an *exclusive* task runs in one of
them per round, the one that first takes that round's lease in the shared cache. A process
that dies simply stops taking leases; the next round goes to another. A round that runs longer
than the interval may overlap the next round in another process, so tasks must be idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pluggy
from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import PERIODIC_TASKS, STORAGE
from agentvault_registry.core.errorreports import report_exception
from agentvault_registry.core.errors import BackendError, PluginError
from agentvault_registry.core.plugins import results_by_plugin

log = logging.getLogger(__name__)

#: A round's lease outlives the round, so a process whose clock lags cannot take it again.
LEASE_ROUNDS = 2
# Names become part of cache keys: no ':' or spaces.
_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


@dataclass(frozen=True)
class PeriodicTask:
    """Run ``run(app)`` every ``interval`` seconds while the app is up.

    ``exclusive``: one process of all that share the cache backend runs each round (for work
    on shared records); otherwise every process runs every round (for per-process state).
    A round that raises is logged; the next round runs as planned.
    """

    name: str
    interval: float
    run: Callable[[web.Application], Awaitable[Any]]
    exclusive: bool = True


def collect_periodic_tasks(settings: Settings, pm: pluggy.PluginManager) -> list[PeriodicTask]:
    """Every task the loaded plugins declare; ``PluginError`` for a malformed declaration or
    a name two plugins declare."""
    tasks: dict[str, PeriodicTask] = {}
    owners: dict[str, str] = {}
    for plugin, declared in results_by_plugin(pm.hook.register_periodic_tasks, settings=settings):
        for task in declared or ():
            if not isinstance(task, PeriodicTask):
                raise PluginError(f"plugin {plugin!r} declared {task!r}, not a PeriodicTask")
            if not isinstance(task.name, str) or not _NAME.match(task.name):
                raise PluginError(
                    f"plugin {plugin!r}: periodic task name {task.name!r} must be dotted"
                    " lowercase words"
                )
            interval = task.interval
            if isinstance(interval, bool) or not isinstance(interval, int | float):
                raise PluginError(
                    f"plugin {plugin!r}: periodic task {task.name!r} needs a positive interval"
                    f" in seconds, not {interval!r}"
                )
            if not interval > 0:
                raise PluginError(
                    f"plugin {plugin!r}: periodic task {task.name!r} needs a positive interval"
                )
            if not callable(task.run):
                raise PluginError(
                    f"plugin {plugin!r}: periodic task {task.name!r} needs a callable to run"
                )
            if task.name in tasks:
                raise PluginError(
                    f"plugin {plugin!r}: periodic task {task.name!r} is declared twice"
                    f" (plugin {owners[task.name]!r} declared it first)"
                )
            tasks[task.name] = task
            owners[task.name] = plugin
    return list(tasks.values())


def current_round(task: PeriodicTask, now: float | None = None) -> int:
    """The number of the round ``now`` (Unix time) falls in."""
    return int((time.time() if now is None else now) // task.interval)


async def run_round(
    app: web.Application, task: PeriodicTask, lease_holder: str, *, number: int | None = None
) -> bool:
    """Run round ``number`` (by default the current one) of ``task`` unless another process
    took its lease; whether this process ran it (a round that failed still ran, and was
    logged)."""
    if task.exclusive:
        number = current_round(task) if number is None else number
        try:
            won = await app[STORAGE].cache.add(
                f"periodic:{task.name}:{number}",
                lease_holder.encode(),
                ttl=task.interval * LEASE_ROUNDS,
            )
        except BackendError as exc:
            # Without the cache no process can know it is the only one; the work waits.
            log.warning("periodic task %s skipped a round: %s", task.name, exc)
            return False
        if not won:
            return False
    try:
        await task.run(app)
    except Exception as exc:
        log.exception("periodic task %s failed", task.name)
        report_exception(app, None, exc)
    return True


async def _repeat(app: web.Application, task: PeriodicTask, lease_holder: str) -> None:
    while True:
        # Wake at the next round's start; a round that overran skips the rounds it missed.
        number = current_round(task) + 1
        await asyncio.sleep(max(0.0, number * task.interval - time.time()))
        try:
            await run_round(app, task, lease_holder, number=number)
        except Exception as exc:
            # Whatever the cache raised, the schedule goes on.
            log.exception("periodic task %s: round %d failed", task.name, number)
            report_exception(app, None, exc)


async def periodic_tasks_context(app: web.Application) -> AsyncIterator[None]:
    """Start every declared task once plugins are up; stop them before plugins shut down."""
    lease_holder = uuid.uuid4().hex
    running = [
        asyncio.create_task(_repeat(app, task, lease_holder), name=f"periodic:{task.name}")
        for task in app[PERIODIC_TASKS]
    ]
    try:
        yield
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
