"""A resolver that hands the connector public addresses only.

The connector connects to exactly the addresses its resolver returns, so filtering here checks
the address actually connected to: a host name cannot resolve to a public address for a check
and to a private one for the connection (DNS rebinding).
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from agentvault_registry.core.httpclient.addresses import is_global_address


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
        self, *, allow_private: bool = False, resolver: AbstractResolver | None = None
    ) -> None:
        self._allow_private = allow_private
        self._resolver = resolver or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        if self._allow_private:
            return results
        public = [result for result in results if _is_global(result["host"])]
        if not public:
            raise AddressRefused(host, [result["host"] for result in results])
        return public

    async def close(self) -> None:
        await self._resolver.close()


def _is_global(address: str) -> bool:
    try:
        return is_global_address(address)
    except ValueError:
        # Not an address we can judge (the resolver should never return one): not used.
        return False
