"""Where the client CLI finds its registry and credentials.

Precedence, highest first: a command-line flag, then the environment
(``AGENTVAULT_REGISTRY_URL``, ``AGENTVAULT_REGISTRY_API_KEY``,
``AGENTVAULT_REGISTRY_CONFIG_DIR``), then the files under the config directory
(``$XDG_CONFIG_HOME/agentvault-registry/``, by default ``~/.config/agentvault-registry/``):

- ``config.toml``: ``url`` (the registry) and ``output`` (``text`` or ``json``);
- ``credentials.toml``: what ``login`` stored (``url`` and ``api_key``), mode 0600.

The names differ from the server's ``AVREG_*`` settings so one shell can run both.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

URL_ENV = "AGENTVAULT_REGISTRY_URL"
API_KEY_ENV = "AGENTVAULT_REGISTRY_API_KEY"
CONFIG_DIR_ENV = "AGENTVAULT_REGISTRY_CONFIG_DIR"
CONFIG_FILE = "config.toml"
CREDENTIALS_FILE = "credentials.toml"
DEFAULT_URL = "http://127.0.0.1:8000"
OUTPUTS = ("text", "json")


class ClientConfigError(Exception):
    """A config or credentials file the CLI cannot read."""


def config_dir() -> Path:
    """The client's config directory (``$AGENTVAULT_REGISTRY_CONFIG_DIR``, else under
    ``$XDG_CONFIG_HOME`` or ``~/.config``)."""
    explicit = os.environ.get(CONFIG_DIR_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "agentvault-registry"


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's table; empty when the file does not exist."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ClientConfigError(f"cannot read {path}: {exc}") from exc


def write_private_toml(path: Path, table: dict[str, str]) -> None:
    """Write a flat table of strings to ``path``, readable by its owner only (0600 from the
    moment it exists: the file is created with that mode, never chmod-ed after writing)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # A JSON string is a valid TOML basic string: same quotes, same escapes.
    text = "".join(f"{key} = {json.dumps(value)}\n" for key, value in table.items())
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, 0o600)  # an existing temporary file kept its old mode
    os.replace(temporary, path)


@dataclass(frozen=True)
class ClientSettings:
    """The settings one CLI command runs with, precedence already applied."""

    url: str
    api_key: str | None
    output: str
    #: Where ``api_key`` came from: "flag", "env", "file", or None without one.
    api_key_source: str | None = None

    @property
    def as_json(self) -> bool:
        return self.output == "json"


def resolve_settings(
    *, url: str | None = None, api_key: str | None = None, as_json: bool = False
) -> ClientSettings:
    """Flags (``url``, ``api_key``, ``as_json``) over the environment over the files.

    Stored credentials are used only for the registry they were stored for: a key for one
    registry is never sent to another that a flag or variable points at.
    """
    directory = config_dir()
    config = read_toml(directory / CONFIG_FILE)
    credentials = read_toml(directory / CREDENTIALS_FILE)
    chosen_url = (
        url or os.environ.get(URL_ENV) or config.get("url") or credentials.get("url") or DEFAULT_URL
    ).rstrip("/")
    stored_key = (
        credentials.get("api_key")
        if str(credentials.get("url", "")).rstrip("/") == chosen_url
        else None
    )
    output = "json" if as_json else str(config.get("output", "text"))
    if output not in OUTPUTS:
        raise ClientConfigError(
            f"{directory / CONFIG_FILE}: output must be one of {', '.join(OUTPUTS)}"
        )
    sources = (("flag", api_key), ("env", os.environ.get(API_KEY_ENV)), ("file", stored_key))
    source, key = next(((name, value) for name, value in sources if value), (None, None))
    return ClientSettings(url=chosen_url, api_key=key, output=output, api_key_source=source)


def store_credentials(url: str, api_key: str, key_id: str | None = None) -> Path:
    """Remember ``api_key`` for ``url``; the credentials file's path."""
    table = {"url": url.rstrip("/"), "api_key": api_key}
    if key_id:
        table["api_key_id"] = key_id
    path = config_dir() / CREDENTIALS_FILE
    write_private_toml(path, table)
    return path


def stored_credentials() -> dict[str, Any]:
    """What ``login`` stored (empty when nothing is)."""
    return read_toml(config_dir() / CREDENTIALS_FILE)


def forget_credentials() -> bool:
    """Delete the credentials file; whether there was one."""
    try:
        (config_dir() / CREDENTIALS_FILE).unlink()
    except FileNotFoundError:
        return False
    return True
