"""Secrets never reach a log: every record's message, arguments and traceback are masked.

Patterns cover what the registry hands out or receives: Authorization and Cookie values,
bearer tokens, JWTs, API keys (``avk_``, from the auth plugin), federation tokens (``avf_``),
bootstrap tokens (``BST_``, from onboarding), password-like fields of logged dicts and JSON,
and query-string values whose names say they are secret. Values the process knows to be
secret (the JWT secret) are added with :func:`hide_value` and masked wherever they appear.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

MASK = "[REDACTED]"

_SECRET_NAME = r"[\w-]*(?:password|passwd|secret|token|api[_-]?key|authorization|cookie)[\w-]*"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Headers as text: "Authorization: Basic ...", "Cookie=a=b; c=d".
    (
        re.compile(r"(?i)\b((?:proxy-)?authorization)(\s*[:=]\s*)(?:[A-Za-z]+\s+)?[^\s\"',}]+"),
        rf"\1\2{MASK}",
    ),
    (
        re.compile(r"(?i)\b((?:set-)?cookie)(\s*[:=]\s*)[^\s\"',}]+(?:;\s*[^\s\"',};]+)*"),
        rf"\1\2{MASK}",
    ),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), f"Bearer {MASK}"),
    # A JWT's header is base64url of '{"', so it starts with eyJ.
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    (re.compile(r"\b(?:avk|avf)_[A-Za-z0-9_-]+"), MASK),
    (re.compile(r"\bBST_[A-Za-z0-9]+"), MASK),
    # Query strings: ?token=..., &api_key=...
    (re.compile(rf"(?i)([?&;]{_SECRET_NAME}=)[^&\s#\"']*"), rf"\1{MASK}"),
    # "password": "x" in JSON, password='x' in a repr, password=x in text.
    (
        re.compile(
            rf"(?i)([\"']?\b{_SECRET_NAME}[\"']?\s*[:=]\s*)(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s,&}}\]]+)"
        ),
        rf"\1{MASK}",
    ),
)
_hidden_values: set[str] = set()


def hide_value(value: str) -> None:
    """Mask ``value`` in every later record (a secret the process loaded or generated)."""
    if len(value) >= 8:
        _hidden_values.add(value)


def redact_text(text: str) -> str:
    for value in _hidden_values:
        text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """``value`` with secret-named members of every mapping (at any depth) masked."""
    if isinstance(value, Mapping):
        return {
            key: MASK if re.fullmatch(_SECRET_NAME, str(key), re.I) else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    return value


class RedactionFilter(logging.Filter):
    """Render each record's message once, masked; mask its traceback text too."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "redacted", False):
            return True
        args = record.args
        if isinstance(args, Mapping):
            args = redact_value(args)
        elif isinstance(args, tuple):
            args = tuple(redact_value(arg) for arg in args)
        record.args = args
        record.msg = redact_text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        record.redacted = True
        return True
