"""HTTP views of the onboarding plugin: parse, call the service, shape the response."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from marshmallow import ValidationError

from agentvault_registry.core.activity import record_activity
from agentvault_registry.core.appkeys import RATE_LIMITER
from agentvault_registry.core.client_ip import client_ip
from agentvault_registry.core.errors import (
    BadRequest,
    InvalidCredentials,
    NotFound,
    ValidationFailed,
)
from agentvault_registry.core.identity import AGENT, Identity, current_identity, requires
from agentvault_registry.core.openapi import api_doc, link_to
from agentvault_registry.core.pagination import decode_cursor, pagination
from agentvault_registry.core.ratelimit import rate_limit
from agentvault_registry.core.requests import as_details, is_uuid, read_json, read_query
from agentvault_registry.plugins.agents.schemas import agent_json
from agentvault_registry.plugins.agents.views import etag_of
from agentvault_registry.plugins.auth.scopes import ONBOARD_TOKENS
from agentvault_registry.plugins.onboarding import schemas
from agentvault_registry.plugins.onboarding.appkeys import ONBOARDING_SERVICE
from agentvault_registry.plugins.onboarding.service import token_status
from agentvault_registry.storage_backends.onboarding import BootstrapTokenRecord

TAGS = ["onboarding"]
TOKEN_HEADER = "Bootstrap-Token"
#: Failed redemptions (bad tokens) per client IP: guessing gets nowhere, but it gets nowhere
#: slowly. Counted only on failure, so concurrent registrations never trip it.
REGISTER_FAILURES = "onboard.register_failures"
TOKEN_REQUEST = schemas.BootstrapTokenRequestSchema()
REGISTER = schemas.SelfRegistrationSchema()
LIST_QUERY = schemas.BootstrapTokenListQuerySchema()
TOKEN = schemas.BootstrapTokenSchema()


@api_doc(
    "Mint a single-use bootstrap token for an agent to register itself",
    tags=TAGS,
    body=schemas.BootstrapTokenRequestSchema,
    response=schemas.BootstrapTokenIssuedSchema,
    status=201,
    errors=[403],
    description="Only developers with a verified email. The token is shown once.",
    links={
        "RevokeBootstrapToken": link_to(
            "DELETE", "/api/v1/onboard/bootstrap/tokens/{token_id}", token_id="$response.body#/id"
        )
    },
)
@requires(scope=ONBOARD_TOKENS)
@rate_limit("bootstrap.request", per_ip=False)
async def request_token(request: web.Request) -> web.Response:
    body = await read_json(request, TOKEN_REQUEST)
    issued = await request.app[ONBOARDING_SERVICE].issue(current_identity(request), **body)
    record = issued.record
    await record_activity(
        request.app,
        "bootstrap_token.issued",
        actor=current_identity(request),
        subject_type="bootstrap_token",
        subject_id=record.id,
        owner_id=record.creator_id,
        details={"expires_at": record.expires_at.isoformat()},
    )
    response = {
        "id": record.id,
        "bootstrap_token": issued.token,
        "expires_at": record.expires_at.isoformat(),
        "expires_in": round((record.expires_at - record.created_at).total_seconds()),
    }
    return web.json_response(response, status=201, headers={"Cache-Control": "no-store"})


@api_doc(
    "Register an agent with a bootstrap token; returns the agent's own credentials",
    tags=TAGS,
    body=schemas.SelfRegistrationSchema,
    response=schemas.SelfRegisteredSchema,
    status=201,
    errors=[401, 409, 429],
    headers={TOKEN_HEADER: "The bootstrap token (or `bootstrap_token` in the body)."},
    description=(
        "The body is an agent registration as for `POST /agents`. The token is consumed only "
        "when the agent is created: a 422 leaves it usable. 401: unknown, malformed, expired "
        "or revoked token; 409: already used (`bootstrap_token_consumed`), or the "
        "`humanReadableId` is taken (`conflict`; the token stays usable). The API key in "
        "`credentials` is shown once."
    ),
)
async def register(request: web.Request) -> web.Response:
    limiter = request.app[RATE_LIMITER]
    scope = f"ip:{client_ip(request)}"
    standing = await limiter.peek(REGISTER_FAILURES, scope)
    if not standing.allowed:
        raise standing.error()
    document = await read_json(request)
    service = request.app[ONBOARDING_SERVICE]
    try:
        # The token comes first: a caller without a valid one learns nothing from validation.
        token = await service.redeemable(_presented_token(request, document))
    except InvalidCredentials:
        await limiter.hit(REGISTER_FAILURES, scope)
        raise
    registered = await service.register(token, _registration(document))
    # The agent registered itself with the token: it is the actor.
    await record_activity(
        request.app,
        "bootstrap_token.redeemed",
        actor=Identity(kind=AGENT, subject=registered.agent.id, plugin="onboarding"),
        subject_type="bootstrap_token",
        subject_id=token.id,
        owner_id=token.creator_id,
        details={"agent_id": registered.agent.id, "did": registered.agent.did},
    )
    body = {
        "agent": agent_json(registered.agent, registered.warnings),
        "credentials": {
            "agent_id": registered.agent.id,
            "did": registered.agent.did,
            "api_key": registered.api_key,
        },
    }
    return web.json_response(
        body,
        status=201,
        headers={
            "Location": f"/api/v1/agents/{registered.agent.id}",
            "ETag": etag_of(registered.agent),
            "Cache-Control": "no-store",
        },
    )


def _presented_token(request: web.Request, document: Any) -> str:
    header = request.headers.get(TOKEN_HEADER)
    in_body = document.get("bootstrap_token") if isinstance(document, dict) else None
    if header is not None and in_body is not None and header.strip() != in_body:
        raise BadRequest(f"The {TOKEN_HEADER} header and bootstrap_token differ; send one.")
    presented = header.strip() if header is not None else in_body
    if not isinstance(presented, str):
        raise InvalidCredentials(
            f"Send the bootstrap token in the {TOKEN_HEADER} header.",
            details={"reason": "missing"},
        )
    return presented


def _registration(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ValidationFailed(
            "The request body must be a JSON object.",
            details={"_schema": ["Expected an object."]},
        )
    try:
        fields = REGISTER.load(document)
    except ValidationError as exc:
        raise ValidationFailed(details=as_details(exc.messages)) from None
    fields.pop("bootstrap_token", None)
    return fields


def token_json(token: BootstrapTokenRecord, now: Any) -> dict[str, Any]:
    return TOKEN.dump(token) | {"status": token_status(token, now)}


@api_doc(
    "The caller's bootstrap tokens, newest first (never the tokens themselves)",
    tags=TAGS,
    query=schemas.BootstrapTokenListQuerySchema,
    response=schemas.BootstrapTokenListSchema,
    errors=[400, 403, 422],
)
@requires(scope=ONBOARD_TOKENS)
async def list_tokens(request: web.Request) -> web.Response:
    query = read_query(request, LIST_QUERY)
    per_page = query["per_page"]
    after = decode_cursor(query["cursor"]) if "cursor" in query else None
    service = request.app[ONBOARDING_SERVICE]
    page = await service.tokens(
        current_identity(request),
        limit=per_page,
        after=after,
        offset=(query["page"] - 1) * per_page,
    )
    now = service.clock()
    return web.json_response(
        {
            "tokens": [token_json(token, now) for token in page.tokens],
            "pagination": pagination(
                total=page.total,
                page=query["page"],
                per_page=per_page,
                next_after=page.next_after,
            ),
        }
    )


@api_doc(
    "Revoke a bootstrap token (its creator or an admin)",
    tags=TAGS,
    status=204,
    errors=[403, 404, 409],
)
@requires(scope=ONBOARD_TOKENS)
async def revoke_token(request: web.Request) -> web.Response:
    token_id = request.match_info["token_id"]
    if not is_uuid(token_id):
        raise NotFound("No such bootstrap token.")
    await request.app[ONBOARDING_SERVICE].revoke(current_identity(request), token_id)
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    prefix = "/api/v1/onboard"
    return [
        web.post(f"{prefix}/bootstrap/request-token", request_token),
        web.post(f"{prefix}/register", register),
        web.get(f"{prefix}/bootstrap/tokens", list_tokens),
        web.delete(f"{prefix}/bootstrap/tokens/{{token_id}}", revoke_token),
    ]
