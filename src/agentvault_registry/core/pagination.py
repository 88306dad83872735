"""List responses: opaque keyset cursors and the ``pagination`` object every list carries."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
from typing import Any

from marshmallow import Schema, fields

from agentvault_registry.core.errors import BadRequest

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
#: A keyset position: the last item's creation time and id.
Position = tuple[dt.datetime, str]


def encode_cursor(position: Position) -> str:
    created, item_id = position
    return base64.urlsafe_b64encode(json.dumps([created.isoformat(), item_id]).encode()).decode()


def decode_cursor(cursor: str) -> Position:
    """The position a cursor of :func:`encode_cursor` names; 400 for anything else. Lists are
    keyed on UUIDs, and a position is re-checked down to what every backend can compare (a
    UTC instant within the calendar, an id of hex digits)."""
    try:
        created, item_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        instant = dt.datetime.fromisoformat(created)
        if instant.tzinfo is None or not isinstance(item_id, str) or not _UUID.match(item_id):
            raise ValueError("not a position")
        # Shifting to UTC can leave the calendar (year 1 at +05:00).
        return instant.astimezone(dt.UTC), item_id
    except (ValueError, TypeError, OverflowError):
        raise BadRequest("The cursor is not one this registry gave out.") from None


def pagination(
    *,
    total: int,
    page: int,
    per_page: int,
    next_after: Position | None,
    total_exact: bool | None = None,
) -> dict[str, Any]:
    """The ``pagination`` object of a list response; ``total_exact`` only where totals are
    capped."""
    body: dict[str, Any] = {"total": total}
    if total_exact is not None:
        body["total_exact"] = total_exact
    body |= {
        "page": page,
        "per_page": per_page,
        "pages": math.ceil(total / per_page),
        "next_cursor": encode_cursor(next_after) if next_after else None,
    }
    return body


class PaginationSchema(Schema):
    """The ``pagination`` object, for OpenAPI documents of list responses."""

    total = fields.Integer(required=True)
    total_exact = fields.Boolean(
        metadata={"description": "False when the total was capped (huge match sets)."}
    )
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Opaque; pass as `cursor` for the next page."}
    )
