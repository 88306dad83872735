"""The authorization matrix: what every route answers to every identity, on its own object and
on another's. ``test_authorization_matrix`` checks every cell against a real registry over
HTTP, and fails when a route exists that this table does not declare (or the other way round).

Columns (:data:`IDENTITIES`), in this order in every tuple below:

- ``anonymous``: no credential.
- ``developer_a``, ``developer_b``: access tokens of two verified developers.
- ``agent_key_a``: the API key an agent of A's received when it registered itself with A's
  bootstrap token (``POST /onboard/register``); it carries only ``agents:self``.
- ``admin``: an access token of an admin.
- ``revoked_key``: an API key of A's (agents:read and agents:write), revoked, sent as a bearer
  token (the agent key goes in ``X-API-Key``: both ways of presenting a key are covered).
- ``expired_token``: an access token of A's live session, signed with the registry's key, that
  expired an hour ago.
- ``peer``: the inbound federation token of a peer registry (the internal routes' caller).
- ``scraper``: the bearer token of ``[metrics] token`` (a Prometheus scraper).

Objects: a row with a ``target`` is checked twice, on the caller's ``own`` object and on
``other``'s (who that is: :data:`OWNERS`). The admin's own objects are its own; its "other" is
A's. For ``agent_key_a`` the own agent is the agent the key belongs to and the other agent is a
sibling, another agent of A's (a key acting with its developer's rights would show there); its
other API keys and bootstrap tokens are B's. Rows without a target, or whose ``other`` is
:data:`SAME` (peers are the admin's, so owning one means nothing), declare one tuple for both.

An expectation is a status, or ``(status, error code)`` for a JSON error. A row of
``"GET HEAD"`` declares both methods with one tuple; a HEAD answer has no body, so only its
status is compared.

``lists``: the route lists the caller's own objects; a 200 must not name another's.

``fresh``: each cell acts on an object made for it (deleting, rotating a token), so no cell
depends on another's order. ``fresh_session``: the developers and the admin call with a
session of their own made for the cell (logging out ends it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentvault_registry.webui.assets import asset_url

A, B, ADMIN = "a", "b", "admin"
AGENT, API_KEY, BOOTSTRAP_TOKEN, PEER, USER = "agent", "api_key", "bootstrap_token", "peer", "user"
PARAMS = {
    AGENT: "{agent_id}",
    API_KEY: "{key_id}",
    BOOTSTRAP_TOKEN: "{token_id}",
    PEER: "{peer_id}",
    USER: "{user_id}",
}

IDENTITIES = (
    "anonymous",
    "developer_a",
    "developer_b",
    "agent_key_a",
    "admin",
    "revoked_key",
    "expired_token",
    "peer",
    "scraper",
)
#: Whose object each identity's "own" and "other" columns act on.
OWNERS = {
    "anonymous": (A, B),
    "developer_a": (A, B),
    "developer_b": (B, A),
    "agent_key_a": (A, B),
    "admin": (ADMIN, A),
    "revoked_key": (A, B),
    "expired_token": (A, B),
    "peer": (A, B),
    "scraper": (A, B),
}

#: 200, 201 (created), 202 (accepted: done in the background), 204 (no content).
OK, MADE, QUEUED, DONE = 200, 201, 202, 204
#: No credential where one is needed.
ANON = (401, "authentication_required")
#: A credential the registry refuses: revoked, expired, or not the one this route takes.
BAD = (401, "invalid_credentials")
NO = (403, "forbidden")
#: Another's API key or bootstrap token: as if it did not exist.
HIDDEN = (404, "not_found")
#: The web UI shell (HTML) of a path that is no view.
NO_VIEW = 404
#: The ``other`` of a row whose object belongs to nobody in particular.
SAME = "same as own"

# Tuples many rows share, spelled out once.
# fmt: off
#: A route that never reads a credential answers a revoked or expired one as it answers anyone.
#                 anonym  dev_a   dev_b   agent_a admin   revoked expired peer    scraper
PUBLIC         = (OK,     OK,     OK,     OK,     OK,     OK,     OK,     OK,     OK)
#: Public, but the credential is looked at (rate limited per caller): a bad one is a 401.
PUBLIC_CHECKED = (OK,     OK,     OK,     OK,     OK,     BAD,    BAD,    OK,     OK)
ADMIN_ONLY     = (ANON,   NO,     NO,     NO,     OK,     BAD,    BAD,    NO,     ANON)
PEER_ONLY      = (ANON,   NO,     NO,     NO,     NO,     BAD,    BAD,    OK,     ANON)
#: A developer or admin (a session, or for some routes a developer's key); no agent, no peer.
DEVELOPER      = (ANON,   OK,     OK,     NO,     OK,     BAD,    BAD,    NO,     ANON)
CREATES        = (ANON,   MADE,   MADE,   NO,     MADE,   BAD,    BAD,    NO,     ANON)
#: The agent's developer, the agent's own key, or an admin.
AGENT_OWNER    = (ANON,   OK,     OK,     OK,     OK,     BAD,    BAD,    NO,     ANON)
NOT_OWNER      = (ANON,   NO,     NO,     NO,     OK,     BAD,    BAD,    NO,     ANON)
#: The agent's developer or an admin; never the agent's own key.
DEV_OWNER      = (ANON,   OK,     OK,     NO,     OK,     BAD,    BAD,    NO,     ANON)
DELETES_OWN    = (ANON,   DONE,   DONE,   NO,     DONE,   BAD,    BAD,    NO,     ANON)
# fmt: on


@dataclass(frozen=True)
class Row:
    methods: tuple[str, ...]
    #: The route's path as the router names it.
    path: str
    own: tuple[Any, ...]
    other: tuple[Any, ...] | str = SAME
    target: str | None = None
    #: The name of the valid body the cell sends (see ``World.body``).
    body: str | None = None
    #: The concrete path to call when the route has a parameter that is no object.
    example: str | None = None
    fresh: bool = False
    fresh_session: bool = False
    #: A stream that stays open: a 200 is read as "let in" and the stream closed.
    stream: bool = False
    #: A list of the caller's own objects of this kind: a 200 must not name the id of the
    #: "other" owner's object.
    lists: str | None = None

    @property
    def param(self) -> str:
        return PARAMS[self.target]

    def expected(self, column: str) -> tuple[Any, ...]:
        return self.other if column == "other" and self.other != SAME else self.own


def route(methods: str, path: str, own, other=SAME, **options) -> Row:
    return Row(tuple(methods.split()), path, own, other, **options)


G = "GET HEAD"
AGENT_PATH = "/api/v1/agents/{agent_id}"
PEER_PATH = "/api/v1/admin/federation/peers/{peer_id}"

# fmt: off
TABLE = [
    # ---------------------------------------------------------------- ops
    route(G, "/health", PUBLIC),
    route(G, "/ready", PUBLIC),
    route(G, "/api/v1/openapi.json", PUBLIC),
    route(G, "/api/docs", PUBLIC),
    route(G, "/api/docs/static", PUBLIC, example="/api/docs/static/docs.js"),
    route(G, "/.well-known/agent-card.json", PUBLIC),
    route(G, "/.well-known/jwks.json", PUBLIC),
    # Only the metrics token: any other bearer in its place is refused.
    route(G, "/metrics",
          (ANON,   BAD,    BAD,    ANON,   BAD,    BAD,    BAD,    BAD,    OK)),
    # ---------------------------------------------------------------- events, activity
    # Any caller the registry knows; each sees what it may (checked by the events tests).
    route(G, "/api/v1/events/stream",
          (ANON,   OK,     OK,     OK,     OK,     BAD,    BAD,    OK,     ANON),
          stream=True),
    route(G, "/api/v1/admin/activity", ADMIN_ONLY),
    route(G, "/api/v1/admin/stats", ADMIN_ONLY),
    # A developer's own feed: their session or key, never an agent's key.
    route(G, "/api/v1/me/activity", DEVELOPER),
    route(G, "/api/v1/identity", ADMIN_ONLY),
    # ---------------------------------------------------------------- liveness
    route(G, f"{AGENT_PATH}/health", PUBLIC, PUBLIC, target=AGENT),
    route("POST", f"{AGENT_PATH}/health/check", AGENT_OWNER, NOT_OWNER, target=AGENT),
    route(G, f"{AGENT_PATH}/card/origin", AGENT_OWNER, NOT_OWNER, target=AGENT),
    route("POST", f"{AGENT_PATH}/card/resync", AGENT_OWNER, NOT_OWNER, target=AGENT),
    # ---------------------------------------------------------------- TEG bridge
    # Agents only: neither a developer nor an admin gets a TEG token.
    route("POST", "/api/v1/teg/token",
          (ANON,   NO,     NO,     OK,     NO,     BAD,    BAD,    NO,     ANON),
          body="empty"),
    # ---------------------------------------------------------------- federation
    route(G, "/api/v1/admin/federation/peers", ADMIN_ONLY),
    route("POST", "/api/v1/admin/federation/peers",
          (ANON,   NO,     NO,     NO,     MADE,   BAD,    BAD,    NO,     ANON),
          body="peer"),
    route(G, PEER_PATH, ADMIN_ONLY, target=PEER),
    route("PUT", PEER_PATH, ADMIN_ONLY, target=PEER, body="peer_update"),
    route("DELETE", PEER_PATH,
          (ANON,   NO,     NO,     NO,     DONE,   BAD,    BAD,    NO,     ANON),
          target=PEER, fresh=True),
    route("POST", f"{PEER_PATH}/rotate-token", ADMIN_ONLY, target=PEER, fresh=True),
    route(G, "/api/v1/admin/federation/status", ADMIN_ONLY),
    route("POST", "/api/v1/internal/federation/query", PEER_ONLY, body="federation_query"),
    route(G, "/api/v1/internal/federation/changes", PEER_ONLY),
    # ---------------------------------------------------------------- discovery
    route(G, "/api/v1/discovery/agents", PUBLIC_CHECKED),
    route("POST", "/api/v1/discovery/search", PUBLIC_CHECKED, body="search"),
    route(G, "/api/v1/discovery/capabilities", PUBLIC_CHECKED),
    route(G, "/api/v1/discovery/templates", PUBLIC),
    # ---------------------------------------------------------------- onboarding
    route("POST", "/api/v1/onboard/bootstrap/request-token", CREATES, body="empty"),
    # The bootstrap token (a header) is the credential: whatever else the caller sends.
    route("POST", "/api/v1/onboard/register",
          (MADE,   MADE,   MADE,   MADE,   MADE,   MADE,   MADE,   MADE,   MADE),
          body="self_registration"),
    route(G, "/api/v1/onboard/bootstrap/tokens", DEVELOPER, lists=BOOTSTRAP_TOKEN),
    # Its creator or an admin; to another developer, another's token does not exist.
    route("DELETE", "/api/v1/onboard/bootstrap/tokens/{token_id}",
          DELETES_OWN,
          (ANON,   HIDDEN, HIDDEN, NO,     DONE,   BAD,    BAD,    NO,     ANON),
          target=BOOTSTRAP_TOKEN, fresh=True),
    # ---------------------------------------------------------------- agents
    route("POST", "/api/v1/agents", CREATES, body="agent"),
    route(G, "/api/v1/agents", PUBLIC),
    route(G, "/api/v1/agents/changes", PUBLIC),
    route(G, AGENT_PATH, PUBLIC, PUBLIC, target=AGENT),
    route("PUT", AGENT_PATH, AGENT_OWNER, NOT_OWNER, target=AGENT, body="agent"),
    route("PATCH", AGENT_PATH, AGENT_OWNER, NOT_OWNER, target=AGENT, body="agent_patch"),
    route("DELETE", AGENT_PATH, DELETES_OWN,
          (ANON,   NO,     NO,     NO,     DONE,   BAD,    BAD,    NO,     ANON),
          target=AGENT, fresh=True),
    # The first call of a fresh agent: the challenge (200 "pending").
    route("POST", f"{AGENT_PATH}/verify", DEV_OWNER, NOT_OWNER, target=AGENT, fresh=True),
    route(G, f"{AGENT_PATH}/card", PUBLIC, PUBLIC, target=AGENT),
    # ---------------------------------------------------------------- auth
    route("POST", "/api/v1/auth/register",
          (MADE,   MADE,   MADE,   MADE,   MADE,   BAD,    BAD,    MADE,   MADE),
          body="register"),
    route("POST", "/api/v1/auth/verify-email", PUBLIC_CHECKED, body="verify_email"),
    route("POST", "/api/v1/auth/login", PUBLIC_CHECKED, body="login"),
    route("POST", "/api/v1/auth/refresh", PUBLIC_CHECKED, body="refresh"),
    route("POST", "/api/v1/auth/logout",
          (ANON,   DONE,   DONE,   NO,     DONE,   BAD,    BAD,    NO,     ANON),
          fresh_session=True),
    route(G, "/api/v1/auth/me", DEVELOPER),
    route("PUT", "/api/v1/auth/password",
          (ANON,   DONE,   DONE,   NO,     DONE,   BAD,    BAD,    NO,     ANON),
          body="password"),
    route("POST", "/api/v1/auth/recover",
          (QUEUED, QUEUED, QUEUED, QUEUED, QUEUED, BAD,    BAD,    QUEUED, QUEUED),
          body="recover"),
    route("POST", "/api/v1/auth/recover/confirm",
          (DONE,   DONE,   DONE,   DONE,   DONE,   BAD,    BAD,    DONE,   DONE),
          body="recover_confirm"),
    route(G, "/api/v1/auth/api-keys", DEVELOPER, lists=API_KEY),
    route("POST", "/api/v1/auth/api-keys", CREATES, body="api_key"),
    # Only the caller's own keys: another's (even to an admin) does not exist.
    route("DELETE", "/api/v1/auth/api-keys/{key_id}", DELETES_OWN,
          (ANON,   HIDDEN, HIDDEN, NO,     HIDDEN, BAD,    BAD,    NO,     ANON),
          target=API_KEY, fresh=True),
    # ---------------------------------------------------------------- users (admin)
    route(G, "/api/v1/admin/users", ADMIN_ONLY),
    route("PATCH", "/api/v1/admin/users/{user_id}", ADMIN_ONLY, target=USER, body="user_update"),
    # ---------------------------------------------------------------- web UI (public shell)
    route(G, "/", PUBLIC),
    # The shell's router has no view at /ui itself.
    route(G, "/ui", (NO_VIEW,) * len(IDENTITIES)),
    route(G, "/ui/{path}", PUBLIC, example="/ui/login"),
    route(G, "/verify-email", PUBLIC),
    route(G, "/reset-password", PUBLIC),
    route(G, "/static/webui/{version}/{path}", PUBLIC, example=asset_url("js/app.js")),
]
# fmt: on
