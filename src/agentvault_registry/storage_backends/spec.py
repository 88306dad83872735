"""How a backend implementation is declared to the registry.

Plugins return :class:`BackendSpec` objects from the ``register_storage_backends`` hook; config
selects one per kind by name (``[storage.records] backend = "postgresql"``), and the rest of
that section is the backend's options, validated by its ``options_schema``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import Schema

from agentvault_registry.storage_backends.base import Backend

KINDS = ("records", "cache", "blobs")


@dataclass(frozen=True)
class BackendContext:
    """What a backend may know about the registry it serves."""

    data_dir: Path
    production: bool


@dataclass(frozen=True)
class BackendSpec:
    kind: str
    name: str
    #: Builds an unopened backend from validated options. Import drivers inside it, so a
    #: missing optional driver only matters when the backend is selected.
    factory: Callable[[Mapping[str, Any], BackendContext], Backend]
    options_schema: type[Schema]
    description: str = ""
    #: Set for backends meant for one process on one machine (SQLite, the memory cache):
    #: production mode refuses them unless explicitly allowed, since several workers would
    #: not share their state.
    embedded: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown backend kind {self.kind!r}; expected one of {KINDS}")
