"""The address of the client behind a request, for rate limits, metrics and logs.

``X-Forwarded-For`` is believed only when the connection comes from a trusted proxy
(``server.trusted_proxies``): any client can write the header. Each proxy appends the address
it was connected from, so the chain is read from the right, skipping the registry's own
proxies; the first address that is not one of them is the client. Addresses further left
were written by that client and could name anyone.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from aiohttp import web

from agentvault_registry.core.appkeys import SETTINGS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client seen through a dual-stack socket is still that IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: Iterable[Network]) -> bool:
    return any(address in network for network in networks)


def client_address(peer: str | None, forwarded_for: str, trusted_proxies: tuple[str, ...]) -> str:
    """The client of a connection from ``peer`` carrying ``forwarded_for`` (may be empty)."""
    networks = _networks(trusted_proxies)
    address = _address(peer or "")
    if address is None:
        return peer or "unknown"
    if not _trusted(address, networks):
        return str(address)
    for hop in reversed(forwarded_for.split(",") if forwarded_for else []):
        hop_address = _address(hop)
        if hop_address is None:
            # Garbage in the chain: nothing left of it can be trusted, the last proxy can.
            break
        address = hop_address
        if not _trusted(address, networks):
            break
    return str(address)


def client_ip(request: web.Request) -> str:
    """The client address of ``request`` under the registry's ``server.trusted_proxies``."""
    return client_address(
        request.remote,
        ",".join(request.headers.getall("X-Forwarded-For", [])),
        request.app[SETTINGS].server.trusted_proxies,
    )
