"""What normalizing one card changed and what it refused, with field paths.

Paths are dotted, list items by index: ``skills.0.tags``, ``securitySchemes.bearer``. A
problem found after a field was moved or renamed is reported under the name the document
used (``url``, not ``supportedInterfaces.0.url``), so the author can find it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

DOCUMENT = "_document"
_LIST_INDEX = re.compile(r"\.\d+(?=\.|$)")


def join(path: str, *names: Any) -> str:
    return ".".join([path, *map(str, names)] if path else map(str, names))


def summarize_paths(paths: Iterable[str]) -> str:
    """``skills.0.x, skills.1.x`` -> ``skills.*.x``: one mention per field, not per item."""
    return ", ".join(dict.fromkeys(_LIST_INDEX.sub(".*", path) for path in paths))


class NormalizationLog:
    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.problems: dict[str, list[str]] = {}
        self._origins: dict[str, str] = {}

    def changed(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def refuse(self, path: str, reason: str) -> None:
        path = self.original_path(path) or DOCUMENT
        reasons = self.problems.setdefault(path, [])
        if reason not in reasons:
            reasons.append(reason)

    def moved(self, new_path: str, old_path: str) -> None:
        """``new_path`` holds what the document had at ``old_path``."""
        self._origins[new_path] = self.original_path(old_path)

    def original_path(self, path: str) -> str:
        """Where the document had what ``path`` names now (longest moved prefix wins)."""
        names = path.split(".")
        for length in range(len(names), 0, -1):
            origin = self._origins.get(".".join(names[:length]))
            if origin is not None:
                return join(origin, *names[length:])
        return path

    def refuse_schema_errors(self, messages: Any, path: str = "") -> None:
        """Record marshmallow's nested error messages, one entry per field path."""
        if isinstance(messages, dict):
            for name, nested in messages.items():
                self.refuse_schema_errors(nested, path if name == "_schema" else join(path, name))
        elif isinstance(messages, list):
            for item in messages:
                self.refuse_schema_errors(item, path)
        else:
            self.refuse(path, str(messages))
