"""Helpers for running async work through synchronous pluggy hooks."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable
from typing import Any


async def await_me_maybe(value: Any) -> Any:
    """Resolve a hook result that may be a value, a callable or an awaitable.

    pluggy calls hook implementations synchronously; an implementation that needs I/O returns
    a coroutine (or a callable returning one) and the core awaits it here.
    """
    if callable(value) and not inspect.isclass(value):
        value = value()
    if inspect.isawaitable(value):
        value = await value
    return value


async def first_result(results: Iterable[Any]) -> Any:
    """Await hook results in call order; return the first that is not None.

    Results after the winner are never awaited; their coroutines are closed so none is left
    "never awaited". Used instead of ``firstresult=True``, which would stop at the first
    coroutine object rather than at the first real answer.
    """
    pending = list(results)
    try:
        while pending:
            value = await await_me_maybe(pending.pop(0))
            if value is not None:
                return value
        return None
    finally:
        for leftover in pending:
            if inspect.iscoroutine(leftover):
                leftover.close()
            elif isinstance(leftover, asyncio.Future):
                leftover.cancel()
