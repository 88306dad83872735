"""HTTP views of the liveness plugin: parse, call the service, shape the response."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.core.identity import current_identity, requires
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.core.ratelimit import rate_limit
from agentvault_registry.core.requests import read_optional_json
from agentvault_registry.plugins.agents.appkeys import AGENT_SERVICE
from agentvault_registry.plugins.agents.schemas import agent_json
from agentvault_registry.plugins.agents.views import etag_of, expected_version
from agentvault_registry.plugins.auth.scopes import AGENTS_READ, AGENTS_SELF, AGENTS_WRITE
from agentvault_registry.plugins.liveness import schemas
from agentvault_registry.plugins.liveness.appkeys import LIVENESS_SERVICE
from agentvault_registry.storage_backends.agents import AgentRecord

TAGS = ["agents"]
#: Fetches of an agent's origin its owner asks for (re-checks, origin cards, re-syncs).
CHECK_LIMIT = "liveness.check"
CHECK = schemas.CheckRequestSchema()
RESYNC = schemas.ResyncRequestSchema()
OWNER_ERRORS = [403, 404, 422, 429]


async def _owned(request: web.Request) -> AgentRecord:
    # Whose agent it is comes first: a stranger learns nothing from validation errors.
    return await request.app[AGENT_SERVICE].owned(
        current_identity(request), request.match_info["agent_id"]
    )


@api_doc(
    "An agent's health, as its last probe found it",
    tags=TAGS,
    response=schemas.HealthReportSchema,
    errors=[404],
    description=(
        "`status`: `unknown` (never probed), `unreachable` (no HTTP answer), `degraded` (an "
        "answer other than 2xx/304, no usable card, or slower than the slow threshold) or "
        "`healthy`. `uptime_7d`: the share of the last 7 days' probes the origin answered."
    ),
)
async def agent_health(request: web.Request) -> web.Response:
    report = await request.app[LIVENESS_SERVICE].report(request.match_info["agent_id"])
    return web.json_response(report)


@api_doc(
    "Probe an agent's origin now",
    tags=TAGS,
    body=schemas.CheckRequestSchema,
    body_required=False,
    response=schemas.HealthReportSchema,
    errors=OWNER_ERRORS,
    description=(
        "The agent's developer, an admin, or the agent's own key. The registry fetches the "
        "agent's card from its origin (`/.well-known/agent-card.json`, then `agent.json`) and "
        "answers with the health that probe found; an origin that is down is a 200 with "
        "`status: unreachable`. 422: the agent has no interface URL."
    ),
)
@requires(scope=(AGENTS_WRITE, AGENTS_SELF))
@rate_limit(CHECK_LIMIT, per_ip=False)
async def check_health(request: web.Request) -> web.Response:
    agent = await _owned(request)
    await read_optional_json(request, CHECK)
    report = await request.app[LIVENESS_SERVICE].check(agent)
    return web.json_response(report, headers={"Cache-Control": "no-store"})


@api_doc(
    "The card the agent's origin serves now, and how it differs from the registered one",
    tags=TAGS,
    response=schemas.OriginCardSchema,
    errors=OWNER_ERRORS,
    description=(
        "The agent's owner. `diff`: RFC 6902 operations (JSON Pointer paths) turning the "
        "registered card into the origin's, both normalized to A2A 1.0. 422 `fetch_failed`: "
        "the origin serves no card; 422 `invalid_agent_card`: what it serves is no usable card."
    ),
)
@requires(scope=(AGENTS_READ, AGENTS_WRITE, AGENTS_SELF))
@rate_limit(CHECK_LIMIT, per_ip=False)
async def origin_card(request: web.Request) -> web.Response:
    agent = await _owned(request)
    served = await request.app[LIVENESS_SERVICE].origin_card(agent)
    body = {
        "card_url": served.url,
        "card_hash": served.card_hash,
        "card_drift": served.card_drift,
        "card": served.normalized.card,
        "warnings": served.normalized.warnings,
        "diff": served.diff,
    }
    return web.json_response(body, headers={"Cache-Control": "no-store"})


@api_doc(
    "Replace the agent's card with the one its origin serves now",
    tags=TAGS,
    body=schemas.ResyncRequestSchema,
    body_required=False,
    response=schemas.ResyncedSchema,
    errors=[*OWNER_ERRORS, 409, 412],
    headers={"If-Match": "The agent's ETag you read: 412 when it changed since."},
    description=(
        "The agent's owner. An update of the agent with the origin's card (its name, "
        "description and interfaces follow the card, as for a `card` sent with PATCH), "
        "answered with the agent and the `diff` from the card it had. 409: the origin serves "
        "another card than the `card_hash` reviewed; 422 as for `GET .../card/origin`."
    ),
)
@requires(scope=(AGENTS_WRITE, AGENTS_SELF))
@rate_limit(CHECK_LIMIT, per_ip=False)
async def resync_card(request: web.Request) -> web.Response:
    agent = await _owned(request)
    body = await read_optional_json(request, RESYNC)
    resynced = await request.app[LIVENESS_SERVICE].resync(
        current_identity(request),
        agent,
        expected_version=expected_version(request, agent.id),
        reviewed_hash=body.get("card_hash"),
    )
    response = {
        "agent": agent_json(resynced.agent, resynced.warnings),
        "diff": resynced.diff,
        "changed": resynced.changed,
    }
    return web.json_response(response, headers={"ETag": etag_of(resynced.agent)})


def routes() -> list[web.RouteDef]:
    agent = "/api/v1/agents/{agent_id}"
    return [
        web.get(f"{agent}/health", agent_health),
        web.post(f"{agent}/health/check", check_health),
        web.get(f"{agent}/card/origin", origin_card),
        web.post(f"{agent}/card/resync", resync_card),
    ]
