"""Reading a card document: JSON text or parsed JSON, one object, within size and depth limits.

The limits bound what one card may cost the registry to store, normalize and index; real
cards are a few KiB and nest fewer than ten levels.
"""

from __future__ import annotations

import json
from typing import Any

from agentvault_registry.a2a.report import DOCUMENT, NormalizationLog
from agentvault_registry.core.json_text import holds_unpaired_surrogate

MAX_CARD_BYTES = 256 * 1024
MAX_NESTING_DEPTH = 32
TOO_LARGE = f"The document is larger than {MAX_CARD_BYTES // 1024} KiB."
TOO_DEEP = f"The document nests deeper than {MAX_NESTING_DEPTH} levels."
#: JSON may escape half of a surrogate pair (``"\ud800"``); such a string is no text, and
#: no database or UTF-8 encoder takes it.
NOT_UNICODE = "The document holds text that is not valid Unicode (an unpaired surrogate)."


def load_document(document: Any, log: NormalizationLog) -> dict[str, Any] | None:
    """The card as a JSON object, or None after logging why there is none."""
    if isinstance(document, str | bytes | bytearray):
        document = _parse(document, log)
        if document is None:
            return None
    elif not _within_limits(document, log):
        return None
    if not isinstance(document, dict):
        log.refuse(DOCUMENT, f"An agent card is a JSON object, not {_json_type(document)}.")
        return None
    if not document:
        log.refuse(DOCUMENT, "The document is an empty object.")
        return None
    return document


def nesting_depth(value: Any, give_up_beyond: int = MAX_NESTING_DEPTH) -> int:
    """Levels of objects and arrays (a flat object is 1), counted without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending and deepest <= give_up_beyond:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def _parse(text: str | bytes | bytearray, log: NormalizationLog) -> Any:
    try:
        raw = text.encode() if isinstance(text, str) else bytes(text)
    except UnicodeEncodeError:
        log.refuse(DOCUMENT, NOT_UNICODE)
        return None
    if len(raw) > MAX_CARD_BYTES:
        log.refuse(DOCUMENT, TOO_LARGE)
        return None
    if not raw.strip():
        log.refuse(DOCUMENT, "The document is empty.")
        return None
    try:
        # JSON exchanged between systems is UTF-8 (RFC 8259); json.loads would also guess
        # UTF-16 and UTF-32 from the bytes.
        parsed = json.loads(raw.decode("utf-8-sig"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        log.refuse(DOCUMENT, "The document is not UTF-8 text.")
        return None
    except json.JSONDecodeError as exc:
        log.refuse(DOCUMENT, f"Not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).")
        return None
    except NotAJSONNumber as exc:
        log.refuse(DOCUMENT, f"Not JSON: {exc} is not a JSON number.")
        return None
    except RecursionError:
        log.refuse(DOCUMENT, TOO_DEEP)
        return None
    if nesting_depth(parsed) > MAX_NESTING_DEPTH:
        log.refuse(DOCUMENT, TOO_DEEP)
        return None
    if holds_unpaired_surrogate(parsed):
        log.refuse(DOCUMENT, NOT_UNICODE)
        return None
    return parsed


def _within_limits(document: Any, log: NormalizationLog) -> bool:
    if nesting_depth(document) > MAX_NESTING_DEPTH:
        log.refuse(DOCUMENT, TOO_DEEP)
        return False
    try:
        text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        log.refuse(DOCUMENT, "The document holds values JSON cannot represent.")
        return False
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        log.refuse(DOCUMENT, NOT_UNICODE)
        return False
    if size > MAX_CARD_BYTES:
        log.refuse(DOCUMENT, TOO_LARGE)
        return False
    return True


class NotAJSONNumber(ValueError):
    """Python's json module reads NaN and Infinity; JSON has no such numbers."""


def _refuse_constant(name: str) -> None:
    raise NotAJSONNumber(name)


def _json_type(document: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(document), "a number")
