"""Request id, security headers and the one JSON error shape.

Order (outermost first): request id → tracing → CORS (core/cors.py) → security headers →
errors → metrics → handler, so every response, error responses included, carries the request
id, the CORS headers and the security headers, and a request's span covers all but the id.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from agentvault_registry.core.appkeys import REQUEST_ID
from agentvault_registry.core.cors import cors_middleware
from agentvault_registry.core.errorreports import report_exception
from agentvault_registry.core.errors import (
    BadRequest,
    Forbidden,
    HTTPStatusError,
    MalformedJSON,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RegistryError,
    UnsupportedMediaType,
)
from agentvault_registry.core.logs import request_id_var
from agentvault_registry.core.metrics import metrics_middleware
from agentvault_registry.core.tracing import tracing_middleware

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

#: Strict defaults for API responses; an HTML view sets its own Content-Security-Policy.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

#: aiohttp's own HTTP exceptions (routing, body limits) mapped onto the registry's errors.
_AIOHTTP_ERRORS: dict[int, type[RegistryError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Adopt a well-formed client ``X-Request-ID`` or mint one; echo it and put it in logs."""
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = offered if _CLIENT_REQUEST_ID.match(offered) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    token = request_id_var.set(request_id)
    try:
        response = await handler(request)
    except web.HTTPException as redirect:  # the error middleware lets only < 400 through
        redirect.headers[REQUEST_ID_HEADER] = request_id
        raise
    finally:
        request_id_var.reset(token)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as redirect:  # the error middleware lets only < 400 through
        _add_security_headers(redirect)
        raise
    _add_security_headers(response)
    return response


def _add_security_headers(response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into the JSON error shape; anything unexpected is a logged 500."""
    try:
        return await handler(request)
    except RegistryError as exc:
        if exc.status >= 500:
            # The client gets a stable message; operators need the driver's cause.
            log.warning(
                "%s %s: %s", request.method, request.path, exc.message, exc_info=exc.__cause__
            )
        return error_response(request, exc)
    except json.JSONDecodeError:
        # A plugin that read the body with request.json() instead of read_json().
        return error_response(request, MalformedJSON())
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(request, _from_aiohttp(exc))
    except Exception as exc:
        log.exception("unhandled error in %s %s", request.method, request.path)
        report_exception(request.app, request, exc, request.get(REQUEST_ID))
        return error_response(request, RegistryError())


def error_response(request: web.Request, error: RegistryError) -> web.Response:
    response = web.json_response(error.to_dict(request.get(REQUEST_ID)), status=error.status)
    response.headers.update(error.headers)
    return response


def _from_aiohttp(exc: web.HTTPException) -> RegistryError:
    headers = {}
    if exc.status == 405 and "Allow" in exc.headers:
        headers["Allow"] = exc.headers["Allow"]
    error_class = _AIOHTTP_ERRORS.get(exc.status)
    if error_class is None:
        # A status the registry has no class for keeps its status and aiohttp's reason.
        return HTTPStatusError(exc.reason, headers=headers, status=exc.status)
    message = None
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        message = "The request body is larger than the server accepts."
    return error_class(message, headers=headers)


def core_middlewares() -> list[Callable[..., Awaitable[web.StreamResponse]]]:
    # CORS inside the request id (preflights carry one) and outside the error middleware
    # (error answers carry the CORS headers, so a browser script can read the error).
    return [
        request_id_middleware,
        tracing_middleware,
        cors_middleware,
        security_headers_middleware,
        error_middleware,
        metrics_middleware,
    ]
