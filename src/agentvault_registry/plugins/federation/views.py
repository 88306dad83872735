"""HTTP views of the federation plugin: parse, call the service, shape the response."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agentvault_registry.core.activity import record_activity
from agentvault_registry.core.appkeys import PLUGIN_MANAGER, SETTINGS
from agentvault_registry.core.asyncutils import first_result
from agentvault_registry.core.errors import NotFound
from agentvault_registry.core.identity import current_identity, requires
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.core.pagination import pagination
from agentvault_registry.core.ratelimit import rate_limit
from agentvault_registry.core.requests import is_uuid, public_base_url, read_json, read_query
from agentvault_registry.plugins.agents.schemas import change_json
from agentvault_registry.plugins.auth.scopes import ADMIN
from agentvault_registry.plugins.discovery.appkeys import DISCOVERY_SERVICE
from agentvault_registry.plugins.federation import schemas
from agentvault_registry.plugins.federation.appkeys import PEER_SERVICE
from agentvault_registry.plugins.federation.origin import ORIGIN_SIGNATURE
from agentvault_registry.plugins.federation.service import PEER_NOT_FOUND, IssuedPeer
from agentvault_registry.plugins.federation.tokens import PEER

ADMIN_TAGS = ["federation (admin)"]
PEER_TAGS = ["federation (between registries)"]
PEERS = "/api/v1/admin/federation/peers"
CREATE = schemas.PeerCreateSchema()
UPDATE = schemas.PeerUpdateSchema()
LIST_QUERY = schemas.PeerListQuerySchema()
PEER_JSON = schemas.PeerSchema()
STATUS_JSON = schemas.FederationStatusResponseSchema()
QUERY = schemas.FederationQuerySchema()
CHANGES_QUERY = schemas.PeerChangesQuerySchema()
NO_STORE = {"Cache-Control": "no-store"}


def _peer_id(request: web.Request) -> str:
    peer_id = request.match_info["peer_id"].lower()
    if not is_uuid(peer_id):
        raise NotFound(PEER_NOT_FOUND)
    return peer_id


async def _record(request: web.Request, action: str, peer_id: str, peer: Any = None) -> None:
    """An entry of an admin's change to a peer (its name, URL and status; never a token)."""
    details = (
        {}
        if peer is None
        else {
            "name": peer.name,
            "registry_url": peer.registry_url,
            "status": peer.status,
        }
    )
    await record_activity(
        request.app,
        action,
        actor=current_identity(request),
        subject_type="peer",
        subject_id=peer_id,
        owner_id=None,
        details=details,
    )


def _issued(issued: IssuedPeer, status: int) -> web.Response:
    body = PEER_JSON.dump(issued.peer) | {"inbound_token": issued.inbound_token}
    return web.json_response(body, status=status, headers=NO_STORE)


@api_doc(
    "Add a peer registry",
    tags=ADMIN_TAGS,
    body=schemas.PeerCreateSchema,
    response=schemas.PeerIssuedSchema,
    status=201,
    errors=[409],
    description=(
        "`federation_access_token` is the token the peer's admin issued us. The answer holds, "
        "once, the `inbound_token` the peer's admin configures on their side."
    ),
    example={
        "name": "Partner Registry",
        "registry_url": "https://registry.partner.example.org",
        "admin_contact": "admin@partner.example.org",
        "federation_access_token": "avf_the_token_the_partner_issued_us",
    },
)
@requires(role=ADMIN)
async def add_peer(request: web.Request) -> web.Response:
    body = await read_json(request, CREATE)
    issued = await request.app[PEER_SERVICE].add(body)
    await _record(request, "peer.added", issued.peer.id, issued.peer)
    response = _issued(issued, 201)
    response.headers["Location"] = f"{PEERS}/{issued.peer.id}"
    return response


@api_doc(
    "List peer registries",
    tags=ADMIN_TAGS,
    query=schemas.PeerListQuerySchema,
    response=schemas.PeerListSchema,
    errors=[400, 422],
)
@requires(role=ADMIN)
async def list_peers(request: web.Request) -> web.Response:
    query = read_query(request, LIST_QUERY)
    page, per_page = query["page"], query["per_page"]
    shown, total = await request.app[PEER_SERVICE].page(page, per_page)
    return web.json_response(
        {
            "peers": PEER_JSON.dump(shown, many=True),
            "pagination": pagination(total=total, page=page, per_page=per_page, next_after=None),
        }
    )


@api_doc("A peer registry", tags=ADMIN_TAGS, response=schemas.PeerSchema, errors=[404])
@requires(role=ADMIN)
async def get_peer(request: web.Request) -> web.Response:
    peer = await request.app[PEER_SERVICE].get(_peer_id(request))
    return web.json_response(PEER_JSON.dump(peer))


@api_doc(
    "Change a peer registry's settings",
    tags=ADMIN_TAGS,
    body=schemas.PeerUpdateSchema,
    response=schemas.PeerSchema,
    errors=[404, 409],
    description="Settings left out keep their values. `status` is `active` or `disabled`.",
)
@requires(role=ADMIN)
async def update_peer(request: web.Request) -> web.Response:
    peer_id = _peer_id(request)
    body = await read_json(request, UPDATE)
    peer = await request.app[PEER_SERVICE].update(peer_id, body)
    await _record(request, "peer.updated", peer_id, peer)
    return web.json_response(PEER_JSON.dump(peer))


@api_doc("Remove a peer registry", tags=ADMIN_TAGS, status=204, errors=[404])
@requires(role=ADMIN)
async def delete_peer(request: web.Request) -> web.Response:
    peer_id = _peer_id(request)
    await request.app[PEER_SERVICE].delete(peer_id)
    await _record(request, "peer.removed", peer_id)
    return web.Response(status=204)


@api_doc(
    "Issue a new inbound token for a peer",
    tags=ADMIN_TAGS,
    response=schemas.PeerIssuedSchema,
    errors=[404],
    description="The old token stops working at once; the new one is shown only here.",
)
@requires(role=ADMIN)
async def rotate_token(request: web.Request) -> web.Response:
    issued = await request.app[PEER_SERVICE].rotate_inbound_token(_peer_id(request))
    return _issued(issued, 200)


@api_doc(
    "Health of every peer registry",
    tags=ADMIN_TAGS,
    response=schemas.FederationStatusResponseSchema,
    description="Per peer: status, circuit breaker state, last latency, last error.",
)
@requires(role=ADMIN)
async def federation_status(request: web.Request) -> web.Response:
    report = await request.app[PEER_SERVICE].health_report()
    return web.json_response(STATUS_JSON.dump(report))


@api_doc(
    "Search this registry's agents, for a peer registry",
    tags=PEER_TAGS,
    body=schemas.FederationQuerySchema,
    response=schemas.FederationAnswerDocSchema,
    errors=[400, 413, 415, 422, 429],
    description=(
        "Needs `Authorization: Bearer <inbound token>` issued to the calling peer. Answers "
        "from this registry's own agents only: a federated query is never passed on."
    ),
)
@requires(kinds=(PEER,))
@rate_limit("federation.query", per_ip=False)
async def federation_query(request: web.Request) -> web.Response:
    search = await read_json(request, QUERY)
    base_url = public_base_url(request)
    answer = await request.app[DISCOVERY_SERVICE].local_document(search, base_url)
    return web.json_response(
        {
            "agents": [await _signed(request, agent, base_url) for agent in answer["agents"]],
            "total": answer["pagination"]["total"],
            "total_exact": answer["pagination"]["total_exact"],
            "registry": {"name": request.app[SETTINGS].registry.name, "url": base_url},
        }
    )


@api_doc(
    "This registry's agent change feed, for a peer registry to mirror",
    tags=PEER_TAGS,
    query=schemas.PeerChangesQuerySchema,
    response=schemas.PeerChangesSchema,
    errors=[400, 422],
    description="Same authentication as the query. Resume with `since=<next_cursor>`.",
)
@requires(kinds=(PEER,))
@rate_limit("federation.changes", per_ip=False)
async def federation_changes(request: web.Request) -> web.Response:
    query = read_query(request, CHANGES_QUERY)
    events, cursor = await request.app[PEER_SERVICE].changes(int(query["since"]), query["limit"])
    return web.json_response(
        {
            "changes": [change_json(event) for event in events],
            "next_cursor": str(cursor),
            "registry": {
                "name": request.app[SETTINGS].registry.name,
                "url": public_base_url(request),
            },
        }
    )


async def _signed(request: web.Request, agent: dict[str, Any], base_url: str) -> dict[str, Any]:
    """``agent`` with this registry's signature, when a plugin signs: the asking peer checks
    it against our JWK Set, so nothing between us can alter what it shows."""
    signature = await first_result(
        request.app[PLUGIN_MANAGER].hook.sign_document(
            app=request.app,
            document=agent,
            signatures_member=ORIGIN_SIGNATURE,
            base_url=base_url,
        )
    )
    return agent if signature is None else {**agent, ORIGIN_SIGNATURE: signature}


def routes() -> list[web.RouteDef]:
    peer = f"{PEERS}/{{peer_id}}"
    return [
        web.get(PEERS, list_peers),
        web.post(PEERS, add_peer),
        web.get(peer, get_peer),
        web.put(peer, update_peer),
        web.delete(peer, delete_peer),
        web.post(f"{peer}/rotate-token", rotate_token),
        web.get("/api/v1/admin/federation/status", federation_status),
        web.post("/api/v1/internal/federation/query", federation_query),
        web.get("/api/v1/internal/federation/changes", federation_changes),
    ]
