"""Opaque discovery cursors: where a page ended, in the order the search was sorted.

A cursor names its order, so one taken from a search sorted by name is refused (400) by a
search sorted by date instead of silently paging from the wrong place. Keyset sorts carry the
last agent's sort value and id; relevance, whose candidates are capped, and searches that
prefer some agents (``prefer=``, paged across tiers) carry an offset.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from agentvault_registry.core.errors import BadRequest
from agentvault_registry.storage_backends.discovery import SortKey

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_TIME_SORTS = ("created_at", "updated_at")
#: Offsets past any rank limit an operator could set are not positions.
_MAX_OFFSET = 1_000_000
_MAX_NAME = 1_000


def cursor_order(sort: str, prefer: Sequence[str]) -> str:
    """The order a cursor names: the sort, and what the search prefers."""
    return "+".join([sort, *prefer])


def _by_offset(order: str) -> bool:
    return order == "relevance" or "+" in order


def encode_cursor(sort: str, position: SortKey | int) -> str:
    if _by_offset(sort):
        payload: list[Any] = [sort, position]
    else:
        value, item_id = position  # type: ignore[misc]
        payload = [sort, value.isoformat() if sort in _TIME_SORTS else value, item_id]
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[SortKey | None, int]:
    """``(after, offset)`` for a search sorted by ``sort``; 400 for a cursor this registry
    did not give out for that sort."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(payload, list) or not payload or payload[0] != sort:
            raise ValueError("another sort")
        if _by_offset(sort):
            return None, _offset(payload)
        return _position(sort, payload), 0
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        raise BadRequest(
            "The cursor is not one this registry gave out for this search and sort."
        ) from None


def _offset(payload: list[Any]) -> int:
    _, offset = payload
    if type(offset) is not int or not 0 <= offset <= _MAX_OFFSET:
        raise ValueError("not an offset")
    return offset


def _position(sort: str, payload: list[Any]) -> SortKey:
    _, value, item_id = payload
    if not isinstance(item_id, str) or not _UUID.match(item_id):
        raise ValueError("not an id")
    if sort == "name":
        if not isinstance(value, str) or not value or len(value) > _MAX_NAME or "\x00" in value:
            raise ValueError("not a name")
        value.encode()  # a lone surrogate escape is no name any backend stores
        return value, item_id
    instant = dt.datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError("not an instant")
    # Shifting to UTC can leave the calendar (year 1 at +05:00): OverflowError, a 400.
    return instant.astimezone(dt.UTC), item_id
