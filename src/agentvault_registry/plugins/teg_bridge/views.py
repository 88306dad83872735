"""HTTP views of the TEG bridge: parse, call the service, shape the response."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.core.identity import AGENT, current_identity, requires
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.core.ratelimit import rate_limit
from agentvault_registry.core.requests import read_optional_json
from agentvault_registry.plugins.agents.appkeys import AGENT_SERVICE
from agentvault_registry.plugins.teg_bridge import schemas
from agentvault_registry.plugins.teg_bridge.appkeys import TEG_SERVICE

TOKEN_LIMIT = "teg.token"
TOKEN_REQUEST = schemas.TokenRequestSchema()
TOKEN_ANSWER = schemas.TokenAnswerSchema()


@api_doc(
    "An access token of the TEG economic layer for the calling agent",
    tags=["teg"],
    body=schemas.TokenRequestSchema,
    body_required=False,
    response=schemas.TokenAnswerSchema,
    errors=[403, 501, 502],
    description=(
        "For agents only (their own key or workload identity). The body is optional: without "
        "`scope` the token covers every configured scope. The registry proves the agent's "
        "identity to the TEG with an assertion (RFC 7523) and reuses a token while it has "
        "time left. 403 `agent_not_active`: the agent is not active; 501 `not_configured`: "
        "no TEG here; 502 `teg_refused` (the TEG's OAuth error in details) or "
        "`teg_bad_response`; 503 `teg_unavailable` with Retry-After."
    ),
)
@requires(kinds=(AGENT,))
@rate_limit(TOKEN_LIMIT, per_ip=False)
async def token(request: web.Request) -> web.Response:
    body = await read_optional_json(request, TOKEN_REQUEST)
    agent = await request.app[AGENT_SERVICE].get(current_identity(request).subject)
    service = request.app[TEG_SERVICE]
    issued = await service.token(agent, body.get("scope"))
    answer = TOKEN_ANSWER.dump(
        {
            "access_token": issued.access_token,
            "token_type": issued.token_type,
            "expires_in": issued.expires_in(service.clock()),
            "scope": issued.scope,
        }
    )
    # RFC 6749 section 5.1: a token response is never stored by any cache.
    return web.json_response(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def routes() -> list[web.RouteDef]:
    return [web.post("/api/v1/teg/token", token)]
