"""Fixtures for the spiffe_identity tests: a trust domain's PKI and a fake SPIRE agent."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_workload_api import FakeWorkloadApi
from pki import REGISTRY_SPIFFE_ID, CertificateAuthority, IssuedSvid, JwtAuthority


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
