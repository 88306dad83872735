"""Cross-origin requests from browsers (``[cors]``): preflights and the headers on answers.

aiohttp-cors is not a dependency and wants every route registered with it; this middleware
covers every route at once, including plugins' routes, from the one ``[cors]`` section.

Nothing is sent to an origin that is not listed, so by default no browser script on another
origin can read an answer. Every answer varies by ``Origin`` once any origin is listed, so a
shared cache never serves one origin's headers to another.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from agentvault_registry.config.settings import CorsSettings
from agentvault_registry.core.appkeys import SETTINGS


def _allowed_origin(cors: CorsSettings, origin: str | None) -> str | None:
    """The value of Access-Control-Allow-Origin for ``origin``, None when it is not allowed."""
    if not origin:
        return None
    if origin in cors.allow_origins:
        return origin
    # Without credentials a wildcard is safe to answer as such; with them it is refused.
    return "*" if "*" in cors.allow_origins else None


def _preflight_allowed(request: web.Request, cors: CorsSettings) -> bool:
    method = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_METHOD, "").upper()
    if method not in cors.allow_methods:
        return False
    exception = request.match_info.http_exception
    if isinstance(exception, web.HTTPNotFound):
        return False  # no such route: let it 404
    if isinstance(exception, web.HTTPMethodNotAllowed) and method not in exception.allowed_methods:
        return False
    allowed = {name.lower() for name in cors.allow_headers}
    asked = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_HEADERS, "")
    return all(name.strip().lower() in allowed for name in asked.split(",") if name.strip())


def _preflight(request: web.Request, cors: CorsSettings, origin: str) -> web.Response:
    response = web.Response(status=204)
    response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
    response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = ", ".join(cors.allow_methods)
    if cors.allow_headers:
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = ", ".join(cors.allow_headers)
    response.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = str(cors.max_age)
    if cors.allow_credentials:
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS] = "true"
    response.headers[hdrs.VARY] = "Origin"
    return response


def _decorate(response: web.StreamResponse, cors: CorsSettings, origin: str | None) -> None:
    response.headers.add(hdrs.VARY, "Origin")
    if origin is None:
        return
    response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
    if cors.expose_headers:
        response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = ", ".join(cors.expose_headers)
    if cors.allow_credentials:
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS] = "true"


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    cors = request.app[SETTINGS].cors
    if not cors.allow_origins:
        return await handler(request)
    origin = _allowed_origin(cors, request.headers.get(hdrs.ORIGIN))
    is_preflight = (
        request.method == hdrs.METH_OPTIONS
        and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
    )
    if is_preflight:
        if origin is not None and _preflight_allowed(request, cors):
            return _preflight(request, cors, origin)
        origin = None  # a refused preflight: its error answer approves nothing
    try:
        response = await handler(request)
    except web.HTTPException as passing:  # redirects: the error middleware keeps only < 400
        _decorate(passing, cors, origin)
        raise
    if not response.prepared:  # a streamed answer sent its headers already
        _decorate(response, cors, origin)
    return response
