"""Small helpers shared by test modules and conftests (importable as ``support``)."""

from __future__ import annotations

import socket

#: Names of hookspecs called, while at least one plugin implemented them, during this run.
EXERCISED_HOOKS: set[str] = set()


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def merged(base: dict, extra: dict) -> dict:
    """``base`` config overrides with ``extra`` laid over them, section by section."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = {**result[key], **value}
        else:
            result[key] = value
    return result
