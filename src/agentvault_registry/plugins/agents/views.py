"""HTTP views of the agents plugin: parse, call the service, shape the response."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from aiohttp import web

from agentvault_registry.a2a.downgrade import downgrade_to_v03
from agentvault_registry.core.appkeys import PLUGIN_MANAGER
from agentvault_registry.core.asyncutils import first_result
from agentvault_registry.core.errors import PreconditionFailed
from agentvault_registry.core.identity import (
    Requirement,
    current_identity,
    require_identity,
    requires,
)
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.core.pagination import decode_cursor, pagination
from agentvault_registry.core.ratelimit import rate_limit
from agentvault_registry.core.requests import public_base_url, read_json, read_query
from agentvault_registry.plugins.agents import schemas
from agentvault_registry.plugins.agents.appkeys import AGENT_SERVICE, OWNERSHIP
from agentvault_registry.plugins.agents.cards import SIGNATURES
from agentvault_registry.plugins.auth.scopes import AGENTS_READ, AGENTS_SELF, AGENTS_WRITE
from agentvault_registry.storage_backends.agents import AgentFilter, AgentRecord

TAGS = ["agents"]
WRITE = AGENTS_WRITE
READ = AGENTS_READ
#: An agent's own key (from onboarding): updates that one agent.
SELF = AGENTS_SELF
# Built once: a schema instance is reusable, and building one per request copies its fields.
CREATE = schemas.AgentCreateSchema()
REPLACE = schemas.AgentReplaceSchema()
PATCH = schemas.AgentPatchSchema()
LIST_QUERY = schemas.AgentListQuerySchema()
CARD_QUERY = schemas.CardQuerySchema()
CURRENT_VERSION = "1.0"
#: A version in an ETag: ASCII digits only, and small enough for every backend's integer.
VERSION = re.compile(r"[0-9]{1,9}")


def etag_of(agent: AgentRecord) -> str:
    return f'"{agent.id}.{agent.version}"'


def expected_version(request: web.Request, agent_id: str | None = None) -> int | None:
    """The version an ``If-Match`` header names; None without one. 412 for a foreign ETag."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    identifier, _, version = tag.rpartition(".")
    if not VERSION.fullmatch(version) or (agent_id is not None and identifier != agent_id):
        raise PreconditionFailed("If-Match does not name a version of this agent.")
    return int(version)


def agent_response(agent: AgentRecord, *, status: int = 200, warnings: list[str] | None = None):
    response = web.json_response(schemas.agent_json(agent, warnings), status=status)
    response.headers["ETag"] = etag_of(agent)
    return response


@api_doc(
    "Register an agent",
    tags=TAGS,
    body=schemas.AgentCreateSchema,
    response=schemas.AgentSchema,
    status=201,
    errors=[403, 409],
    description="With `card` (any A2A version; normalized to 1.0) or `cardUrl` (imported).",
    example={
        "name": "Echo",
        "description": "Echoes what it is told.",
        "apiEndpoints": ["https://echo.example.com/a2a"],
        "capabilities": ["echo"],
    },
)
@requires(scope=WRITE)
@rate_limit("agents.create")
async def create_agent(request: web.Request) -> web.Response:
    body = await read_json(request, CREATE)
    written = await request.app[AGENT_SERVICE].create(current_identity(request), body)
    response = agent_response(written.agent, status=201, warnings=written.warnings)
    response.headers["Location"] = f"/api/v1/agents/{written.agent.id}"
    return response


@api_doc(
    "List agents",
    tags=TAGS,
    query=schemas.AgentListQuerySchema,
    # owner=me: 401 without credentials, 403 for a key without agents:read (an agent's own).
    errors=[400, 401, 403, 422],
)
async def list_agents(request: web.Request) -> web.Response:
    query = read_query(request, LIST_QUERY)
    developer_id = None
    if query.get("owner") == "me":
        identity = await require_identity(request, Requirement(scope=READ))
        developer_id = identity.subject
    agent_filter = AgentFilter(
        developer_id=developer_id,
        statuses=(query["status"],) if "status" in query else AgentFilter().statuses,
        agent_type=query.get("agent_type"),
        capability=query.get("capability"),
    )
    per_page = query["per_page"]
    after = decode_cursor(query["cursor"]) if "cursor" in query else None
    page = await request.app[AGENT_SERVICE].list(
        agent_filter, limit=per_page, after=after, offset=(query["page"] - 1) * per_page
    )
    wanted = set(query["fields_"].split(",")) if "fields_" in query else None
    agents = [
        {
            key: value
            for key, value in schemas.agent_json(agent).items()
            if wanted is None or key in wanted
        }
        for agent in page.agents
    ]
    return web.json_response(
        {
            "agents": agents,
            "pagination": pagination(
                total=page.total,
                total_exact=page.total_exact,
                page=query["page"],
                per_page=per_page,
                next_after=page.next_after,
            ),
        }
    )


@api_doc(
    "One agent, by UUID, DID or humanReadableId",
    tags=TAGS,
    response=schemas.AgentSchema,
    errors=[404],
    headers={"If-None-Match": "The agent's ETag from an earlier answer: 304 if unchanged."},
)
async def get_agent(request: web.Request) -> web.Response:
    agent = await request.app[AGENT_SERVICE].get(request.match_info["agent_id"])
    if request.headers.get("If-None-Match") == etag_of(agent):
        return web.Response(status=304, headers={"ETag": etag_of(agent)})
    return agent_response(agent)


async def _write(request: web.Request, schema: Any, *, replace: bool) -> web.Response:
    reference = request.match_info["agent_id"]
    service = request.app[AGENT_SERVICE]
    # Whose agent it is comes first: a stranger learns nothing from validation errors.
    current = await service.owned(current_identity(request), reference)
    body = await read_json(request, schema)
    written = await service.update(
        current_identity(request),
        reference,
        body,
        expected_version=expected_version(request, current.id),
        replace=replace,
    )
    return agent_response(written.agent, warnings=written.warnings)


@api_doc(
    "Replace an agent's mutable fields",
    tags=TAGS,
    body=schemas.AgentReplaceSchema,
    response=schemas.AgentSchema,
    errors=[403, 404, 409, 412],
    description="Send If-Match with the ETag you read: 412 when someone changed it since.",
)
@requires(scope=(WRITE, SELF))
async def replace_agent(request: web.Request) -> web.Response:
    return await _write(request, REPLACE, replace=True)


@api_doc(
    "Change some of an agent's fields",
    tags=TAGS,
    body=schemas.AgentPatchSchema,
    response=schemas.AgentSchema,
    errors=[403, 404, 409, 412],
)
@requires(scope=(WRITE, SELF))
async def patch_agent(request: web.Request) -> web.Response:
    return await _write(request, PATCH, replace=False)


@api_doc("Delete an agent (kept as a tombstone)", tags=TAGS, status=204, errors=[403, 404, 412])
@requires(scope=WRITE)
async def delete_agent(request: web.Request) -> web.Response:
    service = request.app[AGENT_SERVICE]
    current = await service.owned(current_identity(request), request.match_info["agent_id"])
    await service.delete(
        current_identity(request),
        current.id,
        expected_version=expected_version(request, current.id),
    )
    return web.Response(status=204)


@api_doc(
    "Prove control of the agent's endpoint (challenge, then check)",
    tags=TAGS,
    errors=[403, 404, 422],
    description=(
        "The first call returns a token and the URL where the agent must serve it; the next "
        "call makes the registry fetch that URL and marks the agent verified."
    ),
)
@requires(scope=WRITE)
async def verify_agent(request: web.Request) -> web.Response:
    ownership = request.app[OWNERSHIP]
    agent = await request.app[AGENT_SERVICE].owned(
        current_identity(request), request.match_info["agent_id"]
    )
    if request.can_read_body:
        await read_json(request, schemas.VerifyRequestSchema())
    outcome = await ownership.verify(agent, current_identity(request))
    return web.json_response(outcome, status=200)


@api_doc(
    "The agent's A2A card (stored, or derived from the record)",
    tags=TAGS,
    query=schemas.CardQuerySchema,
    errors=[404],
    headers={"If-None-Match": "The card's ETag from an earlier answer: 304 if unchanged."},
    description=(
        "A2A 1.0 by default; `version=0.3` serves it down-converted for older clients. The "
        "registry adds its own signature (keys at `/.well-known/jwks.json`) when a plugin signs."
    ),
)
async def agent_card(request: web.Request) -> web.Response:
    query = read_query(request, CARD_QUERY)
    service = request.app[AGENT_SERVICE]
    agent = await service.get(request.match_info["agent_id"])
    card = await service.card(agent)
    version = query["version"]
    served = dict(card.card) if version == CURRENT_VERSION else downgrade_to_v03(card.card)
    signature = await first_result(
        request.app[PLUGIN_MANAGER].hook.sign_document(
            app=request.app,
            document=served,
            signatures_member=SIGNATURES,
            base_url=public_base_url(request),
        )
    )
    if signature is not None:
        served[SIGNATURES] = [*served.get(SIGNATURES, ()), signature]
    # The validator changes with the version served and with the registry's signature (a new
    # key, another public URL in its jku), not only with the stored card.
    variant = "" if version == CURRENT_VERSION else f"-v{version}"
    if signature is not None:
        variant += "-" + hashlib.sha256(signature["protected"].encode()).hexdigest()[:12]
    etag = f'"{card.etag}{variant}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=60"}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.json_response(served, headers=headers)


@api_doc(
    "Changes to agents, in order, resumable by cursor", tags=TAGS, query=schemas.ChangesQuerySchema
)
async def agent_changes(request: web.Request) -> web.Response:
    query = read_query(request, schemas.ChangesQuerySchema())
    events = await request.app[AGENT_SERVICE].changes(int(query["since"]), query["limit"])
    return web.json_response(
        {
            "changes": [schemas.change_json(event) for event in events],
            "next_cursor": str(events[-1].seq) if events else query["since"],
        }
    )


def routes() -> list[web.RouteDef]:
    prefix = "/api/v1/agents"
    return [
        web.post(prefix, create_agent),
        web.get(prefix, list_agents),
        web.get(f"{prefix}/changes", agent_changes),
        web.get(f"{prefix}/{{agent_id}}", get_agent),
        web.put(f"{prefix}/{{agent_id}}", replace_agent),
        web.patch(f"{prefix}/{{agent_id}}", patch_agent),
        web.delete(f"{prefix}/{{agent_id}}", delete_agent),
        web.post(f"{prefix}/{{agent_id}}/verify", verify_agent),
        web.get(f"{prefix}/{{agent_id}}/card", agent_card),
    ]
