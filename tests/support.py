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
