"""A TEG token endpoint on loopback that checks what the registry sends as a real TEG would:
the JWT-bearer grant, the scope, the client's Basic credentials, and the assertion (its
signature, against the registry's published JWK Set or a key the test trusts; its audience,
lifetime and a jti never seen before). It records every call."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

import aiohttp
import jwt
from aiohttp import web

from support import free_port

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_PATH = "/oauth/token"
SCOPES = frozenset({"agent:economics", "agent:reputation"})
ALGORITHMS = ["EdDSA", "ES256"]
#: Assertions meant to live longer than this are refused (the registry's maximum is 300 s).
MAX_ASSERTION_LIFETIME = 300

Behaviour = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class TegCall:
    form: dict[str, str]
    headers: dict[str, str]
    #: The assertion's header and claims once its signature checked out.
    assertion_header: dict[str, Any] | None = None
    claims: dict[str, Any] | None = None


@dataclass
class FakeTeg:
    #: Where the registry's JWK Set is; set once the registry listens.
    jwks_url: str | None = None
    #: Keys trusted beside the registry's, by kid (a workload identity's, say).
    trusted_keys: dict[str, Any] = field(default_factory=dict)
    client_id: str | None = None
    client_secret: str | None = None
    expires_in: int = 3600
    #: Claims an assertion must carry: a JWT-SVID carries no iss, nbf or jti.
    required_claims: tuple[str, ...] = ("iss", "sub", "aud", "exp", "iat", "nbf", "jti")
    #: Answers every call instead of the checks, when set.
    behaviour: Behaviour | None = None
    #: While set and not yet open, every call waits for it before being answered.
    gate: asyncio.Event | None = None
    calls: list[TegCall] = field(default_factory=list)
    seen_jti: set[str] = field(default_factory=set)
    port: int = 0
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{TOKEN_PATH}"

    @property
    def issued(self) -> list[TegCall]:
        """The calls that were answered with a token."""
        return [call for call in self.calls if call.claims is not None]

    async def start(self) -> FakeTeg:
        app = web.Application()
        app.router.add_post(TOKEN_PATH, self._token)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession()
        return self

    async def close(self) -> None:
        if self.gate is not None:
            self.gate.set()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _token(self, request: web.Request) -> web.StreamResponse:
        form = {name: str(value) for name, value in (await request.post()).items()}
        call = TegCall(form, dict(request.headers))
        self.calls.append(call)
        if self.gate is not None:
            await self.gate.wait()
        if self.behaviour is not None:
            return await self.behaviour(request)
        refusal = self._client_refusal(request) or await self._grant_refusal(form, call)
        if refusal is not None:
            return refusal
        return web.json_response(
            {
                "access_token": f"teg-access-{len(self.calls)}",
                "token_type": "bearer",
                "expires_in": self.expires_in,
                "scope": form["scope"],
                "refresh_token": "never used by a JWT-bearer client",
            },
            headers={"Cache-Control": "no-store"},
        )

    def _client_refusal(self, request: web.Request) -> web.Response | None:
        if self.client_id is None:
            return None
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        if scheme != "Basic" or (unquote_plus(user), unquote_plus(password)) != (
            self.client_id,
            self.client_secret,
        ):
            return oauth_error(401, "invalid_client", "Client authentication failed.")
        return None

    async def _grant_refusal(self, form: dict[str, str], call: TegCall) -> web.Response | None:
        if form.get("grant_type") != JWT_BEARER:
            return oauth_error(400, "unsupported_grant_type", "Only the JWT bearer grant.")
        scope = form.get("scope", "").split()
        if not scope or not set(scope) <= SCOPES:
            return oauth_error(400, "invalid_scope", f"Unknown scope in {form.get('scope')!r}.")
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            key = await self._key(header.get("kid"))
            claims = jwt.decode(
                assertion,
                key,
                algorithms=ALGORITHMS,
                audience=self.url,
                options={"require": list(self.required_claims)},
            )
        except (jwt.InvalidTokenError, LookupError) as exc:
            return oauth_error(400, "invalid_grant", f"The assertion is not valid: {exc}.")
        if claims["exp"] - claims.get("iat", claims["exp"]) > MAX_ASSERTION_LIFETIME:
            return oauth_error(400, "invalid_grant", "The assertion lives too long.")
        if "jti" in claims:
            if claims["jti"] in self.seen_jti:
                return oauth_error(400, "invalid_grant", "The assertion was already used.")
            self.seen_jti.add(claims["jti"])
        call.assertion_header, call.claims = header, claims
        return None

    async def _key(self, kid: str | None) -> Any:
        if kid in self.trusted_keys:
            return self.trusted_keys[kid]
        assert self._session is not None and self.jwks_url is not None
        async with self._session.get(self.jwks_url) as response:
            published = jwt.PyJWKSet.from_dict(await response.json())
        for key in published.keys:
            if key.key_id == kid:
                return key
        raise LookupError(f"no published key has kid {kid!r}")


def oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response(
        {"error": error, "error_description": description},
        status=status,
        headers={"Cache-Control": "no-store"},
    )
