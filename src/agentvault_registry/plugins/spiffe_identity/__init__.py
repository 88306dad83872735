"""The spiffe_identity plugin: zero-trust workload identity with SPIFFE.

With a source configured, the registry holds an X.509-SVID (from the SPIRE agent's Workload
API, or from files a SPIRE helper keeps current, re-read when they change) and the trust
bundles. Agents may then authenticate with a JWT-SVID
(``Authorization: Bearer <JWT-SVID>`` for ``spiffe://<trust domain>/agent/<agent id>``,
audience this registry); the registry can serve HTTPS with its SVID; federation can require
mTLS, each peer presenting the SVID of the SPIFFE ID configured on it, and we ours. Admins see
the identity at ``GET /api/v1/identity``. With ``source = "none"`` (the default) the plugin
does nothing else: no JWT-SVID is accepted, and TLS is left to whatever fronts the registry.

Config example::

    [plugins.spiffe_identity]
    source = "workload_api"          # or "files", or "none"
    trust_domain = "example.org"
    spiffe_id = "spiffe://example.org/service/registry-backend"   # the default
    endpoint_socket = "unix:///run/spire/agent.sock"  # else SPIFFE_ENDPOINT_SOCKET
    fetch_timeout = 10.0             # seconds a Workload API call may take
    audiences = ["spiffe://example.org/service/registry-backend"]  # default: spiffe_id, public_url
    agent_path = "/agent"            # agents are spiffe://<trust domain>/agent/<agent id>
    serve_tls = false                # listen with HTTPS, presenting our X.509-SVID
    federation_mtls = false          # peers must present their SVID; we present ours
    agent_jwt_svids = true           # Workload API: JWT-SVIDs for agents' assertions (TEG)

    reload_interval = 5.0            # seconds between checks: files changed, agent socket lost

    # source = "files": what a SPIRE helper writes
    [plugins.spiffe_identity.files]
    cert = "/run/spire/svid.pem"
    key = "/run/spire/svid_key.pem"
    bundle = "/run/spire/bundle.pem"
    jwt_bundle = "/run/spire/jwt_bundle.json"
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from marshmallow import Schema

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import SETTINGS, STORAGE
from agentvault_registry.core.errors import InvalidCredentials
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.plugins.spiffe_identity import factory, views
from agentvault_registry.plugins.spiffe_identity.appkeys import (
    IDENTITY_SERVICE,
    JWT_SVID_POLICY,
    SERVER_TLS,
)
from agentvault_registry.plugins.spiffe_identity.jwt_auth import agent_identity, looks_like_jwt_svid
from agentvault_registry.plugins.spiffe_identity.schemas import NONE, WORKLOAD_API, SpiffeOptions
from agentvault_registry.plugins.spiffe_identity.service import IdentityService
from agentvault_registry.plugins.spiffe_identity.tls import RotatingServerContext
from agentvault_registry.storage_backends.agents import AgentRecord
from agentvault_registry.storage_backends.federation import PeerRecord

REQUIRES = ("auth",)


def _enabled(app: web.Application) -> bool:
    return factory.options(app[SETTINGS])["source"] != NONE


@hookimpl
def register_config_schema() -> type[Schema]:
    return SpiffeOptions


@hookimpl
def register_routes(settings: Settings) -> list[web.RouteDef]:
    return views.routes()


@hookimpl
def server_ssl_context(app: web.Application) -> Any:
    if not factory.options(app[SETTINGS])["serve_tls"]:
        return None
    # Asked before startup: it holds no certificate until the source delivers one.
    app[SERVER_TLS] = server_tls = RotatingServerContext()
    return server_tls.listening


@hookimpl
def startup(app: web.Application) -> Any:
    settings = app[SETTINGS]
    service = IdentityService(
        factory.svid_source(settings), factory.options(settings), server_tls=app.get(SERVER_TLS)
    )
    app[IDENTITY_SERVICE] = service
    if factory.verifies_jwt_svids(settings):
        app[JWT_SVID_POLICY] = factory.jwt_svid_policy(settings)
    # A callable, not a coroutine: should a later plugin's startup refuse its config, no
    # coroutine of ours is left never awaited.
    return service.source.start


@hookimpl
async def shutdown(app: web.Application) -> None:
    service = app.get(IDENTITY_SERVICE)
    if service is not None:
        await service.source.close()


@hookimpl
def register_readiness_checks(app: web.Application) -> Any:
    if not _enabled(app):
        return None
    return {"spiffe_identity": app[IDENTITY_SERVICE].check_ready}


@hookimpl
def identity_from_request(request: web.Request) -> Any:
    if not _enabled(request.app):
        return None
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not looks_like_jwt_svid(token):
        return None
    policy = request.app.get(JWT_SVID_POLICY)
    if policy is None:
        raise InvalidCredentials(
            "This registry accepts no JWT-SVIDs: its SVID files include no JWT bundle."
        )
    material = request.app[IDENTITY_SERVICE].material
    return agent_identity(token, material, policy, request.app[STORAGE].records)


@hookimpl
def peer_connection_tls(app: web.Application, peer: PeerRecord) -> Any:
    return app[IDENTITY_SERVICE].peer_tls(peer)


@hookimpl
def verify_peer_request(request: web.Request, peer: PeerRecord) -> None:
    transport = request.transport
    ssl_object = None if transport is None else transport.get_extra_info("ssl_object")
    request.app[IDENTITY_SERVICE].verify_peer(peer, ssl_object)


@hookimpl
def agent_assertion(app: web.Application, agent: AgentRecord, audience: str) -> Any:
    service = app[IDENTITY_SERVICE]
    if service.source.kind != WORKLOAD_API:
        return None
    return service.agent_assertion(agent, audience)
