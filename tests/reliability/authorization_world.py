"""The registry the authorization matrix runs against: three verified accounts (developers A
and B, an admin), the credentials of every identity of the table, the objects each account
owns, and fresh objects, bodies and sessions for the cells that use them up."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp.test_utils import TestClient
from authorization_table import (
    ADMIN,
    AGENT,
    API_KEY,
    BOOTSTRAP_TOKEN,
    OWNERS,
    PEER,
    USER,
    A,
    B,
    Row,
)

from agent_origins import AgentOrigin, card_at
from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE
from agentvault_registry.plugins.auth.tokens import ACCESS
from agentvault_registry.plugins.mail.appkeys import MAILER
from support import PASSWORD, fast_registry, self_onboarded, sign_up

METRICS_TOKEN = "matrix-metrics-scraper-token-0123456789"


def app_overrides(teg_url: str, limits: Iterable[str]) -> dict[str, Any]:
    """A registry guarded as in production (metrics behind a token) that may reach the
    agents' origin and the TEG on loopback, with no scheduled probing and ``limits`` (all
    the registry declares) out of the matrix's reach."""
    return fast_registry(
        limits,
        metrics={"token": METRICS_TOKEN},
        outbound={"allow_private_targets": True},
        plugins={
            "auth": {"bcrypt_cost": 4},
            "liveness": {"enabled": False, "per_host_delay": 0},
            "federation": {"allow_http": True, "allow_private_peers": True},
            "teg_bridge": {"token_url": teg_url, "allow_http": True, "allow_private": True},
        },
    )


#: Signs in for the login, refresh and password-recovery cells, whose bodies need an account
#: that is nobody's identity in the table.
BYSTANDER = "bystander"
#: Resets its password in the recovery cells: not the bystander, whom the recover cells mail
#: in the background (a late mail of theirs would be read as this cell's token).
RECOVEREE = "recoveree"
ME = "/api/v1/auth/me"
RESERVED_CLAIMS = ("sub", "iss", "aud", "iat", "exp", "jti", "typ")


@dataclass
class Account:
    """A verified account and what it owns for the whole matrix."""

    username: str
    user_id: str
    headers: dict[str, str]
    objects: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """One cell as a request."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any = None


@dataclass
class World:
    client: TestClient
    origin: AgentOrigin
    accounts: dict[str, Account]
    #: Request headers of every identity of the table.
    credentials: dict[str, dict[str, str]]
    peer_id: str = ""
    sibling_agent: str = ""
    serial: itertools.count = field(default_factory=lambda: itertools.count(1))

    # ------------------------------------------------------------------ building

    @classmethod
    async def build(cls, client: TestClient, origin: AgentOrigin) -> World:
        accounts = {}
        for owner, role in ((A, None), (B, None), (ADMIN, "admin")):
            signed = await sign_up(client, f"matrix{owner}", role=role)
            accounts[owner] = Account(f"matrix{owner}", signed.user_id, signed.headers)
        await sign_up(client, BYSTANDER)
        await sign_up(client, RECOVEREE)
        world = cls(client, origin, accounts, {})
        a = accounts[A]
        # A's agent registered itself: its key is the "agent key of A" of the table.
        onboarded = await self_onboarded(client, a.headers, world.agent_body())
        a.objects[AGENT] = onboarded["agent"]["id"]
        for owner in (B, ADMIN):
            accounts[owner].objects[AGENT] = await world.new_agent(owner)
        world.sibling_agent = await world.new_agent(A)
        for owner, account in accounts.items():
            account.objects[API_KEY] = (await world.new_api_key(owner))["id"]
            account.objects[BOOTSTRAP_TOKEN] = (await world.new_bootstrap_token(owner))["id"]
            account.objects[USER] = account.user_id
        peer = await world.new_peer()
        world.peer_id = peer["id"]
        revoked = await world.new_api_key(A, scopes=["agents:read", "agents:write"])
        # Each refused credential differs from a working one only by what the table says:
        # the key worked until revoked, and the same token minted now works.
        await world.expect(200, "GET", ME, {"X-API-Key": revoked["key"]})
        await world.expect(201, "DELETE", f"/api/v1/auth/api-keys/{revoked['id']}", a.headers)
        await world.expect(200, "GET", ME, {"Authorization": f"Bearer {world.token_of(a, 0)}"})
        world.credentials = {
            "anonymous": {},
            "developer_a": a.headers,
            "developer_b": accounts[B].headers,
            "agent_key_a": {"X-API-Key": onboarded["credentials"]["api_key"]},
            "admin": accounts[ADMIN].headers,
            # The agent key goes in X-API-Key, the revoked one as a bearer: both ways count.
            "revoked_key": {"Authorization": f"Bearer {revoked['key']}"},
            "expired_token": {"Authorization": f"Bearer {world.token_of(a, 3600)}"},
            "peer": {"Authorization": f"Bearer {peer['inbound_token']}"},
            "scraper": {"Authorization": f"Bearer {METRICS_TOKEN}"},
        }
        return world

    def token_of(self, account: Account, age: float) -> str:
        """An access token of ``account``'s session, signed with the registry's key, issued
        ``age`` seconds ago for 5 minutes (so expired when ``age`` is an hour)."""
        bearer = account.headers["Authorization"].removeprefix("Bearer ")
        claims = jwt.decode(bearer, options={"verify_signature": False})
        kept = {key: value for key, value in claims.items() if key not in RESERVED_CLAIMS}
        issued = self.client.app[AUTH_SERVICE].codec.issue(
            ACCESS,
            subject=claims["sub"],
            ttl=dt.timedelta(minutes=5),
            now=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age),
            claims=kept,
        )
        return issued.token

    # ------------------------------------------------------------------ requests

    async def expect(self, status: int, method: str, path: str, headers, **kwargs) -> Any:
        """The JSON of a set-up request that must answer ``status`` (201 stands for any 2xx)."""
        response = await self.client.request(method, path, headers=headers, **kwargs)
        text = await response.text()
        assert response.status == status or (status == 201 and response.ok), (
            f"set-up {method} {path}: {response.status} {text}"
        )
        return await response.json() if text else None

    async def answer(self, call: Call, *, stream: bool) -> tuple[int, str | None, str]:
        """The status of ``call``, the ``error`` code of its JSON body (None without one) and
        the body. A stream is only opened: its status says whether it was let in."""
        response = await self.client.request(
            call.method, call.path, headers=call.headers, json=call.json
        )
        try:
            if (stream and response.status == 200) or call.method == "HEAD":
                return response.status, None, ""
            text = await response.text()
            try:
                body = json.loads(text)
            except ValueError:
                return response.status, None, text
            code = body.get("error") if isinstance(body, dict) else None
            return response.status, code, text
        finally:
            response.close()

    def object_of(self, owner: str, kind: str) -> str:
        return self.accounts[owner].objects[kind]

    # ----------------------------------------------------------- fresh objects

    def agent_body(self) -> dict[str, Any]:
        """A valid agent registration whose card the origin on loopback serves."""
        n = next(self.serial)
        card = card_at(self.origin.url, name=f"Matrix Agent {n}")
        return {"card": card}

    async def new_agent(self, owner: str) -> str:
        headers = self.accounts[owner].headers
        body = await self.expect(201, "POST", "/api/v1/agents", headers, json=self.agent_body())
        return body["id"]

    async def new_api_key(self, owner: str, scopes=("agents:read",)) -> dict[str, Any]:
        body = {"name": f"matrix-{next(self.serial)}", "scopes": list(scopes)}
        headers = self.accounts[owner].headers
        return await self.expect(201, "POST", "/api/v1/auth/api-keys", headers, json=body)

    async def new_bootstrap_token(self, owner: str) -> dict[str, Any]:
        path = "/api/v1/onboard/bootstrap/request-token"
        return await self.expect(201, "POST", path, self.accounts[owner].headers, json={})

    async def new_peer(self) -> dict[str, Any]:
        headers = self.accounts[ADMIN].headers
        return await self.expect(
            201, "POST", "/api/v1/admin/federation/peers", headers, json=self.peer_body()
        )

    def peer_body(self) -> dict[str, Any]:
        n = next(self.serial)
        return {
            "name": f"Peer {n}",
            "registry_url": f"https://peer-{n}.example.org",
            "admin_contact": f"ops@peer-{n}.example.org",
            "federation_access_token": f"avf_matrix_outbound_token_{n:06d}_abcdefghijkl",
        }

    async def fresh_session(self, owner: str) -> dict[str, str]:
        login = await self.expect(
            200,
            "POST",
            "/api/v1/auth/login",
            {},
            json={"username": self.accounts[owner].username, "password": PASSWORD},
        )
        return {"Authorization": f"Bearer {login['access_token']}"}

    async def mailed_token(self, send: Callable[[], Awaitable[Any]], to: str, kind: str) -> str:
        """Do ``send`` and read the token of the ``kind`` link it mails ``to``."""
        outbox = self.client.app[MAILER].outbox
        before = len(outbox)
        await send()
        pattern = re.compile(rf"{kind}#token=([A-Za-z0-9_\-]+)")
        for _ in range(250):
            for mail in list(outbox)[before:]:
                found = pattern.search(mail.text)
                if mail.to == to and found:
                    return found.group(1)
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {kind} mail reached {to}")

    # --------------------------------------------------------------- bodies

    async def body(self, name: str | None) -> tuple[Any, dict[str, str]]:
        """The JSON body called ``name`` in the table (fresh where it is used up) and the
        extra headers it comes with."""
        if name is None:
            return None, {}
        n = next(self.serial)
        static = {
            "empty": {},
            "login": {"username": BYSTANDER, "password": PASSWORD},
            "password": {"current_password": PASSWORD, "new_password": PASSWORD},
            "recover": {"email": f"{BYSTANDER}@example.org"},
            "api_key": {"name": f"matrix-{n}", "scopes": ["agents:read"]},
            "agent_patch": {"description": f"Patched by the matrix ({n})."},
            "peer_update": {"admin_contact": f"ops-{n}@peer.example.org"},
            "user_update": {"is_active": True},
            "search": {"q": "matrix"},
            "federation_query": {"search": "matrix"},
            "register": {
                "email": f"new{n}@example.org",
                "username": f"new{n}",
                "password": PASSWORD,
            },
        }
        if name in static:
            return static[name], {}
        minted = {
            "agent": self._agent,
            "peer": self._peer,
            "verify_email": self._email_verification,
            "refresh": self._refresh,
            "recover_confirm": self._password_reset,
            "self_registration": self._self_registration,
        }
        if name not in minted:
            raise KeyError(f"the table names an unknown body {name!r}")
        return await minted[name](n)

    async def _agent(self, n: int) -> tuple[Any, dict[str, str]]:
        return self.agent_body(), {}

    async def _peer(self, n: int) -> tuple[Any, dict[str, str]]:
        return self.peer_body(), {}

    async def _email_verification(self, n: int) -> tuple[Any, dict[str, str]]:
        email = f"unverified{n}@example.org"
        account = {"email": email, "username": f"unverified{n}", "password": PASSWORD}
        token = await self.mailed_token(
            lambda: self.expect(201, "POST", "/api/v1/auth/register", {}, json=account),
            email,
            "verify-email",
        )
        return {"token": token}, {}

    async def _refresh(self, n: int) -> tuple[Any, dict[str, str]]:
        credentials = {"username": BYSTANDER, "password": PASSWORD}
        login = await self.expect(200, "POST", "/api/v1/auth/login", {}, json=credentials)
        return {"refresh_token": login["refresh_token"]}, {}

    async def _password_reset(self, n: int) -> tuple[Any, dict[str, str]]:
        email = f"{RECOVEREE}@example.org"
        token = await self.mailed_token(
            lambda: self.expect(201, "POST", "/api/v1/auth/recover", {}, json={"email": email}),
            email,
            "reset-password",
        )
        return {"token": token, "new_password": PASSWORD}, {}

    async def _self_registration(self, n: int) -> tuple[Any, dict[str, str]]:
        token = (await self.new_bootstrap_token(A))["bootstrap_token"]
        return self.agent_body(), {"Bootstrap-Token": token}

    # --------------------------------------------------------------- cells

    async def call(self, row: Row, method: str, identity: str, column: str) -> Call:
        """The request of one cell: ``column`` is ``own`` or ``other`` (see OWNERS)."""
        headers = dict(self.credentials[identity])
        if row.fresh_session and identity in ("developer_a", "developer_b", "admin"):
            headers = await self.fresh_session(OWNERS[identity][0])
        path = row.example or row.path
        if row.target is not None:
            path = path.replace(row.param, await self.target(row, identity, column))
        body, extra = await self.body(row.body)
        return Call(method, path, headers | extra, body)

    async def target(self, row: Row, identity: str, column: str) -> str:
        owner = OWNERS[identity][0 if column == "own" else 1]
        kind = row.target
        if kind == PEER:
            return (await self.new_peer())["id"] if row.fresh else self.peer_id
        if identity == "agent_key_a" and kind == AGENT:
            # Its own agent is the one it belongs to (never made afresh); its other is A's.
            return self.accounts[A].objects[AGENT] if column == "own" else self.sibling_agent
        if not row.fresh:
            return self.accounts[owner].objects[kind]
        if kind == AGENT:
            return await self.new_agent(owner)
        if kind == API_KEY:
            return (await self.new_api_key(owner))["id"]
        if kind == BOOTSTRAP_TOKEN:
            return (await self.new_bootstrap_token(owner))["id"]
        raise KeyError(f"no fresh {kind} can be made")


def declared_answer(expected: Any, method: str) -> Any:
    """What a cell must answer: a HEAD answer has no body, so only its status counts."""
    if method == "HEAD" and isinstance(expected, tuple):
        return expected[0]
    return expected
