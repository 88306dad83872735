"""The HTTP client for URLs users give the registry: agent cards, ownership challenges, peers.

Every request goes through the same guard: http(s) only, no credentials, public addresses only
(checked on the address connected to, see :mod:`.resolver`), redirects followed one hop at a
time and each hop checked again, the body capped and the whole fetch timed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from agentvault_registry.config.settings import OutboundSettings
from agentvault_registry.core.errors import (
    FetchFailed,
    FetchRefused,
    FetchTimedOut,
    FetchTooLarge,
)
from agentvault_registry.core.httpclient.addresses import AddressPolicy
from agentvault_registry.core.httpclient.resolver import AddressRefused, GlobalOnlyResolver
from agentvault_registry.core.httpclient.targets import check_target, parse_url, shown_url
from agentvault_registry.core.httpclient.tls import (
    IdentityCheckingConnector,
    ServerIdentityContext,
)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_USER_AGENT = "AgentVault-Registry"
T = TypeVar("T")


@dataclass(frozen=True)
class FetchResult:
    status: int
    headers: CIMultiDictProxy[str]
    #: The URL that answered, after redirects.
    url: str
    body: bytes
    #: The parsed body, set by :meth:`SafeHttpClient.get_json`.
    json: Any = None


class SafeHttpClient:
    """One connection pool per app; use it as ``async with SafeHttpClient(settings) as client``.

    Raises :class:`FetchRefused` for a URL it will not fetch and :class:`FetchFailed` for one
    it could not; both answer 422 with the reason when a view lets them through.
    """

    def __init__(self, settings: OutboundSettings, *, user_agent: str = DEFAULT_USER_AGENT):
        self.settings = settings
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        self._resolver: GlobalOnlyResolver | None = None

    async def __aenter__(self) -> SafeHttpClient:
        self.policy = AddressPolicy(
            allow_private=self.settings.allow_private_targets,
            networks=self.settings.allowed_private_networks,
        )
        self._resolver = GlobalOnlyResolver(self.policy)
        self._session = aiohttp.ClientSession(
            connector=IdentityCheckingConnector(resolver=self._resolver),
            timeout=aiohttp.ClientTimeout(total=None, connect=self.settings.connect_timeout),
            headers={"User-Agent": self._user_agent},
            # Fetches are made for different users: none may see another's cookies.
            cookie_jar=aiohttp.DummyCookieJar(),
            # A proxy from the environment would connect instead of us, past the address check.
            trust_env=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
        if self._resolver is not None:
            # A connector closes only the resolver it made itself.
            await self._resolver.close()
        self._session = self._resolver = None

    async def get_json(
        self,
        url: str | URL,
        *,
        max_bytes: int | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        tls: ServerIdentityContext | None = None,
    ) -> FetchResult:
        """GET ``url`` and parse its body as JSON; any status but 2xx fails the fetch."""
        sent = {"Accept": "application/json", **(headers or {})}
        result = await self.get(url, max_bytes=max_bytes, timeout=timeout, headers=sent, tls=tls)
        return _parsed_json(result)

    async def get(
        self,
        url: str | URL,
        *,
        max_bytes: int | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        tls: ServerIdentityContext | None = None,
    ) -> FetchResult:
        """GET ``url``, following redirects; the answer whatever its status. ``tls``: as for
        :meth:`post_json`."""
        target = parse_url(url)
        max_bytes = max_bytes or self.settings.max_response_bytes
        timeout = timeout or self.settings.total_timeout
        return await _within(timeout, target, self._follow(target, max_bytes, headers, tls))

    async def post_json(
        self,
        url: str | URL,
        payload: Any,
        *,
        max_bytes: int | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        tls: ServerIdentityContext | None = None,
    ) -> FetchResult:
        """POST ``payload`` as JSON and parse the answer as JSON; any status but 2xx fails.

        ``tls`` connects with that context and its check of the server's certificate
        instead of the default verification.
        """
        sent = {"Accept": "application/json", **(headers or {})}
        answer = await self._post(url, sent, max_bytes, timeout, tls, json=payload)
        return _parsed_json(answer)

    async def post_form(
        self,
        url: str | URL,
        form: Mapping[str, str],
        *,
        max_bytes: int | None = None,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        """POST ``form`` URL-encoded (an OAuth token request, say); the answer whatever its
        status, its body unparsed: a 400 there carries the error the caller must report."""
        return await self._post(url, headers or {}, max_bytes, timeout, None, data=dict(form))

    async def _post(
        self,
        url: str | URL,
        headers: Mapping[str, str],
        max_bytes: int | None,
        timeout: float | None,
        tls: ServerIdentityContext | None,
        **body: Any,
    ) -> FetchResult:
        """One POST. Redirects are never followed: a POST carries credentials meant for one
        server, and an API that redirects its POSTs is misconfigured, so a redirect fails it.
        """
        target = parse_url(url)
        check_target(target, self.policy)
        answer = await _within(
            timeout or self.settings.total_timeout,
            target,
            self._fetch_once(
                target,
                max_bytes or self.settings.max_response_bytes,
                headers,
                method="POST",
                tls=tls,
                **body,
            ),
        )
        if isinstance(answer, URL):
            raise FetchRefused(url=shown_url(target), reason="the server answered with a redirect")
        return answer

    async def _follow(
        self,
        url: URL,
        max_bytes: int,
        headers: Mapping[str, str] | None,
        tls: ServerIdentityContext | None,
    ) -> FetchResult:
        redirects = 0
        while True:
            check_target(url, self.policy)
            answer = await self._fetch_once(url, max_bytes, headers, tls=tls)
            if isinstance(answer, FetchResult):
                return answer
            if redirects == self.settings.max_redirects:
                raise FetchFailed(
                    url=shown_url(url),
                    reason=f"more than {self.settings.max_redirects} redirects",
                )
            redirects += 1
            url = answer

    async def _fetch_once(
        self,
        url: URL,
        max_bytes: int,
        headers: Mapping[str, str] | None,
        *,
        method: str = "GET",
        tls: ServerIdentityContext | None = None,
        **body: Any,
    ) -> FetchResult | URL:
        """The answer of one request, or the URL it redirects to (not yet checked)."""
        if self._session is None:
            raise RuntimeError("SafeHttpClient is used outside its `async with` block")
        shown = shown_url(url)
        try:
            async with self._session.request(
                method,
                url,
                headers=headers,
                allow_redirects=False,
                # True: aiohttp's default verification (chain and host name).
                ssl=tls if tls is not None else True,
                **body,
            ) as response:
                location = _redirect_location(response, shown)
                if location is not None:
                    return location
                body = await _read_capped(response, max_bytes, shown)
                return FetchResult(response.status, response.headers, str(response.url), body)
        except aiohttp.ClientConnectorDNSError as exc:
            if isinstance(exc.os_error, AddressRefused):
                raise FetchRefused(url=shown, reason=str(exc.os_error)) from exc
            raise FetchFailed(url=shown, reason=f"{url.host} could not be resolved") from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise FetchTimedOut(
                url=shown,
                reason=f"no connection within {self.settings.connect_timeout:g} seconds",
            ) from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise FetchFailed(
                url=shown, reason=f"the TLS certificate of {url.host} is not trusted"
            ) from exc
        except aiohttp.ClientSSLError as exc:
            raise FetchFailed(
                url=shown, reason=f"the TLS handshake with {url.host} failed"
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise FetchFailed(url=shown, reason=f"could not connect to {url.host}") from exc
        except aiohttp.ClientError as exc:
            raise FetchFailed(url=shown, reason=f"the request failed: {exc}") from exc


async def _within(timeout: float, target: URL, work: Awaitable[T]) -> T:
    """``work``'s result, or :class:`FetchTimedOut` once ``timeout`` seconds have passed."""
    try:
        async with asyncio.timeout(timeout):
            return await work
    except TimeoutError as exc:
        raise FetchTimedOut(
            url=shown_url(target), reason=f"no complete answer within {timeout:g} seconds"
        ) from exc


def _parsed_json(result: FetchResult) -> FetchResult:
    """``result`` with its body parsed; a status but 2xx, or a body not JSON, fails it."""
    if not 200 <= result.status < 300:
        raise FetchFailed(
            url=result.url,
            reason=f"the server answered HTTP {result.status}",
            details={"status": result.status},
        )
    try:
        # NaN and Infinity are no JSON: a value that carried them on would break clients.
        data = json.loads(result.body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise FetchFailed(url=result.url, reason="the answer is not valid JSON") from exc
    return dataclasses.replace(result, json=data)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _redirect_location(response: aiohttp.ClientResponse, shown: str) -> URL | None:
    location = response.headers.get("Location")
    if response.status not in REDIRECT_STATUSES or not location:
        return None
    try:
        return response.url.join(URL(location))
    except ValueError as exc:
        raise FetchFailed(url=shown, reason="the redirect location is not a valid URL") from exc


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int, shown: str) -> bytes:
    """The body, read a chunk at a time so an endless or huge one stops at the cap."""
    if response.content_length is not None and response.content_length > max_bytes:
        raise _too_large(shown, max_bytes)
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(shown, max_bytes)
    return bytes(body)


def _too_large(shown: str, max_bytes: int) -> FetchTooLarge:
    return FetchTooLarge(url=shown, reason=f"the answer is larger than {max_bytes} bytes")
