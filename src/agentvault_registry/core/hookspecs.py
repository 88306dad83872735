"""Plugin hook specifications: the reference documentation of every hook.

Every feature of the registry, built-in or third-party, is a plugin implementing some of these
hooks with ``@hookimpl`` (``from agentvault_registry import hookimpl``). Third-party plugins are
found through the ``agentvault_registry`` entry-point group; any plugin can be blocked by name
with ``plugins.disabled`` in config.

pluggy calls hooks synchronously. A hook that does I/O may return an awaitable (or a callable
returning one) instead of its value; the core awaits it. Hooks whose answer is "the first
plugin that knows" (``identity_from_request``) are resolved by the core after awaiting, never
with ``firstresult=True``.

A plugin module may also declare ``REQUIRES = ("other_plugin", ...)``: startup stops with a
clear message when one of those is disabled or missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from aiohttp import web

    from agentvault_registry.config.settings import Settings

hookspec = pluggy.HookspecMarker("agentvault_registry")
hookimpl = pluggy.HookimplMarker("agentvault_registry")


@hookspec
def register_storage_backends() -> Any:
    """Return a list of :class:`~agentvault_registry.storage_backends.spec.BackendSpec`.

    Each spec names a kind (``records``, ``cache`` or ``blobs``), the name config selects it by,
    a factory, and a marshmallow schema for its options. Two plugins registering the same kind
    and name stop startup.
    """


@hookspec
def register_config_schema() -> Any:
    """Return a marshmallow ``Schema`` class for this plugin's ``[plugins.<name>]`` section.

    The section is validated at startup (unknown keys refused) and the loaded result is
    available as ``settings.plugin_config(name)``. Plugins without options need not implement
    this; their section must then be absent or empty.
    """


@hookspec
def register_routes(settings: Settings) -> Any:
    """Return a list of aiohttp route definitions (``web.get(...)``, a ``RouteTableDef``...).

    Handlers decorated with :func:`agentvault_registry.core.openapi.api_doc` appear in the
    OpenAPI document. Paths under ``/api/v1`` are the public API.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``agentvault-registry`` command-line interface.

    Called before the command line is parsed, so which plugins add commands follows the
    config file named by ``AVREG_CONFIG`` and the environment, not ``--config``.
    """


@hookspec
def startup(app: web.Application) -> Any:
    """Run once when the app starts, after storage is open and migrated.

    May return an awaitable. State a plugin keeps belongs in the app under its own
    ``web.AppKey``. pluggy calls the plugin registered last first: a plugin whose startup uses
    another plugin's state marks its implementation ``@hookimpl(trylast=True)``.
    """


@hookspec
def shutdown(app: web.Application) -> Any:
    """Run once when the app stops, before storage is closed. May return an awaitable."""


@hookspec
def stopping(app: web.Application) -> Any:
    """Run when the app begins to stop, before aiohttp waits for the requests in flight to
    finish: end long-lived responses (event streams, WebSockets) here, or shutdown waits for
    them. Storage and every plugin's state are still up. May return an awaitable."""


@hookspec
def identity_from_request(request: web.Request) -> Any:
    """Say who is calling, or that it is not this plugin's business.

    Return None when the request carries no credentials of this plugin's kind, an
    :class:`~agentvault_registry.core.identity.Identity` (or an awaitable of one) when they are
    this plugin's and valid, and raise
    :class:`~agentvault_registry.core.errors.InvalidCredentials` when they are this plugin's but
    not valid. The first Identity wins.
    """


@hookspec
def register_readiness_checks(app: web.Application) -> Any:
    """Return ``{name: coroutine_function}`` of extra checks for ``/ready``.

    Each check is awaited with no arguments and raises to report "not ready". Storage backends
    are always checked; use this for other dependencies a plugin cannot serve without.
    """


@hookspec
def register_card_skills(settings: Settings) -> Any:
    """Return A2A ``AgentSkill`` objects (dicts) to advertise on the registry's own card.

    ``/.well-known/agent-card.json`` describes this registry as an A2A agent; each plugin adds
    the skills it provides to callers.
    """


@hookspec
def register_rate_limits() -> Any:
    """Return a list of :class:`~agentvault_registry.core.ratelimit.RateLimit` declarations.

    Each names a limit (``"auth.login"``: dotted lowercase words), its default rate in the
    ``limits`` library's notation (``"5/minute"``), what happens while the cache backend is
    down (``"closed"``: 503 with ``Retry-After``; ``"local"``: each process counts on its own,
    at the same rate) and a description. Views apply a limit with
    ``@rate_limit(name)`` (:mod:`agentvault_registry.core.ratelimit`); service code counts
    other keys through ``app[RATE_LIMITER]``. Operators change rates in the ``[rate_limits]``
    config table. A malformed declaration, a name two plugins declare, or a configured or
    decorated name that no loaded plugin declares stops startup.
    """


@hookspec
def register_periodic_tasks(settings: Settings) -> Any:
    """Return a list of :class:`~agentvault_registry.core.periodic.PeriodicTask` to run while
    the app is up (purging expired records, refreshing peers).

    Each names the task (dotted lowercase words), its interval in seconds, an async callable
    taking the app, and whether it is ``exclusive``: run by one process per round (rounds are
    aligned to the clock) across all processes sharing the cache backend (the default), or by
    every process. Tasks start after every plugin's ``startup`` and stop before ``shutdown``;
    a failing round is logged and the next runs on time. A round may overlap the next one in
    another process when it runs longer than the interval: make tasks idempotent. A
    malformed declaration or a name two plugins declare stops startup.
    """


@hookspec
def agent_changed(app: web.Application, event_type: str, agent: Any, actor: Any) -> Any:
    """React to an agent being ``created``, ``updated`` or ``deleted``.

    ``agent`` is the :class:`~agentvault_registry.storage_backends.agents.AgentRecord` after the
    change (a tombstone with status ``deleted`` for deletions); ``actor`` is the
    :class:`~agentvault_registry.core.identity.Identity` that made it. Called after the change
    and its event are committed, in the process that made it. The synchronous part runs before
    the response is sent; an awaitable result runs in the background: it never delays or fails
    the request that made the change.
    """


@hookspec
def activity_recorded(app: web.Application, entry: Any) -> Any:
    """React to an entry appended to the activity log (after it is committed).

    ``entry`` is the stored
    :class:`~agentvault_registry.storage_backends.activity.ActivityEntry`, its ``seq``
    assigned. Called in the process that recorded it, by
    :func:`~agentvault_registry.core.activity.record_activity`; an awaitable result is
    awaited there, so keep it short (wake subscribers, do not fetch). The event stream uses it
    to notify its in-process subscribers at once; other processes read the log.
    """


@hookspec
def discover_remote_agents(app: web.Application, query: Any) -> Any:
    """Contribute agents listed elsewhere to a discovery search with ``include_federated``.

    ``query`` is a :class:`~agentvault_registry.plugins.discovery.remote.RemoteQuery` (the
    validated search, its sort and page size). Return a
    :class:`~agentvault_registry.plugins.discovery.remote.RemoteResults` or an awaitable of
    one: agents in the discovery shape (with ``is_federated``, ``registry_url`` and
    ``origin_registry_name``) and the status of each peer asked. The discovery plugin merges
    them into its page (a local agent wins over a remote one with the same DID) and reports
    the peers in ``federation_status``. Keep to your own deadline: the search waits for you.
    """


@hookspec
def register_agent_templates(settings: Settings) -> Any:
    """Return starter registration templates for ``GET /api/v1/discovery/templates``.

    A list of dicts ``{"id", "agent_type", "title", "description", "body"}`` where ``body`` is
    a ready-to-post ``POST /api/v1/agents`` request (with a valid A2A card). Two templates
    with one id stop startup.
    """


@hookspec
def register_public_keys(app: web.Application) -> Any:
    """Return public keys (JWK dicts, each with a unique ``kid``) to publish in the registry's
    JWK Set at ``/.well-known/jwks.json``, or an awaitable of that list.

    Whoever verifies what this registry signs (assertions it presents to other services,
    documents it serves) fetches them there. Keep a retired key listed as long as something it
    signed may still be checked. Never return private key material.
    """


@hookspec
def server_ssl_context(app: web.Application) -> Any:
    """Return the ``ssl.SSLContext`` the registry's listening socket serves TLS with, or None
    to leave it to another plugin (plain HTTP when none answers).

    Called once, synchronously, after the app is built and before it listens; the first
    context returned wins. The context may change what it presents later (a certificate that
    rotates) without a restart. Whether a client certificate is asked for is the context's
    business; views read what was presented from ``request.transport``.
    """


@hookspec
def peer_connection_tls(app: web.Application, peer: Any) -> Any:
    """Return how to connect to federation ``peer`` over TLS, or None for the default.

    ``peer`` is a :class:`~agentvault_registry.storage_backends.federation.PeerRecord`. The
    answer is an :class:`~agentvault_registry.core.httpclient.tls.ServerIdentityContext` (or
    an awaitable of one): a client ``ssl.SSLContext`` that may present our certificate, with a
    check of the certificate the peer presents, run before any byte of a request is sent.
    The first answer wins.
    """


@hookspec
def verify_peer_request(request: web.Request, peer: Any) -> Any:
    """Check, beyond its token, that a request really comes from federation ``peer``.

    Called once the request's peer token is found valid; ``peer`` is its
    :class:`~agentvault_registry.storage_backends.federation.PeerRecord`. Raise
    :class:`~agentvault_registry.core.errors.InvalidCredentials` to refuse it (a client
    certificate missing or not the peer's, say); return None, or an awaitable, to let it
    through. Every implementation must agree.
    """


@hookspec
def agent_assertion(app: web.Application, agent: Any, audience: str) -> Any:
    """Return a signed JWT that proves ``agent``'s identity to ``audience``, or None when this
    plugin cannot vouch for agents.

    ``agent`` is an :class:`~agentvault_registry.storage_backends.agents.AgentRecord`. The
    answer is the compact JWT (or an awaitable of it): short-lived, with ``aud`` =
    ``audience``, naming the agent in ``sub``. A workload identity (a SPIFFE JWT-SVID) is
    preferred over the registry's own signature when a plugin can obtain one; the first
    answer wins.
    """


@hookspec
def agent_teg_token(app: web.Application, agent: Any, scope: str | None) -> Any:
    """Return an OAuth access token of the TEG economic layer for ``agent``, or None when no
    plugin here bridges to a TEG.

    The answer (or an awaitable of it) is a
    :class:`~agentvault_registry.plugins.teg_bridge.bridge.TegToken`. ``scope`` is a
    space-separated subset of the configured scopes, or None for all of them. Raises
    :class:`~agentvault_registry.core.errors.ServiceUnavailable` when the TEG cannot be
    reached, :class:`~agentvault_registry.core.errors.BadGateway` when it refuses,
    :class:`~agentvault_registry.core.errors.Forbidden` for an agent that is not active and
    :class:`~agentvault_registry.core.errors.ValidationFailed` for a scope not configured.
    Other plugins call it as ``await first_result(pm.hook.agent_teg_token(...))``.
    """


@hookspec
def check_card_signatures(
    app: web.Application, document: Any, card: Any, signatures_member: str
) -> Any:
    """Return what checking the signatures of an Agent Card found, or None when this plugin
    does not check card signatures.

    ``document`` is the card as its developer sent or published it, ``card`` the same card
    normalized to A2A 1.0 (its interfaces and provider, for the domain check), and
    ``signatures_member`` the name of the member holding the signatures (``signatures``).
    The answer (or an awaitable of it) is a mapping with ``status`` (``none``, ``valid``,
    ``invalid`` or ``unverifiable``) and, as known, ``kid``, ``domain`` (who vouched) and
    ``reason``; the agent keeps it as its ``signature``. Raises
    :class:`~agentvault_registry.core.errors.ValidationFailed` when policy refuses such a
    card. The first answer wins; without one, a signed card is ``unverifiable``.
    """


@hookspec
def sign_document(
    app: web.Application, document: Any, signatures_member: str, base_url: str
) -> Any:
    """Return the registry's detached signature of ``document`` (a JSON object), or None when
    this plugin does not sign. ``base_url`` is the registry's public URL as the client
    reached it (the signature's ``jku`` names the JWK Set there).

    The answer (or an awaitable of it) is a JWS object ``{"protected", "signature"}`` over
    the RFC 8785 canonical form of ``document`` without ``signatures_member``, made with a key
    published at ``/.well-known/jwks.json``. It is how a client, or a peer registry, checks
    that a served card or answer came unaltered from this registry. The first answer wins.
    """


@hookspec
def register_webui_views(settings: Settings) -> Any:
    """Return a list of :class:`agentvault_registry.webui.extensions.WebUIView`: pages of the
    web UI, each optionally with a navigation entry.

    A view names its path (``/ui/...``; a ``:name`` segment is a parameter the view receives),
    the URL of an ES module whose default export is the view class, who may open it
    (``public``, ``guest`` for signed-out visitors only, ``user`` or ``admin``) and where its
    navigation entry goes. The class is constructed with ``(context, params)`` and has the
    lifecycle ``render(container)`` (may be async), ``afterRender()`` and ``destroy()``; the
    context gives it the API client, the session and the router (``webui/static/js/app.js``).
    The plugin serves its module itself, with a ``web.static`` route from
    :func:`register_routes`; the UI's Content-Security-Policy allows same-origin scripts and
    styles only, with no inline code. The built-in pages are registered the same way.
    """


@hookspec
def report_exception(
    app: web.Application, request: web.Request | None, exception: BaseException, request_id: Any
) -> Any:
    """Receive an exception nothing handled, for an error tracker (Sentry, a pager).

    Called for every request that ends in a 500 (``request`` and its ``request_id``, which the
    client got in the error body and ``X-Request-ID``), and for every failure of a background
    task or a periodic round (``request`` and ``request_id`` None). The synchronous part runs
    before the 500 is sent: keep it short. An awaitable result runs in the background. A
    reporter that raises is logged and changes nothing: the client gets the same 500 and the
    other reporters are still called.
    """
