"""Work a request starts but does not wait for (sending a mail), finished before shutdown."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from aiohttp import web

from agentvault_registry.core.appkeys import BACKGROUND_TASKS
from agentvault_registry.core.errorreports import report_exception

log = logging.getLogger(__name__)

#: How long shutdown waits for background work before cancelling it.
DRAIN_TIMEOUT = 10.0


def spawn(app: web.Application, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task:
    """Run ``work`` without making the request wait; failures are logged, never lost."""
    task = asyncio.create_task(work, name=name)
    tasks = app[BACKGROUND_TASKS]
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    task.add_done_callback(functools.partial(_log_failure, app))
    return task


def _log_failure(app: web.Application, task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s failed", task.get_name(), exc_info=task.exception())
        report_exception(app, None, task.exception())


async def background_tasks_context(app: web.Application) -> AsyncIterator[None]:
    yield
    pending = set(app[BACKGROUND_TASKS])
    if pending:
        _, unfinished = await asyncio.wait(pending, timeout=DRAIN_TIMEOUT)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
