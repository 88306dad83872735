"""Hand unhandled exceptions to the error-tracking plugins (the ``report_exception`` hook)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from aiohttp import web

from agentvault_registry.core.appkeys import BACKGROUND_TASKS, PLUGIN_MANAGER
from agentvault_registry.core.plugins import implementations

log = logging.getLogger(__name__)


def report_exception(
    app: web.Application,
    request: web.Request | None,
    exception: BaseException,
    request_id: str | None = None,
) -> None:
    """Call every reporter; one that fails is logged, never raised, and never stops the rest."""
    hook = app[PLUGIN_MANAGER].hook.report_exception
    for impl in implementations(hook):
        try:
            result = impl.function(
                app=app, request=request, exception=exception, request_id=request_id
            )
        except Exception:
            log.exception("error reporter %s failed", impl.plugin_name)
            continue
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(_guarded(result, impl.plugin_name))
            # Tracked so shutdown drains it, like other background work.
            tasks = app.get(BACKGROUND_TASKS)
            if tasks is not None:
                tasks.add(task)
                task.add_done_callback(tasks.discard)


async def _guarded(result: Any, plugin: str) -> None:
    try:
        await result
    except Exception:
        log.exception("error reporter %s failed", plugin)
