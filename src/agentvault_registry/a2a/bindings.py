"""Protocol binding names and protocol versions as A2A 1.0 spells them."""

from __future__ import annotations

import re
from typing import Any

#: The bindings the spec supports officially; ``protocolBinding`` is open to others.
CORE_BINDINGS = ("JSONRPC", "GRPC", "HTTP+JSON")
#: Other spellings of the core bindings seen in published cards, by their upper case.
_SPELLINGS = {
    "JSONRPC": "JSONRPC",
    "JSON-RPC": "JSONRPC",
    "JSON_RPC": "JSONRPC",
    "GRPC": "GRPC",
    "HTTP+JSON": "HTTP+JSON",
    "HTTP/JSON": "HTTP+JSON",
    "HTTP-JSON": "HTTP+JSON",
    "HTTP_JSON": "HTTP+JSON",
    "REST": "HTTP+JSON",
}
_PATCH_VERSION = re.compile(r"(\d+)\.(\d+)\.\d+")


def canonical_binding(binding: Any) -> Any:
    """The core binding ``binding`` spells, else ``binding`` unchanged (a custom binding)."""
    if not isinstance(binding, str):
        return binding
    return _SPELLINGS.get(binding.strip().upper(), binding)


def major_minor(version: str) -> str:
    """``"0.3.0"`` -> ``"0.3"``: interfaces name the minor version, per the spec's examples."""
    match = _PATCH_VERSION.fullmatch(version.strip())
    return f"{match[1]}.{match[2]}" if match else version
