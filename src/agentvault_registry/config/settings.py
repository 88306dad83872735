"""The validated, typed configuration the app runs with.

Defaults live in one place only, the schema (:mod:`agentvault_registry.config.schema`); these
classes just carry what the loader validated.
"""

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
    host: str
    port: int
    #: Largest request body accepted, in bytes; larger bodies get 413.
    max_body_size: int
    #: The URL clients reach this registry at (used in its agent card); derived from the
    #: request when unset.
    public_url: str | None
    access_log: bool
    #: CIDR blocks of the reverse proxies whose X-Forwarded-For is believed (see
    #: :mod:`agentvault_registry.core.client_ip`).
    trusted_proxies: tuple[str, ...]


@dataclass(frozen=True)
class RegistrySettings:
    name: str
    description: str
    organization: str
    organization_url: str
    documentation_url: str | None


@dataclass(frozen=True)
class SecuritySettings:
    jwt_secret: Secret | None


@dataclass(frozen=True)
class BackendChoice:
    backend: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StorageSettings:
    records: BackendChoice
    cache: BackendChoice
    blobs: BackendChoice
    #: Production mode refuses embedded backends (SQLite, memory cache) unless this is set.
    allow_embedded: bool
    #: Run migrations when the app starts (``serve``); ``migrate`` runs them explicitly.
    migrate_on_start: bool

    def choice(self, kind: str) -> BackendChoice:
        return getattr(self, kind)


@dataclass(frozen=True)
class LoggingSettings:
    level: str
    format: str
    #: Levels of single loggers, by logger name.
    levels: Mapping[str, str]


@dataclass(frozen=True)
class TracingSettings:
    enabled: bool
    service_name: str
    #: ``otlp``, ``console`` or ``none`` (spans made, not exported).
    exporter: str
    #: Share of traces sampled (parent-based), 0 to 1.
    sample_ratio: float


@dataclass(frozen=True)
class OutboundSettings:
    #: Let fetches reach loopback and private addresses (tests, a private federation).
    allow_private_targets: bool
    #: CIDR blocks reachable although private (see ``allow_private_targets``).
    allowed_private_networks: tuple[str, ...]
    #: Largest response body read, in bytes; a larger one fails the fetch.
    max_response_bytes: int
    #: Seconds to establish a connection.
    connect_timeout: float
    #: Seconds for a whole fetch, redirects and body included.
    total_timeout: float
    #: Redirects followed before a fetch fails.
    max_redirects: int


@dataclass(frozen=True)
class MetricsSettings:
    #: Serve ``GET /metrics`` (Prometheus text format); off answers 404.
    enabled: bool
    #: When set, scrapers must send ``Authorization: Bearer <token>``.
    token: Secret | None
    #: When set, only peers in these CIDR blocks may scrape.
    allow_networks: tuple[str, ...]


@dataclass(frozen=True)
class CorsSettings:
    #: Origins (``https://app.example.org``) allowed to call the API from a browser; empty
    #: means no cross-origin access. ``*`` allows any, without credentials.
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    #: Lets browsers send cookies and read responses to credentialed requests.
    allow_credentials: bool
    #: Seconds a browser may cache a preflight answer.
    max_age: int


@dataclass(frozen=True)
class Settings:
    mode: str
    data_dir: Path
    server: ServerSettings
    registry: RegistrySettings
    security: SecuritySettings
    storage: StorageSettings
    logging: LoggingSettings
    tracing: TracingSettings
    outbound: OutboundSettings
    metrics: MetricsSettings
    cors: CorsSettings
    disabled_plugins: tuple[str, ...]
    #: Each plugin's validated ``[plugins.<name>]`` section.
    plugin_sections: Mapping[str, Mapping[str, Any]]
    #: Configured rates by limit name (``[rate_limits]``); other limits keep their default.
    rate_limits: Mapping[str, str]
    #: Where each value came from (``"file ..."``, ``"env AVREG_..."``, ``"command line"``).
    sources: Mapping[str, str]

    @property
    def production(self) -> bool:
        return self.mode == PRODUCTION

    def plugin_config(self, name: str) -> Mapping[str, Any]:
        return self.plugin_sections.get(name, {})
