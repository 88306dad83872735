"""The effective configuration as plain data, with every secret masked (``config check``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentvault_registry.config.secrets import MASK, Secret
from agentvault_registry.config.settings import Settings


def settings_as_dict(settings: Settings) -> dict[str, Any]:
    data = _plain(settings)
    data.pop("sources", None)
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
