"""Strings that JSON can carry but that are no text: half of a surrogate pair (``"\\ud800"``)
is a legal JSON escape, yet no UTF-8 encoder or database takes it. Request bodies and agent
cards are checked for them, without recursion, before anything stores or walks them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def json_nodes(document: Any) -> Iterator[tuple[Any, int]]:
    """Every value of ``document`` and every object key, with its depth (the document is 1).
    A container is yielded before its children are queued, so a caller that stops at a
    depth never makes the walk go deeper."""
    pending = [(document, 1)]
    while pending:
        item, depth = pending.pop()
        yield item, depth
        if isinstance(item, dict):
            pending.extend((key, depth + 1) for key in item)
            pending.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, list):
            pending.extend((value, depth + 1) for value in item)


def is_unicode(text: str) -> bool:
    """False when ``text`` holds an unpaired surrogate."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def holds_unpaired_surrogate(document: Any) -> bool:
    """Whether a string anywhere in ``document``, keys included, is not valid Unicode."""
    return any(isinstance(item, str) and not is_unicode(item) for item, _ in json_nodes(document))
