"""A resolver that hands the connector public addresses only.

The connector connects to exactly the addresses its resolver returns, so filtering here checks
the address actually connected to: a host name cannot resolve to a public address for a check
and to a private one for the connection (DNS rebinding).
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from agentvault_registry.core.httpclient.addresses import AddressPolicy


class AddressRefused(OSError):
    """A host name resolved to non-public addresses only.

    An ``OSError``, so aiohttp reports it as a DNS failure (``ClientConnectorDNSError``)
    carrying this as its ``os_error``, as it does any resolver failure.
    """

    def __init__(self, host: str, addresses: list[str]) -> None:
        self.host = host
        self.addresses = addresses
        listed = ", ".join(addresses) or "nothing"
        super().__init__(f"{host} resolves to {listed}, not to a public address")


class GlobalOnlyResolver(AbstractResolver):
    """Resolves with aiohttp's default resolver and drops every non-public address."""

    def __init__(
        self, policy: AddressPolicy | None = None, *, resolver: AbstractResolver | None = None
    ) -> None:
        self._policy = policy or AddressPolicy()
        self._resolver = resolver or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        permitted = [result for result in results if self._policy.permits(result["host"])]
        if not permitted:
            raise AddressRefused(host, [result["host"] for result in results])
        return permitted

    async def close(self) -> None:
        await self._resolver.close()
