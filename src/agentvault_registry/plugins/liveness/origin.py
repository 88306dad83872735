"""Asking an agent's origin for its card: the well-known paths in turn, conditionally when an
ETag is known, through the SSRF-safe client and the prober's slots."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from yarl import URL

from agentvault_registry.core.errors import FetchFailed, FetchTooLarge, ValidationFailed
from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.plugins.agents.cards import WELL_KNOWN_CARD_PATHS
from agentvault_registry.plugins.liveness.slots import HostSlots
from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.health import ProbeState

NOT_MODIFIED = 304


@dataclass(frozen=True)
class Origin:
    #: ``scheme://host:port`` of the agent's first interface URL.
    url: str
    #: ``host:port``: what the per-host limits count.
    host: str

    @classmethod
    def of(cls, agent: AgentRecord) -> Origin:
        """The origin of ``agent``'s first interface URL; 422 when it has none usable."""
        if not agent.api_endpoints:
            raise ValidationFailed(
                "The agent has no interface URL to fetch its card from.",
                details={"apiEndpoints": ["The agent has no interface URL."]},
            )
        try:
            parsed = URL(agent.api_endpoints[0])
            port = parsed.port
        except ValueError:
            parsed, port = URL(), None
        if parsed.scheme not in ("http", "https") or not parsed.host or not port:
            raise ValidationFailed(
                "The agent's first interface URL is not an http(s) URL with a host.",
                details={"apiEndpoints": ["Not an http(s) URL with a host."]},
            )
        host = parsed.host.lower()
        # IPv6 literals keep their brackets, as in a URL: "[::1]:8080" is one host:port.
        shown = f"[{host}]" if ":" in host else host
        return cls(f"{parsed.scheme}://{shown}:{port}", f"{shown}:{port}")


@dataclass(frozen=True)
class OriginAnswer:
    """What asking an origin for the agent's card came to."""

    origin: Origin
    #: Whether any HTTP answer came (the uptime counts these).
    reachable: bool
    status: int | None = None
    latency_ms: float | None = None
    #: The well-known path of the answer (the last one asked when none had the card).
    path: str | None = None
    etag: str | None = None
    #: The body of a 2xx answer.
    body: bytes | None = None
    #: Why there is no card to use: no answer, one too large, or a status but 2xx and 304.
    failure: FetchFailed | None = None

    @property
    def url(self) -> str:
        return self.origin.url + (self.path or "")


def _paths(origin: Origin, previous: ProbeState | None) -> list[str]:
    """The well-known paths, the one that answered last time first."""
    paths = list(WELL_KNOWN_CARD_PATHS)
    if previous is not None and previous.origin == origin.url and previous.card_path in paths:
        paths.remove(previous.card_path)
        paths.insert(0, previous.card_path)
    return paths


def _known_etag(origin: Origin, path: str, previous: ProbeState | None) -> str | None:
    """The ETag to send back for ``path``: only one whose card the registry knows, since a
    304 then means that card is still served."""
    if (
        previous is None
        or previous.origin != origin.url
        or previous.card_path != path
        or previous.served_card_hash is None
    ):
        return None
    return previous.etag


async def fetch_card(
    client: SafeHttpClient,
    slots: HostSlots,
    origin: Origin,
    *,
    timeout: float,
    previous: ProbeState | None = None,
    conditional: bool = True,
    not_after: float | None = None,
) -> OriginAnswer:
    """Ask ``origin`` for its card at each well-known path until one is not a 404.
    ``conditional``: send the ETag of the card ``previous`` found as ``If-None-Match``.
    :class:`~agentvault_registry.plugins.liveness.slots.SlotExpired` when ``not_after``
    passes before a request could start."""
    loop = asyncio.get_running_loop()
    paths = _paths(origin, previous)
    for path in paths:
        headers = {"Accept": "application/json"}
        etag = _known_etag(origin, path, previous) if conditional else None
        if etag is not None:
            headers["If-None-Match"] = etag
        async with slots.request(origin.host, not_after=not_after):
            started = loop.time()
            try:
                result = await client.get(origin.url + path, timeout=timeout, headers=headers)
            except FetchTooLarge as exc:
                latency = (loop.time() - started) * 1000
                return OriginAnswer(origin, True, latency_ms=latency, path=path, failure=exc)
            except FetchFailed as exc:
                return OriginAnswer(origin, False, failure=exc)
            latency = (loop.time() - started) * 1000
        if result.status == 404 and path != paths[-1]:
            continue
        usable = 200 <= result.status < 300 or result.status == NOT_MODIFIED
        return OriginAnswer(
            origin,
            True,
            status=result.status,
            latency_ms=latency,
            path=path,
            etag=result.headers.get("ETag"),
            body=result.body if 200 <= result.status < 300 else None,
            failure=None
            if usable
            else FetchFailed(
                url=result.url,
                reason=f"the server answered HTTP {result.status}",
                details={"status": result.status},
            ),
        )
    raise AssertionError("the last path always answers")
