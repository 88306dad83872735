"""OpenAPI 3.1 generated from route metadata and marshmallow schemas (apispec).

A view declares its contract with :func:`api_doc`; :func:`build_openapi` walks the app's router
and documents every decorated route. A meta-test checks that every ``/api/v1`` route is
documented.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

import agentvault_registry
from agentvault_registry.config.settings import Settings
from agentvault_registry.core.identity import Requirement, requirement_of
from agentvault_registry.core.ratelimit import rate_limit_name

F = TypeVar("F", bound=Callable[..., Any])

_ERROR_DESCRIPTIONS = {
    400: "Malformed request (not JSON, bad parameter).",
    401: "Missing or invalid credentials.",
    403: "Authenticated, but not allowed.",
    404: "No such resource.",
    409: "Conflicts with the current state.",
    412: "A precondition failed.",
    413: "The body is over the size limit.",
    415: "The body is not JSON.",
    422: "Validation failed; details map field paths to messages.",
    429: "Rate limited; see Retry-After.",
    503: "A backend is unavailable; see Retry-After.",
}
#: Errors any route can answer with, whatever it declares.
_ALWAYS = (503,)
_BODY_ERRORS = (400, 413, 415, 422)
_PROTOCOL_ERROR = (
    "when the HTTP server refuses the request itself (request line over 8 KiB, a control "
    "byte in a header)"
)
#: A query string is loaded through its schema (``read_query``): what it refuses is a 422.
_QUERY_ERRORS = (422,)
#: A view that reads this header answers 304 when the client's ETag still matches.
_CONDITIONAL_HEADER = "If-None-Match"
_PATH_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "Stable machine code."})
    message = fields.String(required=True, metadata={"description": "Human explanation."})
    details = fields.Dict(required=True, metadata={"description": "Structured context."})
    request_id = fields.String(
        required=True, allow_none=True, metadata={"description": "Echoed in X-Request-ID."}
    )


@dataclass(frozen=True)
class ApiDoc:
    summary: str
    tags: tuple[str, ...]
    description: str | None = None
    body: type[Schema] | Schema | None = None
    body_required: bool = True
    response: type[Schema] | Schema | None = None
    status: int = 200
    query: type[Schema] | None = None
    errors: tuple[int, ...] = ()
    auth: bool = False
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    example: Mapping[str, Any] | None = None
    links: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def api_doc(
    summary: str,
    *,
    tags: Iterable[str],
    description: str | None = None,
    body: type[Schema] | Schema | None = None,
    body_required: bool = True,
    response: type[Schema] | Schema | None = None,
    status: int = 200,
    query: type[Schema] | None = None,
    errors: Iterable[int] = (),
    auth: bool = False,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
    example: Mapping[str, Any] | None = None,
    links: Mapping[str, Mapping[str, Any]] | None = None,
) -> Callable[[F], F]:
    """Attach the OpenAPI description of a view to it; ``headers`` maps the request headers
    the view reads (beyond credentials) to their descriptions. ``body_required=False``
    documents a body the client may leave out (the view reads it with ``read_optional_json``).
    ``example`` is a valid request body; ``links`` are OpenAPI links of the success response
    (what a client can do next with what it got), for a created object without a ``GET`` of
    its own to point a ``Location`` header at.
    """

    def decorate(handler: F) -> F:
        handler.__api_doc__ = ApiDoc(  # type: ignore[attr-defined]
            summary=summary,
            tags=tuple(tags),
            description=description,
            body=body,
            body_required=body_required,
            response=response,
            status=status,
            query=query,
            errors=tuple(errors),
            auth=auth,
            content_type=content_type,
            headers=dict(headers or {}),
            example=example,
            links=dict(links or {}),
        )
        return handler

    return decorate


def link_to(method: str, path: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation ``method path`` (by JSON pointer: operations have no
    operationId), ``parameters`` mapping its parameters to runtime expressions."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method.lower()}", "parameters": parameters}


def get_api_doc(handler: Any) -> ApiDoc | None:
    return getattr(handler, "__api_doc__", None)


def documented_routes(app: web.Application) -> Iterable[tuple[str, str, Any, ApiDoc | None]]:
    """(method, OpenAPI path, handler, doc) for every plain route; HEAD twins and static skipped."""
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        info = route.resource.get_info()
        raw_path = info.get("path") or info.get("formatter")
        if raw_path is None:
            continue
        yield (
            route.method,
            _PATH_PARAM.sub(r"{\1}", raw_path),
            route.handler,
            get_api_doc(route.handler),
        )


def build_openapi(app: web.Application, settings: Settings) -> dict[str, Any]:
    spec = APISpec(
        title=settings.registry.name,
        version=agentvault_registry.__version__,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": settings.registry.description},
    )
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    spec.components.security_scheme(
        "apiKeyAuth", {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    )
    operations: dict[str, dict[str, Any]] = {}
    for method, path, handler, doc in documented_routes(app):
        if doc is not None:
            operations.setdefault(path, {})[method.lower()] = _operation(path, doc, handler)
    for path in sorted(operations):
        spec.path(path=path, operations=operations[path])
    return spec.to_dict()


def _security(requirement: Requirement | None) -> list[dict[str, list[str]]]:
    """The schemes that can admit the caller: a session token and, unless the view wants a
    session, an API key (a developer's or an agent's)."""
    kinds = requirement.kinds if requirement is not None else None
    schemes = [{"bearerAuth": []}]
    if kinds is None or set(kinds) - {"user"}:
        schemes.append({"apiKeyAuth": []})
    return schemes


def _add_protocol_error(responses: dict[str, Any]) -> None:
    """Any request can be refused by aiohttp's HTTP parser before a view or middleware sees it
    (a request line over 8 KiB, a control byte in a header): a 400 in plain text. The query
    schemas allow more than that line holds in all (many parameters, each up to its own
    maxLength), so the document says so."""
    if "400" in responses:
        responses["400"]["description"] += f" In plain text {_PROTOCOL_ERROR}."
    else:
        responses["400"] = {"description": f"In plain text {_PROTOCOL_ERROR}."}
    responses["400"].setdefault("content", {})["text/plain"] = {"schema": {"type": "string"}}


def _operation(path: str, doc: ApiDoc, handler: Any) -> dict[str, Any]:
    rate_limit = rate_limit_name(handler)
    requirement = requirement_of(handler)
    operation: dict[str, Any] = {"summary": doc.summary, "tags": list(doc.tags)}
    if doc.description:
        operation["description"] = doc.description
    parameters: list[Any] = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(path)
    ]
    parameters.extend(
        {"in": "header", "name": name, "description": text, "schema": {"type": "string"}}
        for name, text in doc.headers.items()
    )
    if doc.query is not None:
        parameters.append({"in": "query", "schema": doc.query})
    if parameters:
        operation["parameters"] = parameters
    if doc.body is not None:
        body: dict[str, Any] = {"schema": doc.body}
        if doc.example is not None:
            body["example"] = dict(doc.example)
        operation["requestBody"] = {
            "required": doc.body_required,
            "content": {"application/json": body},
        }
    success: dict[str, Any] = {"description": "Success."}
    if doc.response is not None:
        success["content"] = {doc.content_type: {"schema": doc.response}}
    if doc.links:
        success["links"] = {name: dict(link) for name, link in doc.links.items()}
    responses: dict[str, Any] = {str(doc.status): success}
    if _CONDITIONAL_HEADER in doc.headers:
        responses["304"] = {"description": "Not modified: the ETag sent still matches."}
    error_codes = set(doc.errors) | set(_ALWAYS)
    if doc.body is not None:
        error_codes |= set(_BODY_ERRORS)
    if doc.query is not None:
        error_codes |= set(_QUERY_ERRORS)
    if doc.auth or requirement is not None:
        error_codes.add(401)
        operation["security"] = _security(requirement)
    if requirement is not None and (requirement.role or requirement.scope or requirement.kinds):
        error_codes.add(403)
    if rate_limit is not None:
        error_codes.add(429)
    for code in sorted(error_codes):
        responses[str(code)] = {
            "description": _ERROR_DESCRIPTIONS.get(code, "Error."),
            "content": {"application/json": {"schema": "Error"}},
        }
    if rate_limit is not None:
        responses["429"]["description"] = f"Over the {rate_limit!r} rate limit; see Retry-After."
    _add_protocol_error(responses)
    operation["responses"] = dict(sorted(responses.items()))
    return operation
