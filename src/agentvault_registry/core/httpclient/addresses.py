"""Which IP addresses the registry may connect to on a user's behalf: public ones only.

``ipaddress.is_global`` alone is not enough: it calls multicast global, and an IPv6 address
can carry an IPv4 one (``::ffff:127.0.0.1``, NAT64, 6to4, Teredo) that the network stack or a
translator in front of it turns into a connection to that IPv4 host, so the embedded address
is what has to be public.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address, ip_network

#: RFC 6052's well-known NAT64 prefix: a translator connects to the IPv4 address in the
#: last 32 bits.
NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")
#: RFC 8215's local-use NAT64 prefix: where it embeds the IPv4 address depends on the
#: operator's prefix length, so the whole range is refused (it is not global anyway).
NAT64_LOCAL_USE = IPv6Network("64:ff9b:1::/48")
#: Deprecated IPv4-compatible addresses (``::a.b.c.d``); ``::`` and ``::1`` fall in it too,
#: and unwrap to non-global IPv4 addresses, so they stay refused.
IPV4_COMPATIBLE = IPv6Network("::/96")


def is_global_address(address: str | IPv4Address | IPv6Address) -> bool:
    """Whether ``address`` is a public unicast address, and so is any address it embeds.

    Raises ``ValueError`` when ``address`` is not an IP address.
    """
    ip = ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, IPv4Address):
        return _is_global_ipv4(ip)
    translated = _translated_ipv4(ip)
    if translated is not None:
        return _is_global_ipv4(translated)
    return _is_global_ipv6(ip) and all(_is_global_ipv4(v4) for v4 in _tunnelled_ipv4(ip))


def _is_global_ipv4(ip: IPv4Address) -> bool:
    # is_global already excludes private, loopback, link-local, CGNAT, documentation and
    # reserved ranges; the explicit checks keep that true whatever the Python version says.
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def _is_global_ipv6(ip: IPv6Address) -> bool:
    return (
        ip.is_global
        and ip not in NAT64_LOCAL_USE
        and not (
            ip.is_multicast
            or ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_site_local
            or ip.is_reserved
            or ip.is_unspecified
        )
    )


def _translated_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address a connection to ``ip`` actually reaches, if it is a translated form."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in IPV4_COMPATIBLE or ip in NAT64_WELL_KNOWN:
        return IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def _tunnelled_ipv4(ip: IPv6Address) -> list[IPv4Address]:
    """The IPv4 endpoints of a 6to4 or Teredo tunnel address (the packets go there)."""
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    return []


def _never_private(ip: IPv4Address | IPv6Address) -> bool:
    """Addresses that "private" never covers (see :class:`AddressPolicy`)."""
    if isinstance(ip, IPv6Address):
        ip = _translated_ipv4(ip) or ip
    return ip.is_link_local or ip.is_unspecified or ip.is_multicast


class AddressPolicy:
    """Which addresses fetches may reach: public ones, plus private ones when allowed (all of
    them, or only some networks).

    Allowing private addresses never allows link-local (where clouds serve instance
    credentials: 169.254.169.254), unspecified or multicast ones; only an explicitly listed
    network reaches those.
    """

    def __init__(self, *, allow_private: bool = False, networks: Iterable[str] = ()) -> None:
        self.allow_private = allow_private
        self.networks = [ip_network(network, strict=False) for network in networks]

    def permits(self, address: str) -> bool:
        try:
            parsed = ip_address(address)
        except ValueError:
            return False  # not an address the policy can judge: never connect to it
        if is_global_address(parsed) or any(parsed in network for network in self.networks):
            return True
        return self.allow_private and not _never_private(parsed)
