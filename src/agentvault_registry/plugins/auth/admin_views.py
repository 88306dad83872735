"""HTTP views of the auth plugin for admins: the accounts of the registry."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.core.activity import record_activity
from agentvault_registry.core.errors import NotFound
from agentvault_registry.core.identity import current_identity, requires
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.core.pagination import decode_cursor, pagination
from agentvault_registry.core.requests import is_uuid, read_json, read_query
from agentvault_registry.plugins.auth import schemas
from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE
from agentvault_registry.plugins.auth.scopes import ADMIN
from agentvault_registry.storage_backends.accounts import UserFilter

TAGS = ["users (admin)"]
LIST_QUERY = schemas.UserListQuerySchema()
UPDATE = schemas.UserUpdateSchema()
USER = schemas.UserSchema()
NO_STORE = {"Cache-Control": "no-store"}


@api_doc(
    "The registry's accounts, newest first",
    tags=TAGS,
    query=schemas.UserListQuerySchema,
    response=schemas.UserListSchema,
    errors=[400, 422],
    description="Follow `pagination.next_cursor` (as `cursor`) for the next page.",
)
@requires(role=ADMIN)
async def list_users(request: web.Request) -> web.Response:
    query = read_query(request, LIST_QUERY)
    per_page = query["per_page"]
    page = await request.app[AUTH_SERVICE].users(
        UserFilter(text=query.get("q"), role=query.get("role"), is_active=query.get("is_active")),
        limit=per_page,
        after=decode_cursor(query["cursor"]) if "cursor" in query else None,
        offset=(query["page"] - 1) * per_page,
    )
    body = {
        "users": USER.dump(page.users, many=True),
        "pagination": pagination(
            total=page.total, page=query["page"], per_page=per_page, next_after=page.next_after
        ),
    }
    return web.json_response(body, headers=NO_STORE)


@api_doc(
    "Change an account's role or deactivate it",
    tags=TAGS,
    body=schemas.UserUpdateSchema,
    response=schemas.UserSchema,
    errors=[404, 409],
    description=(
        "Deactivating ends every session of the account and its API keys stop working; "
        "reactivating lets it log in again. 409 `last_active_admin`: the change would leave "
        "no active admin; 409 `self_deactivation`: admins cannot deactivate themselves."
    ),
)
@requires(role=ADMIN)
async def update_user(request: web.Request) -> web.Response:
    user_id = request.match_info["user_id"]
    if not is_uuid(user_id):
        raise NotFound("No such user.")
    body = await read_json(request, UPDATE)
    admin_id = current_identity(request).subject
    update = await request.app[AUTH_SERVICE].update_by_admin(admin_id, user_id, **body)
    await record_activity(
        request.app,
        "user.updated",
        actor=current_identity(request),
        subject_type="user",
        subject_id=user_id,
        owner_id=user_id,
        details=update.changes,
    )
    return web.json_response(USER.dump(update.user), headers=NO_STORE)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/admin/users", list_users),
        web.patch("/api/v1/admin/users/{user_id}", update_user),
    ]
