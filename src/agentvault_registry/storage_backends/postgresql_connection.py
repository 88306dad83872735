"""The connection class of the registry's PostgreSQL pools.

When a statement runs out of time (``command_timeout``) the server may hang. asyncpg then
asks the server to cancel the query, and a transaction would end with a ROLLBACK that waits
for that cancellation, a second command timeout, before the caller hears of the failure.
Closing the connection instead ends the transaction on the server as surely (PostgreSQL
rolls back whatever a lost connection left open) and the caller's 503 comes at once.

Imported only when the postgresql backend opens: asyncpg is an optional extra.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.transaction import Transaction


class AbandoningTransaction(Transaction):
    """A transaction block that, when a statement in it timed out, closes the connection
    rather than rolling back on it."""

    __slots__ = ()

    async def __aexit__(self, extype: Any, ex: Any, tb: Any) -> None:
        if extype is not None and issubclass(extype, TimeoutError):
            self._managed = False
            self._connection.terminate()
            return
        await super().__aexit__(extype, ex, tb)


class RegistryConnection(asyncpg.Connection):
    __slots__ = ()

    def transaction(
        self, *, isolation: str | None = None, readonly: bool = False, deferrable: bool = False
    ) -> Transaction:
        self._check_open()
        return AbandoningTransaction(self, isolation, readonly, deferrable)
