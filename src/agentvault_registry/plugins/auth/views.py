"""HTTP views of the auth plugin: parse, call the service, shape the response."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agentvault_registry.core.activity import record_activity
from agentvault_registry.core.appkeys import IDENTITY
from agentvault_registry.core.errors import BadRequest
from agentvault_registry.core.identity import Identity, current_identity, requires
from agentvault_registry.core.openapi import api_doc, link_to
from agentvault_registry.core.ratelimit import rate_limit
from agentvault_registry.core.requests import public_base_url, read_json, read_optional_json
from agentvault_registry.core.tasks import spawn
from agentvault_registry.plugins.auth import schemas
from agentvault_registry.plugins.auth.appkeys import API_KEY_SERVICE, AUTH_SERVICE
from agentvault_registry.plugins.auth.credentials import PLUGIN
from agentvault_registry.plugins.auth.service import LoginFailed, TokenPair

TAGS = ["auth"]
SESSION = ("user",)
#: A developer's own credentials: a session or one of their keys, not an agent's key.
ACCOUNT = ("user", "api_key")


async def _record(
    request: web.Request,
    action: str,
    user_id: str | None,
    *,
    by_the_user: bool = True,
    subject_type: str = "user",
    subject_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """An activity entry about the account ``user_id`` (or a thing of it): done by that
    account, which the request may have only just proved or created, or (not
    ``by_the_user``) by whoever called."""
    actor = request.get(IDENTITY)
    if by_the_user and user_id is not None and actor is None:
        actor = Identity(kind="user", subject=user_id, plugin=PLUGIN)
    await record_activity(
        request.app,
        action,
        actor=actor,
        subject_type=subject_type,
        subject_id=subject_id if subject_type != "user" else user_id,
        owner_id=user_id,
        details=details,
    )


def _user(request: web.Request, user: object) -> web.Response:
    return web.json_response(schemas.UserSchema().dump(user))


def _pair(pair: TokenPair) -> web.Response:
    response = web.json_response(schemas.TokenPairSchema().dump(pair))
    response.headers["Cache-Control"] = "no-store"
    return response


@api_doc(
    "Create a developer account",
    tags=TAGS,
    body=schemas.RegisterSchema,
    response=schemas.UserSchema,
    status=201,
    errors=[409],
    description="Sends an email-verification mail. 409 names the field already taken.",
)
@rate_limit("auth.register")
async def register(request: web.Request) -> web.Response:
    body = await read_json(request, schemas.RegisterSchema())
    service = request.app[AUTH_SERVICE]
    user = await service.register(body["email"], body["username"], body["password"])
    await _record(request, "auth.registered", user.id, details={"username": user.username})
    # In the background: the account exists whether or not the mail server answers now.
    spawn(
        request.app,
        service.send_verification(user, public_base_url(request)),
        name="auth.verification_mail",
    )
    return web.json_response(schemas.UserSchema().dump(user), status=201)


@api_doc(
    "Confirm an email address with the mailed token",
    tags=TAGS,
    body=schemas.VerifyEmailSchema,
    response=schemas.UserSchema,
    errors=[404],
)
@rate_limit("auth.verify_email")
async def verify_email(request: web.Request) -> web.Response:
    body = await read_json(request, schemas.VerifyEmailSchema())
    user = await request.app[AUTH_SERVICE].verify_email(body["token"])
    await _record(request, "auth.email_verified", user.id)
    return _user(request, user)


@api_doc(
    "Log in with email or username and password",
    tags=TAGS,
    body=schemas.LoginSchema,
    response=schemas.TokenPairSchema,
    errors=[401],
)
@rate_limit("auth.login")
async def login(request: web.Request) -> web.Response:
    body = await read_json(request, schemas.LoginSchema())
    login_name = body.get("email") or body["username"]
    try:
        pair = await request.app[AUTH_SERVICE].login(login_name, body["password"])
    except LoginFailed as failed:
        await _record(request, "auth.login_failed", failed.user_id, by_the_user=False)
        raise
    await _record(request, "auth.login", pair.user_id)
    return _pair(pair)


@api_doc(
    "Trade a refresh token for a new token pair",
    tags=TAGS,
    body=schemas.RefreshSchema,
    response=schemas.TokenPairSchema,
    errors=[401],
    description="The refresh token is spent; presenting it again revokes the whole session.",
)
@rate_limit("auth.refresh")
async def refresh(request: web.Request) -> web.Response:
    body = await read_json(request, schemas.RefreshSchema())
    return _pair(await request.app[AUTH_SERVICE].refresh(body["refresh_token"]))


@api_doc(
    "End this session, or every session of the account",
    tags=TAGS,
    body=schemas.LogoutSchema,
    body_required=False,
    status=204,
    errors=[403],
    description='No body ends this session; `{"everywhere": true}` ends them all.',
)
@requires(kinds=SESSION)
async def logout(request: web.Request) -> web.Response:
    body = await read_optional_json(request, schemas.LogoutSchema())
    identity = current_identity(request)
    service = request.app[AUTH_SERVICE]
    if body["everywhere"]:
        # This session is one of them: its access token stops working too.
        await service.revoke_all_sessions(identity.subject)
    else:
        await service.logout(identity.claims["sid"])
    await _record(
        request, "auth.logout", identity.subject, details={"everywhere": body["everywhere"]}
    )
    return web.Response(status=204)


@api_doc("The calling account", tags=TAGS, response=schemas.UserSchema, errors=[403])
@requires(kinds=ACCOUNT)
async def me(request: web.Request) -> web.Response:
    user = await request.app[AUTH_SERVICE].user(current_identity(request).subject)
    return _user(request, user)


@api_doc(
    "Change the password; every other session ends",
    tags=TAGS,
    body=schemas.PasswordChangeSchema,
    status=204,
    errors=[403],
)
@requires(kinds=SESSION)
@rate_limit("auth.password")
async def change_password(request: web.Request) -> web.Response:
    body = await read_json(request, schemas.PasswordChangeSchema())
    identity = current_identity(request)
    await request.app[AUTH_SERVICE].change_password(
        identity.subject, identity.claims["sid"], body["current_password"], body["new_password"]
    )
    await _record(request, "auth.password_changed", identity.subject)
    return web.Response(status=204)


@api_doc(
    "Mail a password-reset link",
    tags=TAGS,
    body=schemas.RecoverSchema,
    status=202,
    description="Always 202, whether or not the address has an account.",
)
@rate_limit("auth.recover")
async def recover(request: web.Request) -> web.Response:
    body = await read_json(request, schemas.RecoverSchema())
    # In the background: answering only after the mail went out would reveal the account.
    spawn(
        request.app,
        request.app[AUTH_SERVICE].recover(body["email"], base_url=public_base_url(request)),
        name="auth.recover",
    )
    # Anonymous and without the address: the log must not tell who has an account.
    await record_activity(
        request.app,
        "auth.recovery_requested",
        actor=None,
        subject_type="user",
        subject_id=None,
        owner_id=None,
    )
    return web.json_response(
        {"status": "accepted", "message": "If the address has an account, a link is on its way."},
        status=202,
    )


@api_doc(
    "Set a new password with the mailed reset token; every session ends",
    tags=TAGS,
    body=schemas.RecoverConfirmSchema,
    status=204,
    errors=[404],
)
@rate_limit("auth.recover_confirm")
async def recover_confirm(request: web.Request) -> web.Response:
    body = await read_json(request, schemas.RecoverConfirmSchema())
    await request.app[AUTH_SERVICE].recover_confirm(body["token"], body["new_password"])
    return web.Response(status=204)


@api_doc("The caller's API keys", tags=TAGS, response=schemas.ApiKeyListSchema, errors=[403])
@requires(kinds=SESSION)
async def list_api_keys(request: web.Request) -> web.Response:
    keys = await request.app[API_KEY_SERVICE].list(current_identity(request).subject)
    return web.json_response({"api_keys": schemas.ApiKeySchema(many=True).dump(keys)})


@api_doc(
    "Mint an API key (shown once)",
    tags=TAGS,
    body=schemas.ApiKeyCreateSchema,
    response=schemas.ApiKeyCreatedSchema,
    status=201,
    errors=[403],
    links={
        "RevokeApiKey": link_to(
            "DELETE", "/api/v1/auth/api-keys/{key_id}", key_id="$response.body#/id"
        )
    },
)
@requires(kinds=SESSION)
@rate_limit("auth.api_keys")
async def create_api_key(request: web.Request) -> web.Response:
    body = await read_json(request, schemas.ApiKeyCreateSchema())
    user = await request.app[AUTH_SERVICE].user(current_identity(request).subject)
    record, key = await request.app[API_KEY_SERVICE].create(
        user, body["name"], body["scopes"], body["expires_at"]
    )
    await _record(
        request,
        "api_key.created",
        user.id,
        subject_type="api_key",
        subject_id=record.id,
        details={"name": record.name, "scopes": list(record.scopes)},
    )
    created = schemas.ApiKeySchema().dump(record) | {"key": key}
    response = web.json_response(created, status=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@api_doc(
    "Revoke one of the caller's API keys",
    tags=TAGS,
    status=204,
    # 400: an id too long to be one.
    errors=[400, 403, 404],
)
@requires(kinds=SESSION)
async def revoke_api_key(request: web.Request) -> web.Response:
    key_id = request.match_info["key_id"]
    if len(key_id) > 64:
        raise BadRequest("Not an API key id.")
    await request.app[API_KEY_SERVICE].revoke(current_identity(request).subject, key_id)
    await _record(
        request,
        "api_key.revoked",
        current_identity(request).subject,
        subject_type="api_key",
        subject_id=key_id,
    )
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    prefix = "/api/v1/auth"
    return [
        web.post(f"{prefix}/register", register),
        web.post(f"{prefix}/verify-email", verify_email),
        web.post(f"{prefix}/login", login),
        web.post(f"{prefix}/refresh", refresh),
        web.post(f"{prefix}/logout", logout),
        web.get(f"{prefix}/me", me),
        web.put(f"{prefix}/password", change_password),
        web.post(f"{prefix}/recover", recover),
        web.post(f"{prefix}/recover/confirm", recover_confirm),
        web.get(f"{prefix}/api-keys", list_api_keys),
        web.post(f"{prefix}/api-keys", create_api_key),
        web.delete(f"{prefix}/api-keys/{{key_id}}", revoke_api_key),
    ]
