"""Which URLs a card may carry.

An interface URL is what clients call, so it must be usable as written: absolute, http or
https, with a host, and no unfilled template (``{BASE_URL}``, ``${HOST}``, ``<your-host>``)
or placeholder text (``your-domain``, ``REPLACE_ME``) where the host belongs.

Hosts that are real but reachable only locally (``localhost``, private and loopback
addresses, single-label names, ``.local``/``.internal``/``.test``) and the domains RFC 2606
reserves for documentation (``example.com``) are accepted with a warning, not refused: the
official A2A samples publish them, development registries list such agents, and whether the
registry itself may reach a host is the SSRF-safe client's decision, not the card format's.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

WEB_SCHEMES = ("http", "https")
TEMPLATE_MARKERS = ("{", "}", "<", ">", "${")
PLACEHOLDER_HOST = re.compile(
    r"your[-_.]?(domain|host|server|agent|app|site|url|endpoint|company)|placeholder|changeme"
    r"|replace[-_]?me",
    re.IGNORECASE,
)
DOCUMENTATION_DOMAINS = ("example.com", "example.net", "example.org")
DOCUMENTATION_SUFFIXES = (".example", ".invalid")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".test", ".lan", ".home.arpa")


def link_url_problem(url: str) -> str | None:
    """Why ``url`` is no absolute web link (documentation, icon, provider), or None."""
    if any(marker in url for marker in TEMPLATE_MARKERS):
        return "Is a template with a placeholder still to fill in, not a URL."
    if any(character.isspace() for character in url):
        return "Must not contain whitespace."
    parts = urlsplit(url)
    if not parts.scheme:
        return "Must be an absolute http(s) URL; this one is relative or not a URL."
    if parts.scheme.lower() not in WEB_SCHEMES:
        return f"Must be an http(s) URL, not {parts.scheme}:."
    if not parts.hostname:
        return "Must name a host."
    return None


def interface_url_problem(url: str) -> str | None:
    """Why clients could not call ``url`` as written, or None."""
    problem = link_url_problem(url)
    if problem is not None:
        return problem
    parts = urlsplit(url)
    if PLACEHOLDER_HOST.search(parts.hostname or ""):
        return "Has placeholder text where the host belongs."
    try:
        port = parts.port
    except ValueError:
        return "Has an invalid port."
    if port == 0:
        return "Has port 0, which no client can connect to."
    return None


def interface_host_warning(url: str) -> str | None:
    """Why an accepted interface URL may still not answer other clients, or None."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host in DOCUMENTATION_DOMAINS or host.endswith(
        DOCUMENTATION_SUFFIXES + tuple("." + domain for domain in DOCUMENTATION_DOMAINS)
    ):
        return f"{host} is reserved for documentation (RFC 2606); no agent answers there."
    if _is_local_host(host):
        return f"{host} is reachable only from the agent's own machine or network."
    return None


def _is_local_host(host: str) -> bool:
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    return host == "localhost" or "." not in host or host.endswith(LOCAL_SUFFIXES)
