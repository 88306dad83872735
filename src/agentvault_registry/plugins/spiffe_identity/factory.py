"""Building the plugin's parts from config."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.errors import ConfigError
from agentvault_registry.plugins.spiffe_identity.jwt_auth import JwtSvidPolicy
from agentvault_registry.plugins.spiffe_identity.library import spiffe
from agentvault_registry.plugins.spiffe_identity.schemas import FILES, WORKLOAD_API
from agentvault_registry.plugins.spiffe_identity.sources import (
    FileSource,
    RegistryIdentity,
    SvidFiles,
    SvidSource,
    environment_socket,
)
from agentvault_registry.plugins.spiffe_identity.workload_api import WorkloadApiSource

NAME = "spiffe_identity"


def options(settings: Settings) -> Mapping[str, Any]:
    return settings.plugin_config(NAME)


def svid_source(settings: Settings) -> SvidSource:
    """The configured source; the null one when SPIFFE is off."""
    config = options(settings)
    if config["source"] not in (FILES, WORKLOAD_API):
        return SvidSource()
    # Fail now, with the extra to install, rather than on the first handshake.
    spiffe()
    identity = RegistryIdentity(config["trust_domain"], config["spiffe_id"])
    if config["source"] == FILES:
        files = config["files"]
        return FileSource(
            identity,
            SvidFiles(
                Path(files["cert"]),
                Path(files["key"]),
                Path(files["bundle"]),
                None if files["jwt_bundle"] is None else Path(files["jwt_bundle"]),
            ),
            interval=config["reload_interval"],
        )
    socket = config["endpoint_socket"] or environment_socket()
    if socket is None:
        raise ConfigError(
            f"plugins.{NAME}.endpoint_socket: required with source = 'workload_api' when "
            "SPIFFE_ENDPOINT_SOCKET is not set (for example unix:///run/spire/agent.sock)"
        )
    return WorkloadApiSource(
        identity,
        socket,
        timeout=config["fetch_timeout"],
        check_interval=config["reload_interval"],
    )


def verifies_jwt_svids(settings: Settings) -> bool:
    """Whether the source can ever hold a JWT bundle: the Workload API sends one; SVID files
    only when one of them is it."""
    config = options(settings)
    if config["source"] == FILES:
        return config["files"]["jwt_bundle"] is not None
    return config["source"] == WORKLOAD_API


def jwt_svid_policy(settings: Settings) -> JwtSvidPolicy:
    config = options(settings)
    audiences = config["audiences"]
    if audiences is None:
        audiences = [config["spiffe_id"], settings.server.public_url]
    return JwtSvidPolicy(
        trust_domain=config["trust_domain"],
        audiences=frozenset(audience for audience in audiences if audience),
        agent_path=config["agent_path"] + "/",
    )
