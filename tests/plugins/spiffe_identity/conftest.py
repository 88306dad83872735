"""Fixtures for the spiffe_identity tests: a trust domain's PKI, a fake SPIRE agent, and
registries reading the PKI's SVID files."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_workload_api import FakeWorkloadApi
from pki import (
    REGISTRY_SPIFFE_ID,
    CertificateAuthority,
    IssuedSvid,
    JwtAuthority,
    SvidFiles,
    write_svid_files,
)
from spiffe_helpers import files_source

from agentvault_registry.core.app import create_app
from support import ONBOARDING_LIMITS, fast_registry, merged


@pytest.fixture
def pki_ca() -> CertificateAuthority:
    return CertificateAuthority()


@pytest.fixture
def jwt_authority() -> JwtAuthority:
    return JwtAuthority()


@pytest.fixture
def registry_svid(pki_ca: CertificateAuthority) -> IssuedSvid:
    """The registry's own X.509-SVID, ``spiffe://example.org/service/registry-backend``."""
    return pki_ca.issue_x509_svid(REGISTRY_SPIFFE_ID)


@pytest.fixture
def short_socket_dir() -> Iterator[Path]:
    """A directory for unix sockets: their paths are limited to about 107 bytes, which
    pytest's tmp_path can exceed."""
    directory = Path(tempfile.mkdtemp(prefix="avsp", dir="/tmp"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def fake_workload_api(
    short_socket_dir: Path,
    pki_ca: CertificateAuthority,
    registry_svid: IssuedSvid,
    jwt_authority: JwtAuthority,
) -> Iterator[FakeWorkloadApi]:
    """A running fake agent serving ``registry_svid``; its ``endpoint`` is the
    SPIFFE_ENDPOINT_SOCKET value. Stopped (threads joined) after the test."""
    with FakeWorkloadApi(
        short_socket_dir / "agent.sock",
        ca=pki_ca,
        svids=[registry_svid],
        jwt_authority=jwt_authority,
    ) as api:
        yield api


# ------------------------------------------------------------------------------ apps


@pytest.fixture
def spire_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "spire"
    directory.mkdir()
    return directory


@pytest.fixture
def svid_files(
    spire_dir: Path,
    registry_svid: IssuedSvid,
    pki_ca: CertificateAuthority,
    jwt_authority: JwtAuthority,
) -> SvidFiles:
    """``registry_svid``, the CA's bundle and ``jwt_authority``'s JWT bundle in ``spire_dir``."""
    return write_svid_files(spire_dir, registry_svid, pki_ca, jwt_authority)


@pytest.fixture
def make_registry(aiohttp_client, make_settings, records_overrides, svid_files):
    """An app factory: the registry reading ``svid_files``, ``options`` laid over the
    plugin's section and ``extra`` over the overrides; with ``spiffe_on=False`` the plugin is
    left at its defaults (source "none")."""

    async def make(options: dict[str, Any] | None = None, *, spiffe_on: bool = True, **extra):
        plugins = {"spiffe_identity": files_source(svid_files) | (options or {})}
        overrides = fast_registry(
            ONBOARDING_LIMITS, storage=records_overrides, plugins=plugins if spiffe_on else {}
        )
        settings, pm = make_settings(merged(overrides, extra))
        return await aiohttp_client(create_app(settings, pm))

    return make


@pytest.fixture
async def registry(make_registry):
    return await make_registry()
