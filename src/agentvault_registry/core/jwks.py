"""Fetching the JWK Sets that vouch for signatures, through an SSRF-safe client, cached in
the cache backend (shared by every process) for ``ttl`` seconds."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from yarl import URL

from agentvault_registry.core.errors import BackendError, FetchFailed, FetchRefused
from agentvault_registry.core.httpclient import SafeHttpClient
from agentvault_registry.core.httpclient.tls import ServerIdentityContext
from agentvault_registry.storage_backends.base import CacheBackend

log = logging.getLogger(__name__)

WELL_KNOWN_JWKS = "/.well-known/jwks.json"
#: A JWK Set is a few keys; a larger answer is no JWK Set we use.
MAX_JWKS_BYTES = 64 * 1024
MAX_KEYS = 50


class KeysUnavailable(Exception):
    """The JWK Set could not be had; ``refused`` when the registry would not fetch it."""

    def __init__(self, reason: str, *, refused: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.refused = refused


def jwks_url(origin: str) -> str:
    return origin.rstrip("/") + WELL_KNOWN_JWKS


class JwksFetcher:
    def __init__(
        self,
        http: SafeHttpClient,
        cache: CacheBackend,
        *,
        ttl: int,
        timeout: float,
        allow_http: bool,
        cache_prefix: str,
    ) -> None:
        """``cache_prefix``: the owner's name; keys fetched through different clients (and
        address policies) are cached apart."""
        self.cache_prefix = cache_prefix
        self.http = http
        self.cache = cache
        self.ttl = ttl
        self.timeout = timeout
        self.allow_http = allow_http

    async def keys(
        self, url: str, *, tls: ServerIdentityContext | None = None
    ) -> list[Mapping[str, Any]]:
        """The keys of the JWK Set at ``url``; :class:`KeysUnavailable` saying why not.
        ``tls``: as for :meth:`SafeHttpClient.get`."""
        scheme = URL(url).scheme
        if scheme != "https" and not (scheme == "http" and self.allow_http):
            raise KeysUnavailable(f"keys are fetched over https only, not from {url}", refused=True)
        cache_key = f"{self.cache_prefix}:jwks:" + hashlib.sha256(url.encode()).hexdigest()[:32]
        cached = await self._cached(cache_key)
        if cached is not None:
            return cached
        try:
            result = await self.http.get_json(
                url, max_bytes=MAX_JWKS_BYTES, timeout=self.timeout, tls=tls
            )
        except FetchRefused as exc:
            raise KeysUnavailable(f"refused to fetch {url}: {exc.reason}", refused=True) from None
        except FetchFailed as exc:
            raise KeysUnavailable(f"could not fetch {url}: {exc.reason}") from None
        keys = _keys_of(result.json, url)
        if self.ttl:
            try:
                await self.cache.set(cache_key, json.dumps(keys).encode(), ttl=self.ttl)
            except BackendError as exc:
                log.warning("could not cache the JWK Set of %s: %s", url, exc)
        return keys

    async def _cached(self, cache_key: str) -> list[Mapping[str, Any]] | None:
        if not self.ttl:
            return None
        try:
            data = await self.cache.get(cache_key)
        except BackendError as exc:
            log.warning("the cache is unavailable, fetching keys: %s", exc)
            return None
        return None if data is None else json.loads(data)


def _keys_of(document: Any, url: str) -> list[Mapping[str, Any]]:
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not all(isinstance(key, dict) for key in keys):
        raise KeysUnavailable(f"{url} is not a JWK Set (no list of keys)")
    if len(keys) > MAX_KEYS:
        raise KeysUnavailable(f"{url} lists more than {MAX_KEYS} keys")
    return keys
