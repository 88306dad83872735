"""Reading request bodies: JSON only, size-capped, validated by a marshmallow schema."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from marshmallow import Schema, ValidationError

from agentvault_registry.core.appkeys import SETTINGS
from agentvault_registry.core.errors import (
    MalformedJSON,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from agentvault_registry.core.json_text import is_unicode, json_nodes


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


async def read_json(request: web.Request, schema: Schema | None = None) -> Any:
    """The request's JSON body, loaded through ``schema`` when given.

    413 before reading when Content-Length exceeds the app's limit; 415 for another content
    type; 400 for an empty or malformed body (with line and column); 422 with field paths when
    the schema refuses it.
    """
    limit = request.app[SETTINGS].server.max_body_size
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(details={"max_bytes": limit})
    if not _is_json(request.content_type):
        raise UnsupportedMediaType(details={"content_type": request.content_type})
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(details={"max_bytes": limit}) from None
    if not body.strip():
        raise MalformedJSON("The request body is empty; a JSON document is required.")
    document = parse_json(body)
    _refuse_invalid_text(document)
    if schema is None:
        return document
    if not isinstance(document, dict) and not schema.many:
        raise ValidationFailed(
            "The request body must be a JSON object.",
            details={"_schema": [f"Expected an object, got {_json_type(document)}."]},
        )
    return load_valid(schema, document)


async def read_optional_json(request: web.Request, schema: Schema) -> Any:
    """As :func:`read_json`, for a request whose body may be left out: no body at all loads
    as an empty document (the schema's defaults); a body present must be valid JSON."""
    if not request.body_exists:
        return load_valid(schema, {})
    return await read_json(request, schema)


def read_query(
    request: web.Request, schema: Schema, *, repeatable: Iterable[str] = ()
) -> dict[str, Any]:
    """The query string loaded through ``schema``, each ``repeatable`` parameter as the list
    of its values; 422 with the parameters it refuses."""
    query: dict[str, Any] = dict(request.query)
    for name in repeatable:
        if name in request.query:
            query[name] = request.query.getall(name)
    return load_valid(schema, query)


def load_valid(schema: Schema, document: Any) -> Any:
    """``document`` loaded through ``schema``; 422 with what it refuses."""
    try:
        return schema.load(document)
    except ValidationError as exc:
        raise ValidationFailed(details=as_details(exc.messages)) from None


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_uuid(text: str) -> bool:
    """Whether ``text`` is a lower-case UUID, as records' ids are: anything else in a path
    names no record (a 404 without asking the backend)."""
    return _UUID.fullmatch(text) is not None


def public_base_url(request: web.Request) -> str:
    """The registry's external base URL: configured, or as this caller reached it."""
    configured = request.app[SETTINGS].server.public_url
    return (configured or f"{request.scheme}://{request.host}").rstrip("/")


def _refuse_constant(name: str) -> None:
    raise MalformedJSON(f"The request body is not valid JSON: {name} is not a JSON number.")


def _finite_float(text: str) -> float:
    # 1e400 is valid JSON but parses to infinity, which no backend stores as JSON.
    value = float(text)
    if not math.isfinite(value):
        raise MalformedJSON(f"The request body is not valid JSON: {text} is out of range.")
    return value


def parse_json(body: bytes) -> Any:
    """Strict JSON: no NaN/Infinity (spelled out or overflowing), no integers beyond Python's
    digit limit, bounded nesting, errors with their position."""
    try:
        return json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise MalformedJSON("The request body is not valid UTF-8.") from None
    except json.JSONDecodeError as exc:
        raise MalformedJSON(
            f"The request body is not valid JSON: {exc.msg}.",
            details={"line": exc.lineno, "column": exc.colno},
        ) from None
    except ValueError:
        # int() refuses numbers of more than sys.get_int_max_str_digits() digits.
        raise MalformedJSON("The request body is not valid JSON: a number is too long.") from None
    except RecursionError:
        raise MalformedJSON("The request body is nested too deeply.") from None


#: Deeper bodies are refused before anything walks them recursively.
MAX_NESTING = 64


def _refuse_invalid_text(document: Any) -> None:
    """Lone surrogates are legal JSON escapes but not text: no database stores them. Bodies
    nested beyond :data:`MAX_NESTING` are refused here too."""
    for item, depth in json_nodes(document):
        if depth > MAX_NESTING and isinstance(item, dict | list):
            raise MalformedJSON(f"The request body is nested deeper than {MAX_NESTING} levels.")
        if isinstance(item, str) and not is_unicode(item):
            raise MalformedJSON(
                "The request body holds a string that is not valid Unicode "
                "(an unpaired surrogate escape)."
            )


def _json_type(document: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(document), "a number")


def as_details(messages: Any) -> dict[str, Any]:
    return messages if isinstance(messages, dict) else {"_schema": messages}
