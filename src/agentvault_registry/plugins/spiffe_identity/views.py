"""HTTP views of the spiffe_identity plugin."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.core.identity import requires
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.plugins.auth.scopes import ADMIN
from agentvault_registry.plugins.spiffe_identity import schemas
from agentvault_registry.plugins.spiffe_identity.appkeys import IDENTITY_SERVICE

STATUS_JSON = schemas.IdentityStatusSchema()


@api_doc(
    "This registry's workload identity",
    tags=["identity (admin)"],
    response=schemas.IdentityStatusSchema,
    description=(
        "Our SPIFFE ID, the X.509-SVID we hold and when it expires, and the trust bundles by "
        "fingerprint. `problem` says why the source has nothing newer (an agent socket down, "
        "SVID files that do not load); `svid` stays the last good one meanwhile."
    ),
)
@requires(role=ADMIN)
async def identity(request: web.Request) -> web.Response:
    status = request.app[IDENTITY_SERVICE].status()
    return web.json_response(STATUS_JSON.dump(status), headers={"Cache-Control": "no-store"})


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v1/identity", identity)]
