"""The validated, typed configuration the app runs with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentvault_registry.config.secrets import Secret

DEVELOPMENT = "development"
PRODUCTION = "production"


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    #: Largest request body accepted, in bytes; larger bodies get 413.
    max_body_size: int = 1024 * 1024
    #: The URL clients reach this registry at (used in its agent card); derived from the
    #: request when unset.
    public_url: str | None = None
    access_log: bool = True


@dataclass(frozen=True)
class RegistrySettings:
    name: str = "AgentVault Registry"
    description: str = (
        "A registry of AI agents: discover agents by text, capability and A2A features, "
        "across federated registries."
    )
    organization: str = "AgentVault"
    organization_url: str = "https://github.com/agentvault"
    documentation_url: str | None = None


@dataclass(frozen=True)
class SecuritySettings:
    jwt_secret: Secret | None = None


@dataclass(frozen=True)
class BackendChoice:
    backend: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StorageSettings:
    records: BackendChoice = BackendChoice("sqlite")
    cache: BackendChoice = BackendChoice("memory")
    blobs: BackendChoice = BackendChoice("filesystem")
    #: Production mode refuses embedded backends (SQLite) unless this is set.
    allow_embedded: bool = False
    #: Run migrations when the app starts (``serve``); ``migrate`` runs them explicitly.
    migrate_on_start: bool = True

    def choice(self, kind: str) -> BackendChoice:
        return getattr(self, kind)


@dataclass(frozen=True)
class LoggingSettings:
    level: str = "INFO"
    format: str = "text"


@dataclass(frozen=True)
class Settings:
    mode: str = DEVELOPMENT
    data_dir: Path = Path("avreg-data")
    server: ServerSettings = ServerSettings()
    registry: RegistrySettings = RegistrySettings()
    security: SecuritySettings = SecuritySettings()
    storage: StorageSettings = StorageSettings()
    logging: LoggingSettings = LoggingSettings()
    disabled_plugins: tuple[str, ...] = ()
    #: Each plugin's validated ``[plugins.<name>]`` section.
    plugin_sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Where each value came from (``"file"``, ``"env:AVREG_..."``, ``"flag"``), by dotted key.
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.mode == PRODUCTION

    def plugin_config(self, name: str) -> Mapping[str, Any]:
        return self.plugin_sections.get(name, {})
