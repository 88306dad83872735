"""HTTP views of the discovery plugin: parse, call the service, shape the response."""

from __future__ import annotations

import dataclasses

from aiohttp import web

from agentvault_registry.core.activity import count_search
from agentvault_registry.core.identity import resolve_identity
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.core.ratelimit import rate_limit
from agentvault_registry.core.requests import public_base_url, read_json, read_query
from agentvault_registry.plugins.discovery import responses, schemas
from agentvault_registry.plugins.discovery.appkeys import DISCOVERY_SERVICE, TEMPLATES
from agentvault_registry.plugins.discovery.remote import HOP_HEADER
from agentvault_registry.plugins.discovery.schemas import Search
from agentvault_registry.plugins.discovery.service import Answer, answer

TAGS = ["discovery"]
# Built once: a schema instance is reusable, and building one per request copies its fields.
QUERY = schemas.DiscoveryQuerySchema()
BODY = schemas.SearchBodySchema()
CAPABILITIES_QUERY = schemas.CapabilitiesQuerySchema()
TEMPLATES_QUERY = schemas.TemplatesQuerySchema()
#: Clients keep answers but revalidate each time (a cheap 304): a cached answer must never
#: hide a client's own write from it.
CACHE_CONTROL = "no-cache"
CONDITIONAL = {"If-None-Match": "ETags of earlier answers: 304 when nothing changed."}


def respond(request: web.Request, result: Answer) -> web.Response:
    headers = {"ETag": result.etag, "Cache-Control": CACHE_CONTROL}
    if request.method in ("GET", "HEAD") and _matches(request, result.etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=result.body, content_type="application/json", headers=headers)


def _matches(request: web.Request, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag``: a list, weak forms and ``*`` count
    (RFC 9110 compares weakly for this header)."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def _not_passed_on(request: web.Request, search: Search) -> Search:
    """A search that is itself federated (it carries the hop header) never asks peers."""
    if HOP_HEADER in request.headers and search.include_federated:
        return dataclasses.replace(search, include_federated=False)
    return search


@api_doc(
    "Search agents",
    tags=TAGS,
    query=schemas.DiscoveryQuerySchema,
    response=responses.DiscoveryResponseSchema,
    errors=[400, 422, 429],
    headers=CONDITIONAL,
    description=(
        "Full text (`q`, ranked), capability, type, tag, pricing and A2A filters. Lists are "
        "comma-separated and match any value (capabilities: `capability_match=all` for "
        "every one). Page with `page` or, at any depth, with `cursor`."
    ),
)
@rate_limit("discovery.search")
async def search_agents(request: web.Request) -> web.Response:
    search = _not_passed_on(request, read_query(request, QUERY))
    result = await request.app[DISCOVERY_SERVICE].search(search, public_base_url(request))
    # Resolved already by the rate limit: no second lookup.
    count_search(request.app, await resolve_identity(request))
    return respond(request, result)


@api_doc(
    "Search agents with a JSON query",
    tags=TAGS,
    body=schemas.SearchBodySchema,
    response=responses.DiscoveryResponseSchema,
    errors=[400, 413, 415, 422, 429],
    description="The same search as `GET /discovery/agents`; `filters.capabilities` may be "
    '`{"any": [...], "all": [...]}`. Unknown filters are refused.',
)
@rate_limit("discovery.search")
async def search_by_body(request: web.Request) -> web.Response:
    search = _not_passed_on(request, await read_json(request, BODY))
    result = await request.app[DISCOVERY_SERVICE].search(search, public_base_url(request))
    # Resolved already by the rate limit: no second lookup.
    count_search(request.app, await resolve_identity(request))
    return respond(request, result)


@api_doc(
    "Capabilities with their count of agents",
    tags=TAGS,
    query=schemas.CapabilitiesQuerySchema,
    response=responses.CapabilitiesResponseSchema,
    errors=[400, 422, 429],
    headers=CONDITIONAL,
    description="Every capability of the active agents (or of those the filters select), "
    "most common first.",
)
@rate_limit("discovery.search")
async def capabilities(request: web.Request) -> web.Response:
    search, limit = read_query(request, CAPABILITIES_QUERY)
    return respond(request, await request.app[DISCOVERY_SERVICE].capabilities(search, limit))


@api_doc(
    "Starter registration templates",
    tags=TAGS,
    query=schemas.TemplatesQuerySchema,
    response=responses.TemplatesResponseSchema,
    errors=[422],
    headers=CONDITIONAL,
    description="Ready-to-post `POST /api/v1/agents` bodies with a valid A2A card, per type.",
)
async def templates(request: web.Request) -> web.Response:
    query = read_query(request, TEMPLATES_QUERY)
    wanted = query.get("agent_type")
    chosen = [
        template
        for template in request.app[TEMPLATES]
        if wanted is None or template["agent_type"] == wanted
    ]
    return respond(request, answer({"templates": chosen}))


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/discovery/agents", search_agents),
        web.post("/api/v1/discovery/search", search_by_body),
        web.get("/api/v1/discovery/capabilities", capabilities),
        web.get("/api/v1/discovery/templates", templates),
    ]
