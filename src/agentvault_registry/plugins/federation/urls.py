"""Which URLs may name a peer registry: checked when an admin sets one, and again (by the
SSRF-safe client, on the address actually connected to) on every request to it."""

from __future__ import annotations

import asyncio
import socket

from yarl import URL

from agentvault_registry.core.errors import FetchRefused, ValidationFailed
from agentvault_registry.core.httpclient.addresses import AddressPolicy
from agentvault_registry.core.httpclient.targets import check_target

QUERY_PATH = "/api/v1/internal/federation/query"
CHANGES_PATH = "/api/v1/internal/federation/changes"


async def checked_registry_url(url: str, *, allow_http: bool, policy: AddressPolicy) -> str:
    """``url`` as stored: scheme and host lower-cased, no trailing slash. 422 (naming the
    field) for a URL that is not a plain http(s) base URL, for http when only https is
    allowed, and for a host that resolves to an address the policy refuses."""
    try:
        parsed = URL(url.strip())
    except ValueError:
        raise _invalid("Not a valid URL.") from None
    allowed = ("https", "http") if allow_http else ("https",)
    if parsed.scheme not in allowed:
        raise _invalid("Must be an https URL." if not allow_http else "Must be an http(s) URL.")
    if not parsed.raw_host:
        raise _invalid("The URL has no host.")
    if parsed.query_string or parsed.fragment:
        raise _invalid("A registry URL has no query or fragment.")
    try:
        check_target(parsed, policy)
    except FetchRefused as exc:
        raise _invalid(exc.reason[:1].upper() + exc.reason[1:] + ".") from None
    await _check_resolved(parsed.raw_host, policy)
    return str(parsed.with_path(parsed.path.rstrip("/"))).rstrip("/")


async def _check_resolved(host: str, policy: AddressPolicy) -> None:
    if policy.allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host.strip("[]"), None, type=socket.SOCK_STREAM
        )
    except OSError:
        raise _invalid(f"{host} could not be resolved.") from None
    refused = sorted({info[4][0] for info in infos if not policy.permits(str(info[4][0]))})
    if refused:
        raise _invalid(f"{host} resolves to {', '.join(refused)}, which is not a public address.")


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(details={"registry_url": [message]})
