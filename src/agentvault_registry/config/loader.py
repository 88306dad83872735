"""Load, validate and type the configuration; collect every problem before stopping."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pluggy
from marshmallow import ValidationError

from agentvault_registry.config.schema import SettingsSchema
from agentvault_registry.config.settings import (
    BackendChoice,
    CorsSettings,
    LoggingSettings,
    MetricsSettings,
    OutboundSettings,
    RegistrySettings,
    SecuritySettings,
    ServerSettings,
    Settings,
    StorageSettings,
    TracingSettings,
)
from agentvault_registry.config.sources import RawConfig, env_layers, flatten_errors, read_toml_file
from agentvault_registry.core.errors import ConfigError
from agentvault_registry.core.plugins import build_plugin_manager, results_by_plugin
from agentvault_registry.core.ratelimit.declarations import declared_rate_limits
from agentvault_registry.core.tracing import tracing_problems
from agentvault_registry.storage_backends.spec import KINDS, BackendSpec
from agentvault_registry.storage_backends.storage import collect_backend_specs, names_of_kind


def load_configuration(
    config_file: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    extra_plugins: Iterable[tuple[str, Any]] = (),
    load_entry_points: bool = True,
) -> tuple[Settings, pluggy.PluginManager]:
    """Build the settings and the plugin manager they select.

    Raises :class:`ConfigError` listing every problem found, one line each.
    """
    environ = os.environ if environ is None else environ
    raw = gather_raw_config(config_file, environ=environ, overrides=overrides)
    problems = [
        f"{key} (from {raw.source_of(key)}): {message}"
        for key, message in raw.resolve_secret_references(environ)
    ]
    try:
        core = SettingsSchema().load(raw.data)
    except ValidationError as exc:
        problems += _describe(exc.messages, raw)
        # Go on with what did validate, so backend and plugin problems are listed too.
        core = exc.valid_data if isinstance(exc.valid_data, dict) else {}

    pm = None
    disabled = _disabled_plugins(raw.data)
    if disabled is not None:
        try:
            pm = build_plugin_manager(
                disabled, extra_plugins=extra_plugins, load_entry_points=load_entry_points
            )
        except ConfigError as exc:
            problems += exc.problems

    settings = None
    if pm is not None:
        specs = collect_backend_specs(pm)
        storage, storage_problems = _validate_storage(core.get("storage", {}), specs, raw)
        sections, section_problems = _validate_plugin_sections(core.get("plugins", {}), pm, raw)
        problems += storage_problems + section_problems
        problems += _rate_limit_problems(core.get("rate_limits", {}), pm, raw)
        if not problems:
            settings = _build_settings(core, storage, sections, raw)
            problems += tracing_problems(settings.tracing)
            problems += _production_problems(settings, specs)

    if problems or settings is None or pm is None:
        raise ConfigError(problems)
    return settings, pm


def gather_raw_config(
    config_file: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RawConfig:
    """Merge defaults < file < env < overrides, without validating anything yet."""
    environ = os.environ if environ is None else environ
    raw = RawConfig()
    config_file = config_file or environ.get("AVREG_CONFIG") or None
    if config_file:
        raw.merge(read_toml_file(Path(config_file)), f"file {config_file}")
    for layer, source in env_layers(environ):
        raw.merge(layer, source)
    raw.merge(overrides or {}, "command line")
    return raw


def plugin_manager_for(raw: RawConfig) -> pluggy.PluginManager:
    """The plugin manager the raw config selects, for uses that need no other settings."""
    disabled = _disabled_plugins(raw.data)
    if disabled is None:
        raise ConfigError("plugins.disabled: must be a list of plugin names.")
    return build_plugin_manager(disabled)


def _describe(messages: Any, raw: RawConfig, prefix: str = "") -> list[str]:
    lines = []
    for key, message in flatten_errors(messages, prefix):
        if key in raw.unresolved:
            continue
        source = raw.source_of(key)
        where = f"{key} (from {source})" if source else key
        lines.append(f"{where}: {message}")
    return lines


def _disabled_plugins(data: Mapping[str, Any]) -> list[str] | None:
    plugins = data.get("plugins", {})
    disabled = plugins.get("disabled", []) if isinstance(plugins, Mapping) else None
    if isinstance(disabled, list) and all(isinstance(name, str) for name in disabled):
        return disabled
    return None


def _validate_storage(
    storage: Mapping[str, Any],
    specs: Mapping[tuple[str, str], BackendSpec],
    raw: RawConfig,
) -> tuple[dict[str, BackendChoice], list[str]]:
    choices: dict[str, BackendChoice] = {}
    problems: list[str] = []
    for kind in KINDS:
        if not isinstance(storage.get(kind), Mapping) or "backend" not in storage[kind]:
            continue  # already reported by the core schema
        section = dict(storage[kind])
        name = section.pop("backend")
        spec = specs.get((kind, name))
        if spec is None:
            installed = ", ".join(names_of_kind(specs, kind)) or "none"
            problems += _describe(
                {"backend": [f"unknown {kind} backend {name!r}; installed: {installed}."]},
                raw,
                f"storage.{kind}",
            )
            continue
        try:
            options = spec.options_schema().load(section)
        except ValidationError as exc:
            problems += _describe(exc.messages, raw, f"storage.{kind}")
            continue
        choices[kind] = BackendChoice(name, options)
    return choices, problems


def _validate_plugin_sections(
    plugins: Mapping[str, Any], pm: pluggy.PluginManager, raw: RawConfig
) -> tuple[dict[str, Any], list[str]]:
    sections: dict[str, Any] = {}
    problems: list[str] = []
    schemas = dict(results_by_plugin(pm.hook.register_config_schema))
    given = {name: value for name, value in plugins.items() if name != "disabled"}
    for name, schema in schemas.items():
        try:
            sections[name] = schema().load(given.get(name, {}))
        except ValidationError as exc:
            problems += _describe(exc.messages, raw, f"plugins.{name}")
    for name, value in given.items():
        if name in schemas or pm.is_blocked(name):
            continue
        if pm.get_plugin(name) is None:
            problems.append(f"plugins.{name}: no plugin named {name!r} is loaded.")
        elif value:
            problems.append(f"plugins.{name}: plugin {name!r} takes no options.")
    return sections, problems


def _rate_limit_problems(
    rates: Mapping[str, str], pm: pluggy.PluginManager, raw: RawConfig
) -> list[str]:
    try:
        declared = declared_rate_limits(pm)
    except ConfigError as exc:
        return exc.problems
    known = ", ".join(sorted(declared)) or "none"
    unknown = {
        name: [f"no loaded plugin declares a rate limit named {name!r}; declared: {known}."]
        for name in rates
        if name not in declared
    }
    return _describe(unknown, raw, "rate_limits")


def _production_problems(
    settings: Settings, specs: Mapping[tuple[str, str], BackendSpec]
) -> list[str]:
    if not settings.production:
        return []
    problems = []
    if settings.security.jwt_secret is None:
        problems.append(
            "security.jwt_secret: required in production mode; set AVREG_SECURITY__JWT_SECRET "
            'or jwt_secret = { env = "NAME" } / { file = "/path" } (or run with --dev).'
        )
    if settings.server.public_url is None:
        problems.append(
            "server.public_url: required in production mode; links in mails and the registry's "
            "agent card must not be built from a request's Host header."
        )
    for kind in KINDS:
        choice = settings.storage.choice(kind)
        if specs[(kind, choice.backend)].embedded and not settings.storage.allow_embedded:
            problems.append(
                f"storage.{kind}.backend: the embedded {choice.backend!r} backend is refused in "
                "production mode; choose a server backend, or set storage.allow_embedded = true "
                "(--allow-embedded) for a single-node deployment."
            )
    return problems


def _build_settings(
    core: Mapping[str, Any],
    storage: Mapping[str, BackendChoice],
    sections: Mapping[str, Any],
    raw: RawConfig,
) -> Settings:
    storage_flags = {key: core["storage"][key] for key in ("allow_embedded", "migrate_on_start")}
    return Settings(
        mode=core["mode"],
        data_dir=Path(core["data_dir"]),
        server=ServerSettings(
            **{**core["server"], "trusted_proxies": tuple(core["server"]["trusted_proxies"])}
        ),
        registry=RegistrySettings(**core["registry"]),
        security=SecuritySettings(**core["security"]),
        storage=StorageSettings(**storage, **storage_flags),
        logging=LoggingSettings(**core["logging"]),
        tracing=TracingSettings(**core["tracing"]),
        outbound=OutboundSettings(
            **{
                **core["outbound"],
                "allowed_private_networks": tuple(core["outbound"]["allowed_private_networks"]),
            }
        ),
        metrics=MetricsSettings(
            **{**core["metrics"], "allow_networks": tuple(core["metrics"]["allow_networks"])}
        ),
        cors=CorsSettings(
            **{
                key: tuple(value) if isinstance(value, list) else value
                for key, value in core["cors"].items()
            }
        ),
        disabled_plugins=tuple(core["plugins"]["disabled"]),
        plugin_sections=sections,
        rate_limits=dict(core["rate_limits"]),
        sources=dict(raw.sources),
    )
