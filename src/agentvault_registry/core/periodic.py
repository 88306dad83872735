"""Work plugins repeat on a schedule (purging expired records), declared through
``register_periodic_tasks``.

Several processes serve one registry. An *exclusive* task runs in one of them per round: each
round, every process tries to take a lease in the shared cache, and only the one that gets it
runs the task. The lease lasts a little less than a round, so the next round is open to all
and a dead process's rounds are taken over within one interval.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pluggy
from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import PERIODIC_TASKS, STORAGE
from agentvault_registry.core.errors import BackendError, PluginError
from agentvault_registry.core.plugins import results_by_plugin

log = logging.getLogger(__name__)

#: How much of a round the winner's lease lasts: short of the next round, so that round is
#: taken afresh even when the processes' clocks and timers drift a little.
LEASE_FRACTION = 0.9
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
    for plugin, declared in results_by_plugin(pm.hook.register_periodic_tasks, settings=settings):
        for task in declared or ():
            if not isinstance(task, PeriodicTask):
                raise PluginError(f"plugin {plugin!r} declared {task!r}, not a PeriodicTask")
            if not _NAME.match(task.name):
                raise PluginError(
                    f"plugin {plugin!r}: periodic task name {task.name!r} must be dotted"
                    " lowercase words"
                )
            if not task.interval > 0:
                raise PluginError(
                    f"plugin {plugin!r}: periodic task {task.name!r} needs a positive interval"
                )
            if task.name in tasks:
                raise PluginError(
                    f"plugin {plugin!r}: periodic task {task.name!r} is declared twice"
                )
            tasks[task.name] = task
    return list(tasks.values())


async def run_round(app: web.Application, task: PeriodicTask, lease_holder: str) -> bool:
    """Run one round of ``task`` unless another process holds this round's lease; whether
    this process ran it (a round that failed still ran, and was logged)."""
    if task.exclusive:
        try:
            won = await app[STORAGE].cache.add(
                f"periodic:{task.name}",
                lease_holder.encode(),
                ttl=task.interval * LEASE_FRACTION,
            )
        except BackendError as exc:
            # Without the cache no process can know it is the only one; the work waits.
            log.warning("periodic task %s skipped a round: %s", task.name, exc)
            return False
        if not won:
            return False
    try:
        await task.run(app)
    except Exception:
        log.exception("periodic task %s failed", task.name)
    return True


async def _repeat(app: web.Application, task: PeriodicTask, lease_holder: str) -> None:
    # Processes started together spread their first rounds over one interval.
    await asyncio.sleep(random.uniform(0, task.interval))
    while True:
        await run_round(app, task, lease_holder)
        await asyncio.sleep(task.interval)


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
