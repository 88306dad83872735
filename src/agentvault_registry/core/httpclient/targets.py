"""The checks every URL passes before a request to it, the first one and each redirect's."""

from __future__ import annotations

import re
from ipaddress import ip_address

from yarl import URL

from agentvault_registry.core.errors import FetchRefused
from agentvault_registry.core.httpclient.addresses import AddressPolicy

ALLOWED_SCHEMES = frozenset({"http", "https"})

#: The WHATWG URL rule: a host whose last label is a number (decimal, or 0x hex) is an IPv4
#: address. Resolvers then also accept octal, hex and fewer than four parts (2130706433,
#: 0177.0.0.1, 0x7f.1), which hide the address from a reader, so only dotted-quad is taken.
_ENDS_IN_NUMBER = re.compile(r"(?:^|\.)(?:[0-9]+|0[xX][0-9a-fA-F]*)\.?$")


def parse_url(url: str | URL) -> URL:
    """``url`` as a yarl URL; one that cannot be parsed is refused."""
    if isinstance(url, URL):
        return url
    try:
        return URL(url)
    except (TypeError, ValueError) as exc:
        raise FetchRefused(url=str(url), reason="not a valid URL") from exc


def check_target(url: URL, policy: AddressPolicy) -> None:
    """Refuse a URL the registry must not fetch, before any connection is made.

    Host names are checked later, on the addresses they resolve to (see
    :mod:`~agentvault_registry.core.httpclient.resolver`); literal addresses never reach the
    resolver, so they are checked here.
    """
    shown = shown_url(url)
    if url.scheme not in ALLOWED_SCHEMES:
        given = f"{url.scheme}:" if url.scheme else "a relative URL"
        raise FetchRefused(url=shown, reason=f"only http and https URLs are fetched, not {given}")
    if url.user is not None or url.password is not None:
        raise FetchRefused(url=shown, reason="URLs with credentials are not fetched")
    host = url.raw_host
    if not host:
        raise FetchRefused(url=shown, reason="the URL has no host")
    literal = _literal_address(host, shown)
    if literal is not None and not policy.permits(literal):
        raise FetchRefused(url=shown, reason=f"{literal} is not a public address")


def shown_url(url: URL) -> str:
    """``url`` as errors and logs may show it: without any credentials it carries."""
    if url.user is None and url.password is None:
        return str(url)
    return str(url.with_user(None))


def _literal_address(host: str, shown: str) -> str | None:
    """The IP address ``host`` spells, if it is one; non-canonical IPv4 spellings are refused."""
    if ":" in host:
        try:
            return str(ip_address(host))
        except ValueError as exc:
            raise FetchRefused(url=shown, reason=f"{host!r} is not a valid IPv6 address") from exc
    if _ENDS_IN_NUMBER.search(host):
        try:
            return str(ip_address(host.removesuffix(".")))
        except ValueError as exc:
            raise FetchRefused(
                url=shown, reason=f"{host!r} is not a dotted-quad IPv4 address"
            ) from exc
    return None
