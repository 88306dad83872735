"""``RegistryClient``: the registry's REST API from async Python.

::

    async with RegistryClient("https://registry.example.org", api_key="avk_...") as registry:
        agent = await registry.create_agent(card=card)
        found = await registry.search("weather", capabilities=["forecast"])

Errors come back as :class:`~agentvault_registry.client.errors.RegistryAPIError` subclasses.
Idempotent requests (GET, PUT, DELETE) answered 429 or 503 are retried after the
``Retry-After`` the registry sent, a bounded number of times; a POST never is, since the
registry may have acted on it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import aiohttp

from agentvault_registry.client.errors import (
    RegistryConnectionError,
    error_from_response,
)

API = "/api/v1"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRIED_STATUSES = frozenset({429, 503})
#: Waits longer than this are not slept through: the caller gets the error and decides.
MAX_RETRY_WAIT = 60.0


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(str(item) for item in value)
    return str(value)


def query_params(**params: Any) -> dict[str, str]:
    """Query parameters as the registry reads them: lists comma-separated, booleans
    ``true``/``false``, None left out."""
    return {key: _query_value(value) for key, value in params.items() if value is not None}


class RegistryClient:
    """An async client of one registry.

    :param base_url: the registry's root URL (``https://registry.example.org``).
    :param api_key: an ``avk_`` key, sent as ``X-API-Key``.
    :param access_token: a JWT access token, sent as a bearer token (wins over the key).
    :param timeout: seconds for a whole request.
    :param max_retries: retries of an idempotent request answered 429 or 503.
    :param session: an aiohttp session to share; the client then does not close it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        access_token: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.access_token = access_token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_retries = max_retries
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client's own session (a shared one is left to its owner)."""
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None if self._owns_session else self._session

    def _session_for_request(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    def _auth_headers(self) -> dict[str, str]:
        if self.access_token:
            return {"Authorization": f"Bearer {self.access_token}"}
        if self.api_key:
            return {"X-API-Key": self.api_key}
        return {}

    # ------------------------------------------------------------------ transport

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Any, Mapping[str, str]]:
        """Send one request to ``path`` (below the base URL); the decoded JSON body (None for
        an empty one) and the response headers. Raises RegistryAPIError for an error status,
        RegistryConnectionError when the registry cannot be reached."""
        method = method.upper()
        attempts = 1 + (self.max_retries if method in IDEMPOTENT else 0)
        all_headers = {"Accept": "application/json", **self._auth_headers(), **(headers or {})}
        for attempt in range(attempts):
            try:
                async with self._session_for_request().request(
                    method,
                    self.base_url + path,
                    json=json,
                    params=params,
                    headers=all_headers,
                    allow_redirects=False,
                ) as response:
                    raw = await response.read()
                    body = _decoded(raw, response.content_type)
                    if response.status < 400:
                        return body, response.headers
                    error = error_from_response(
                        response.status, body, response.headers.get("Retry-After")
                    )
            except (TimeoutError, aiohttp.ClientError) as exc:
                reason = str(exc) or type(exc).__name__
                raise RegistryConnectionError(f"cannot reach {self.base_url}: {reason}") from exc
            wait = error.retry_after if error.retry_after is not None else 1.0
            if (
                error.status not in RETRIED_STATUSES
                or attempt == attempts - 1
                or wait > MAX_RETRY_WAIT
            ):
                raise error
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        body, _ = await self.request(method, API + path, **kwargs)
        return body

    # ----------------------------------------------------------------------- auth

    async def register(self, email: str, username: str, password: str) -> dict[str, Any]:
        """Create an account (``POST /auth/register``); the new user."""
        return await self._json(
            "POST",
            "/auth/register",
            json={"email": email, "username": username, "password": password},
        )

    async def login(
        self, password: str, *, username: str | None = None, email: str | None = None
    ) -> dict[str, Any]:
        """Log in by username or email; the token pair. The client uses the new access token
        for what follows."""
        body: dict[str, str] = {"password": password}
        if username is not None:
            body["username"] = username
        if email is not None:
            body["email"] = email
        tokens = await self._json("POST", "/auth/login", json=body)
        self.access_token = tokens["access_token"]
        return tokens

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Trade a refresh token for a new pair (the old refresh token is spent)."""
        tokens = await self._json("POST", "/auth/refresh", json={"refresh_token": refresh_token})
        self.access_token = tokens["access_token"]
        return tokens

    async def logout(self) -> None:
        """End the session of the current access token (the registry denylists it)."""
        await self._json("POST", "/auth/logout")
        self.access_token = None

    async def me(self) -> dict[str, Any]:
        """The account the credentials belong to."""
        return await self._json("GET", "/auth/me")

    async def list_api_keys(self) -> list[dict[str, Any]]:
        """The caller's API keys (never their secrets)."""
        return (await self._json("GET", "/auth/api-keys"))["api_keys"]

    async def create_api_key(
        self, name: str, scopes: Sequence[str], *, expires_at: str | None = None
    ) -> dict[str, Any]:
        """A new API key; the response holds its secret, shown this once. Needs a session
        (an access token), not another key."""
        body: dict[str, Any] = {"name": name, "scopes": list(scopes)}
        if expires_at is not None:
            body["expires_at"] = expires_at
        return await self._json("POST", "/auth/api-keys", json=body)

    async def revoke_api_key(self, key_id: str) -> None:
        """Revoke one of the caller's API keys."""
        await self._json("DELETE", f"/auth/api-keys/{key_id}")

    # --------------------------------------------------------------------- agents

    async def list_agents(
        self,
        *,
        mine: bool = False,
        status: str | None = None,
        agent_type: str | None = None,
        capability: str | None = None,
        per_page: int = 100,
        cursor: str | None = None,
        page: int | None = None,
        fields: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """One page of ``GET /agents``: ``{"agents": [...], "pagination": {...}}``. ``mine``
        lists the caller's own agents (``owner=me``)."""
        params = query_params(
            owner="me" if mine else None,
            status=status,
            agent_type=agent_type,
            capability=capability,
            per_page=per_page,
            cursor=cursor,
            page=page,
            fields=fields,
        )
        return await self._json("GET", "/agents", params=params)

    async def iter_agents(self, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        """Every agent :meth:`list_agents` would list, following the cursors."""
        cursor: str | None = None
        while True:
            page = await self.list_agents(cursor=cursor, **filters)
            for agent in page["agents"]:
                yield agent
            cursor = page["pagination"].get("next_cursor")
            if not cursor:
                return

    async def get_agent(self, agent_id: str) -> dict[str, Any]:
        """One agent by UUID, DID or humanReadableId."""
        return await self._json("GET", f"/agents/{agent_id}")

    async def get_agent_with_etag(self, agent_id: str) -> tuple[dict[str, Any], str]:
        """One agent and its ETag, for a later write with ``if_match``."""
        body, headers = await self.request("GET", f"{API}/agents/{agent_id}")
        return body, headers["ETag"]

    async def create_agent(
        self,
        *,
        card: Mapping[str, Any] | None = None,
        card_url: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Register an agent from an A2A card, a card URL the registry fetches, or plain
        fields (``name``, ``description``, ``humanReadableId``, ``metadata``... as the API
        spells them). The response includes ``cardWarnings``: what upgrading the card
        changed."""
        body = dict(fields)
        if card is not None:
            body["card"] = dict(card)
        if card_url is not None:
            body["cardUrl"] = card_url
        return await self._json("POST", "/agents", json=body)

    async def update_agent(
        self,
        agent_id: str,
        fields: Mapping[str, Any],
        *,
        if_match: str | int | None = None,
        replace: bool = False,
    ) -> dict[str, Any]:
        """Change an agent (PATCH, or PUT with ``replace``). ``if_match`` is the ETag read
        before, or the version number (then ``agent_id`` must be the UUID, as ETags name
        it): a 412 (PreconditionFailedError) when it is stale."""
        headers = {"If-Match": _etag(agent_id, if_match)} if if_match is not None else {}
        return await self._json(
            "PUT" if replace else "PATCH",
            f"/agents/{agent_id}",
            json=dict(fields),
            headers=headers,
        )

    async def delete_agent(self, agent_id: str, *, if_match: str | int | None = None) -> None:
        """Delete an agent (the registry keeps a tombstone)."""
        headers = {"If-Match": _etag(agent_id, if_match)} if if_match is not None else {}
        await self._json("DELETE", f"/agents/{agent_id}", headers=headers)

    async def get_agent_card(self, agent_id: str, *, version: str | None = None) -> dict[str, Any]:
        """The A2A card the registry serves for an agent (``version`` "1.0" or "0.3")."""
        return await self._json(
            "GET", f"/agents/{agent_id}/card", params=query_params(version=version)
        )

    # ------------------------------------------------------------------ discovery

    async def search(
        self,
        text: str | None = None,
        *,
        capabilities: Sequence[str] | None = None,
        capability_match: str | None = None,
        federated: bool = False,
        sort: str | None = None,
        page: int | None = None,
        per_page: int | None = None,
        cursor: str | None = None,
        fields: Sequence[str] | None = None,
        prefer: Sequence[str] | None = None,
        facets: bool | None = None,
        explain: bool | None = None,
        **filters: Any,
    ) -> dict[str, Any]:
        """``GET /discovery/agents``: agents matching ``text`` and the filters. ``filters``
        are the API's (``agent_type``, ``tags``, ``verified``, ``healthy``,
        ``protocol_binding``, ``streaming``...); lists are sent comma-separated. The response
        has ``agents``, ``pagination`` (with ``next_cursor``) and ``federation_status``."""
        params = query_params(
            q=text,
            capabilities=capabilities,
            capability_match=capability_match,
            include_federated=federated or None,
            sort=sort,
            page=page,
            per_page=per_page,
            cursor=cursor,
            fields=fields,
            prefer=prefer,
            facets=facets,
            explain=explain,
            **filters,
        )
        return await self._json("GET", "/discovery/agents", params=params)

    async def iter_search(self, text: str | None = None, **options: Any) -> AsyncIterator[dict]:
        """Every agent :meth:`search` finds, following the cursors."""
        cursor: str | None = None
        while True:
            found = await self.search(text, cursor=cursor, **options)
            for agent in found["agents"]:
                yield agent
            cursor = found["pagination"].get("next_cursor")
            if not cursor:
                return

    async def capabilities(self, **params: Any) -> dict[str, Any]:
        """``GET /discovery/capabilities``: the capabilities agents declare, with counts."""
        return await self._json("GET", "/discovery/capabilities", params=query_params(**params))

    # ----------------------------------------------------------------- onboarding

    async def create_bootstrap_token(
        self,
        *,
        agent_type_hint: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        expires_in: int | None = None,
    ) -> dict[str, Any]:
        """A single-use bootstrap token (``BST_...``, shown this once) an agent registers
        itself with."""
        body: dict[str, Any] = {}
        if agent_type_hint is not None:
            body["agent_type_hint"] = agent_type_hint
        if metadata:
            body["metadata"] = dict(metadata)
        if expires_in is not None:
            body["expires_in"] = expires_in
        return await self._json("POST", "/onboard/bootstrap/request-token", json=body)

    async def list_bootstrap_tokens(
        self, *, per_page: int = 20, cursor: str | None = None
    ) -> dict[str, Any]:
        """One page of the caller's bootstrap tokens."""
        params = query_params(per_page=per_page, cursor=cursor)
        return await self._json("GET", "/onboard/bootstrap/tokens", params=params)

    async def revoke_bootstrap_token(self, token_id: str) -> None:
        """Revoke an unused bootstrap token."""
        await self._json("DELETE", f"/onboard/bootstrap/tokens/{token_id}")

    # ------------------------------------------------------------- federation, ops

    async def federation_status(self) -> dict[str, Any]:
        """``GET /admin/federation/status`` (admins): the peers and how they answer."""
        return await self._json("GET", "/admin/federation/status")

    async def health(self) -> dict[str, Any]:
        """``GET /health``: the registry process is up."""
        body, _ = await self.request("GET", "/health")
        return body


def _etag(agent_id: str, if_match: str | int) -> str:
    """An ``If-Match`` value: an ETag as read, or one built from a version number."""
    if isinstance(if_match, int):
        return f'"{agent_id}.{if_match}"'
    return if_match


def _decoded(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")
    return raw.decode("utf-8", "replace")
