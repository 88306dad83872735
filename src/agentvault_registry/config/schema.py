"""The marshmallow schema of the core configuration.

Storage options and plugin sections are kept raw here: the selected backend's own schema and
each plugin's own schema validate them (see :mod:`agentvault_registry.config.loader`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from agentvault_registry.config.secrets import SecretField
from agentvault_registry.config.settings import DEVELOPMENT, PRODUCTION
from agentvault_registry.core.ratelimit.declarations import parse_rate

CORS_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
#: What the API reads from a request besides the CORS-safelisted headers.
CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-Request-ID",
    "If-Match",
    "If-None-Match",
    "Bootstrap-Token",
)
#: Response headers a browser script may read.
CORS_EXPOSED_HEADERS = (
    "X-Request-ID",
    "ETag",
    "Retry-After",
    "Location",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _cidr(value: str) -> None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValidationError("Not a network in CIDR notation (10.1.0.0/16, fd00::/8).") from None


class ServerSchema(_Strict):
    host = fields.String(load_default="127.0.0.1", validate=validate.Length(min=1))
    port = fields.Integer(load_default=8080, validate=validate.Range(min=0, max=65535))
    max_body_size = fields.Integer(
        load_default=1024 * 1024, validate=validate.Range(min=1024, max=64 * 1024 * 1024)
    )
    public_url = fields.Url(load_default=None, allow_none=True, require_tld=False)
    access_log = fields.Boolean(load_default=True)
    # The proxies in front of the registry, as CIDR blocks: X-Forwarded-For is believed only
    # from a peer in one of them, since any client can write the header.
    trusted_proxies = fields.List(
        fields.String(validate=_cidr), load_default=list, validate=validate.Length(max=64)
    )


class RegistrySchema(_Strict):
    name = fields.String(load_default="AgentVault Registry", validate=validate.Length(1, 200))
    description = fields.String(
        load_default=(
            "A registry of AI agents: discover agents by text, capability and A2A features, "
            "across federated registries."
        ),
        validate=validate.Length(1, 2000),
    )
    organization = fields.String(load_default="AgentVault", validate=validate.Length(1, 200))
    organization_url = fields.Url(load_default="https://github.com/agentvault")
    documentation_url = fields.Url(load_default=None, allow_none=True)


class SecuritySchema(_Strict):
    jwt_secret = SecretField(load_default=None, allow_none=True)

    @validates("jwt_secret")
    def _long_enough(self, value: Any, **_: Any) -> None:
        if value is not None and len(value.reveal()) < 32:
            raise ValidationError("must be at least 32 characters.")


def _origin(value: str) -> None:
    parts = urlsplit(value)
    if value == "*":
        return
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username
        or value != f"{parts.scheme}://{parts.netloc}"
    ):
        raise ValidationError("Not an origin (https://app.example.org, no path or slash).")


class CorsSchema(_Strict):
    """Cross-origin access from browsers; none unless origins are listed."""

    allow_origins = fields.List(
        fields.String(validate=_origin), load_default=list, validate=validate.Length(max=100)
    )
    allow_methods = fields.List(
        fields.String(validate=validate.OneOf(CORS_METHODS)),
        load_default=lambda: list(CORS_METHODS),
    )
    allow_headers = fields.List(
        fields.String(validate=validate.Regexp(r"^[A-Za-z0-9-]{1,64}$")),
        load_default=lambda: list(CORS_REQUEST_HEADERS),
    )
    expose_headers = fields.List(
        fields.String(validate=validate.Regexp(r"^[A-Za-z0-9-]{1,64}$")),
        load_default=lambda: list(CORS_EXPOSED_HEADERS),
    )
    allow_credentials = fields.Boolean(load_default=False)
    max_age = fields.Integer(load_default=600, validate=validate.Range(min=0, max=86400))

    @validates_schema
    def _no_wildcard_with_credentials(self, data: dict[str, Any], **_: Any) -> None:
        if "*" in data.get("allow_origins", ()) and data.get("allow_credentials"):
            raise ValidationError(
                "a wildcard origin cannot be combined with allow_credentials; list the origins.",
                "allow_origins",
            )


class BackendChoiceSchema(Schema):
    """``backend = "<name>"`` plus that backend's options, checked later by its own schema."""

    class Meta:
        unknown = "include"

    backend = fields.String(required=True, validate=validate.Length(min=1))


DEFAULT_BACKENDS = {"records": "sqlite", "cache": "memory", "blobs": "filesystem"}


class StorageSchema(_Strict):
    records = fields.Nested(BackendChoiceSchema, required=True)
    cache = fields.Nested(BackendChoiceSchema, required=True)
    blobs = fields.Nested(BackendChoiceSchema, required=True)
    allow_embedded = fields.Boolean(load_default=False)
    migrate_on_start = fields.Boolean(load_default=True)

    @pre_load
    def _default_backends(self, data: Any, **_: Any) -> Any:
        # Options given without a backend name (AVREG_STORAGE__BLOBS__ROOT=...) configure the
        # default backend of that kind.
        if isinstance(data, dict):
            data = dict(data)
            for kind, default in DEFAULT_BACKENDS.items():
                section = data.setdefault(kind, {})
                if isinstance(section, dict) and "backend" not in section:
                    data[kind] = {"backend": default, **section}
        return data


class LoggingSchema(_Strict):
    level = fields.String(
        load_default="INFO", validate=validate.OneOf(LOG_LEVELS + tuple(map(str.lower, LOG_LEVELS)))
    )
    format = fields.String(load_default="text", validate=validate.OneOf(["text", "json"]))
    #: Levels of single loggers: ``{"aiohttp.access" = "WARNING"}``.
    levels = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1)),
        values=fields.String(
            validate=validate.OneOf(LOG_LEVELS + tuple(map(str.lower, LOG_LEVELS)))
        ),
        load_default=dict,
    )

    @post_load
    def _upper_level(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["level"] = data["level"].upper()
        data["levels"] = {name: level.upper() for name, level in data["levels"].items()}
        return data


class TracingSchema(_Strict):
    enabled = fields.Boolean(load_default=False)
    service_name = fields.String(
        load_default="agentvault-registry", validate=validate.Length(1, 200)
    )
    exporter = fields.String(
        load_default="otlp", validate=validate.OneOf(["otlp", "console", "none"])
    )
    sample_ratio = fields.Float(load_default=1.0, validate=validate.Range(min=0, max=1))


class OutboundSchema(_Strict):
    """The HTTP client that fetches URLs users give the registry (cards, challenges, peers)."""

    # Off in production: a user-supplied URL must not reach the registry's own network.
    allow_private_targets = fields.Boolean(load_default=False)
    #: Private networks fetches may reach although allow_private_targets is off (a peer
    #: registry on the same private network), as CIDR blocks.
    allowed_private_networks = fields.List(
        fields.String(validate=_cidr), load_default=list, validate=validate.Length(max=64)
    )
    max_response_bytes = fields.Integer(
        load_default=512 * 1024, validate=validate.Range(min=1024, max=64 * 1024 * 1024)
    )
    connect_timeout = fields.Float(
        load_default=5.0, validate=validate.Range(min=0, max=300, min_inclusive=False)
    )
    total_timeout = fields.Float(
        load_default=10.0, validate=validate.Range(min=0, max=600, min_inclusive=False)
    )
    max_redirects = fields.Integer(load_default=3, validate=validate.Range(min=0, max=10))


class MetricsSchema(_Strict):
    """``GET /metrics``: who may scrape it (see :mod:`agentvault_registry.core.metrics`)."""

    enabled = fields.Boolean(load_default=True)
    token = SecretField(load_default=None, allow_none=True)
    allow_networks = fields.List(
        fields.String(validate=_cidr), load_default=list, validate=validate.Length(max=64)
    )

    @validates("token")
    def _long_enough(self, value: Any, **_: Any) -> None:
        if value is not None and len(value.reveal()) < 16:
            raise ValidationError("must be at least 16 characters.")


class PluginsSchema(Schema):
    """``disabled = [...]`` plus one ``[plugins.<name>]`` table per plugin."""

    class Meta:
        unknown = "include"

    disabled = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)

    @post_load
    def _sections_are_tables(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        bad = [
            name
            for name, value in data.items()
            if name != "disabled" and not isinstance(value, dict)
        ]
        if bad:
            raise ValidationError({name: ["must be a table ([plugins.<name>])."] for name in bad})
        return data


class RateLimitsField(fields.Field):
    """``{limit name: rate}``; the loader checks the names against the plugins' declarations.

    The raw config joins nested tables into dotted names (see ``DOTTED_NAME_TABLES``).
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValidationError('must be a table of limit names to rates ("5/minute").')
        problems: dict[str, list[str]] = {}
        for name, rate in value.items():
            try:
                parse_rate(rate)
            except ValueError as exc:
                problems[name] = [str(exc)]
        if problems:
            raise ValidationError(problems)
        return dict(value)


def _nested(schema: type[Schema]) -> fields.Nested:
    return fields.Nested(schema, required=True)


class SettingsSchema(_Strict):
    mode = fields.String(
        load_default=PRODUCTION, validate=validate.OneOf([DEVELOPMENT, PRODUCTION])
    )
    data_dir = fields.String(load_default="avreg-data", validate=validate.Length(min=1))
    server = _nested(ServerSchema)
    registry = _nested(RegistrySchema)
    security = _nested(SecuritySchema)
    storage = _nested(StorageSchema)
    logging = _nested(LoggingSchema)
    tracing = _nested(TracingSchema)
    outbound = _nested(OutboundSchema)
    metrics = _nested(MetricsSchema)
    cors = _nested(CorsSchema)
    plugins = _nested(PluginsSchema)
    rate_limits = RateLimitsField(load_default=dict)

    @pre_load
    def _every_section_present(self, data: Any, **_: Any) -> Any:
        # A missing table still has to go through its schema, so its defaults are applied.
        if isinstance(data, dict):
            data = dict(data)
            for name, field in self.fields.items():
                if isinstance(field, fields.Nested):
                    data.setdefault(name, {})
        return data
