"""Reading raw configuration from its sources and merging them.

Precedence: defaults < TOML file < environment (``AVREG_SECTION__KEY``) < command-line flags.
Every leaf value remembers where it came from, so a problem can name the env var or file that
set it.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from agentvault_registry.config.secrets import is_secret_reference, resolve_reference
from agentvault_registry.core.errors import ConfigError

ENV_PREFIX = "AVREG_"
ENV_SEPARATOR = "__"
#: Names of env vars that are not settings (they select the file, or configure the tests).
ENV_NOT_SETTINGS = ("AVREG_CONFIG", "AVREG_TEST_")
#: Tables keyed by dotted names (``"auth.login"``) rather than by sections. Nested tables in
#: them (a TOML dotted key, ``AVREG_RATE_LIMITS__AUTH__LOGIN``) join into dotted names as each
#: source is merged, so every spelling of a name is one key and precedence holds between them.
DOTTED_NAME_TABLES = ("rate_limits",)


class RawConfig:
    """A nested dict of raw values plus the source of each leaf, by dotted key."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        #: Keys whose secret reference could not be resolved (already reported; removed).
        self.unresolved: set[str] = set()

    def merge(self, layer: Mapping[str, Any], source: str, prefix: str = "") -> None:
        if not prefix:
            layer = {
                key: join_dotted_names(value) if key in DOTTED_NAME_TABLES else value
                for key, value in layer.items()
            }
        self._merge_into(self.data, layer, source, prefix)

    def _merge_into(
        self, target: dict[str, Any], layer: Mapping[str, Any], source: str, prefix: str
    ) -> None:
        for key, value in layer.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, Mapping) and not is_secret_reference(value):
                existing = target.get(key)
                if not isinstance(existing, dict):
                    existing = target[key] = {}
                self._merge_into(existing, value, source, dotted + ".")
            else:
                target[key] = value
                self.sources[dotted] = source

    def source_of(self, dotted: str) -> str | None:
        return self.sources.get(dotted)

    def resolve_secret_references(self, environ: Mapping[str, str]) -> list[tuple[str, str]]:
        """Replace each ``{ env = .. }`` / ``{ file = .. }`` by its Secret; (key, problem) pairs."""
        problems: list[tuple[str, str]] = []
        # Removed by table and key, not by dotted name: a key may itself hold dots (a
        # rate_limits name) or be empty.
        removed: list[tuple[dict[str, Any], str]] = []

        def walk(table: dict[str, Any], prefix: str) -> None:
            for key, value in table.items():
                dotted = f"{prefix}{key}"
                if is_secret_reference(value):
                    try:
                        table[key] = resolve_reference(value, environ)
                    except ValidationError as exc:
                        problems.extend((dotted, str(message)) for message in exc.messages)
                        self.unresolved.add(dotted)
                        removed.append((table, key))
                elif isinstance(value, dict):
                    walk(value, dotted + ".")

        walk(self.data, "")
        for table, key in removed:
            del table[key]
        return problems


def join_dotted_names(table: Any, prefix: str = "") -> Any:
    """``{"auth": {"login": v}}`` → ``{"auth.login": v}``; anything but a table is kept as is."""
    if not isinstance(table, Mapping) or is_secret_reference(table):
        return table
    joined: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, Mapping) and not is_secret_reference(value):
            joined.update(join_dotted_names(value, f"{prefix}{key}."))
        else:
            joined[f"{prefix}{key}"] = value
    return joined


def read_toml_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path}: not valid TOML: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be read: {exc.strerror}") from None


def env_layers(environ: Mapping[str, str]) -> list[tuple[dict[str, Any], str]]:
    """One single-leaf layer per ``AVREG_SECTION__KEY`` variable, tagged with its name.

    Values that look like JSON arrays or objects are parsed as JSON, so lists can be given
    (``AVREG_PLUGINS__DISABLED='["webui"]'``); every other value stays a string for the schema
    to convert, so a wrong type is reported against the variable that carried it.
    """
    layers = []
    problems = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name.startswith(ENV_NOT_SETTINGS):
            continue
        path = name[len(ENV_PREFIX) :].lower().split(ENV_SEPARATOR)
        if len(path) < 2 and path[0] not in {"mode", "data_dir"}:
            continue
        if any(not part for part in path):
            problems.append(f"{name}: empty section or key in the variable name")
            continue
        value: Any = environ[name]
        if value.lstrip().startswith(("[", "{")):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                problems.append(f"{name}: looks like JSON but is not valid JSON: {exc.msg}")
                continue
        layer: dict[str, Any] = {path[-1]: value}
        for part in reversed(path[:-1]):
            layer = {part: layer}
        layers.append((layer, f"env {name}"))
    if problems:
        raise ConfigError(problems)
    return layers


def flatten_errors(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested error dict as (dotted key, message) pairs."""
    pairs: list[tuple[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            pairs.extend(flatten_errors(value, dotted))
    elif isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, Mapping | list | tuple):
                pairs.extend(flatten_errors(item, prefix))
            else:
                pairs.append((prefix, str(item)))
    else:
        pairs.append((prefix, str(messages)))
    return pairs
