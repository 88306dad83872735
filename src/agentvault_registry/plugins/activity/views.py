"""HTTP views of the activity plugin: the admin feed, a developer's own feed, the stats."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agentvault_registry.core.identity import current_identity, requires
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.core.requests import read_query
from agentvault_registry.plugins.activity import schemas
from agentvault_registry.plugins.activity.appkeys import ACTIVITY_SERVICE
from agentvault_registry.plugins.auth.scopes import ADMIN
from agentvault_registry.storage_backends.activity import ActivityFilter

ADMIN_TAGS = ["activity (admin)"]
OWN_TAGS = ["activity"]
ADMIN_QUERY = schemas.ActivityQuerySchema()
OWN_QUERY = schemas.OwnActivityQuerySchema()
STATS_QUERY = schemas.StatsQuerySchema()
LIST_JSON = schemas.ActivityListSchema()
OWN_JSON = schemas.OwnActivitySchema()
STATS_JSON = schemas.StatsSchema()
NO_STORE = {"Cache-Control": "no-store"}


def _filter(query: dict[str, Any], **fixed: Any) -> ActivityFilter:
    return ActivityFilter(
        actions=tuple(query["action"]),
        actor_id=query.get("actor_id"),
        owner_id=query.get("owner_id"),
        subject_type=query["subject_type"],
        subject_id=query["subject_id"],
        since=query["since"],
        until=query["until"],
        **fixed,
    )


async def _page(request: web.Request, query: dict[str, Any], **fixed: Any) -> dict[str, Any]:
    entries, next_before = await request.app[ACTIVITY_SERVICE].page(
        _filter(query, **fixed), limit=query["limit"], before_seq=query["cursor"]
    )
    return {
        "activity": entries,
        "pagination": {
            "limit": query["limit"],
            "next_cursor": None if next_before is None else schemas.encode_cursor(next_before),
        },
    }


@api_doc(
    "The registry's activity log",
    tags=ADMIN_TAGS,
    query=schemas.ActivityQuerySchema,
    response=schemas.ActivityListSchema,
    description="Newest first; follow `pagination.next_cursor` for older entries.",
)
@requires(role=ADMIN)
async def admin_activity(request: web.Request) -> web.Response:
    body = await _page(request, read_query(request, ADMIN_QUERY, repeatable=("action",)))
    return web.json_response(LIST_JSON.dump(body), headers=NO_STORE)


@api_doc(
    "My activity and usage",
    tags=OWN_TAGS,
    query=schemas.OwnActivityQuerySchema,
    response=schemas.OwnActivitySchema,
    description=(
        "Entries about what I own or did, newest first; my API requests and searches per day."
    ),
)
# An agent's own key sees no developer's feed.
@requires(kinds=("user", "api_key"))
async def own_activity(request: web.Request) -> web.Response:
    user_id = current_identity(request).subject
    query = read_query(request, OWN_QUERY, repeatable=("action",))
    body = await _page(request, query, owner_or_actor_id=user_id)
    body["usage"] = await request.app[ACTIVITY_SERVICE].usage(user_id)
    return web.json_response(OWN_JSON.dump(body), headers=NO_STORE)


@api_doc(
    "Registry statistics",
    tags=ADMIN_TAGS,
    query=schemas.StatsQuerySchema,
    response=schemas.StatsSchema,
)
@requires(role=ADMIN)
async def admin_stats(request: web.Request) -> web.Response:
    days = read_query(request, STATS_QUERY)["days"]
    stats = await request.app[ACTIVITY_SERVICE].stats(days)
    return web.json_response(STATS_JSON.dump(stats), headers=NO_STORE)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/admin/activity", admin_activity),
        web.get("/api/v1/admin/stats", admin_stats),
        web.get("/api/v1/me/activity", own_activity),
    ]
