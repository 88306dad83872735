"""Federated trust domains: a partner domain's CA is trusted for the partner's workloads and
never for ours, both for peers calling us and for peers we call."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fake_workload_api import FakeWorkloadApi
from pki import CertificateAuthority
from spiffe_helpers import eventually, svid_files, trusting

from agentvault_registry.core.httpclient.tls import CertificateRefused
from agentvault_registry.plugins.federation.urls import QUERY_PATH
from agentvault_registry.plugins.spiffe_identity.appkeys import IDENTITY_SERVICE
from agentvault_registry.plugins.spiffe_identity.tls import peer_client_context
from registry_harness import Registry, registries

OUR_PEER = "spiffe://example.org/service/registry-a"
PARTNER_PEER = "spiffe://partner.org/service/registry"


@pytest.fixture
def partner_ca() -> CertificateAuthority:
    return CertificateAuthority("partner.org")


@pytest.fixture
async def registry(
    make_settings,
    tmp_path: Path,
    pki_ca: CertificateAuthority,
    partner_ca: CertificateAuthority,
    fake_workload_api: FakeWorkloadApi,
) -> AsyncIterator[Registry]:
    """A registry whose SPIRE agent federates example.org with partner.org."""
    fake_workload_api.federate(partner_ca)
    options = {
        "source": "workload_api",
        "trust_domain": "example.org",
        "endpoint_socket": fake_workload_api.endpoint,
        "serve_tls": True,
        "federation_mtls": True,
    }
    overrides = {"plugins": {"spiffe_identity": options}}
    async with registries(make_settings, tmp_path, client_ssl=trusting(pki_ca)) as start:
        yield await start("B", overrides)


async def query_as(
    registry: Registry,
    tmp_path: Path,
    name: str,
    issuer: CertificateAuthority,
    spiffe_id: str,
    registry_ca: CertificateAuthority,
) -> tuple[int, Any]:
    """A federation query with the peer token of ``spiffe_id``, over a connection presenting
    an SVID of that ID issued by ``issuer``."""
    peer = await registry.add_peer(
        name, f"https://{name}.example.net", "avf_x", spiffe_id=spiffe_id
    )
    files = svid_files(tmp_path / name, issuer.issue_x509_svid(spiffe_id), issuer)
    context = trusting(registry_ca, client=files)
    response = await registry.session.post(
        registry.url + QUERY_PATH,
        json={"search": ""},
        headers={"Authorization": f"Bearer {peer['inbound_token']}"},
        ssl=context,
    )
    return response.status, await response.json()


async def test_a_partner_workload_is_accepted_with_its_own_domains_certificate(
    registry: Registry, tmp_path: Path, partner_ca: CertificateAuthority, pki_ca
) -> None:
    status, body = await query_as(registry, tmp_path, "partner", partner_ca, PARTNER_PEER, pki_ca)
    assert status == 200, body


async def test_a_partner_ca_cannot_vouch_for_one_of_our_workloads(
    registry: Registry, tmp_path: Path, partner_ca: CertificateAuthority, pki_ca
) -> None:
    # The partner's CA is trusted, so the handshake passes; it does not speak for example.org.
    status, body = await query_as(registry, tmp_path, "forged", partner_ca, OUR_PEER, pki_ca)
    assert status == 401, body
    assert "not issued by a CA of example.org" in body["message"]

    status, body = await query_as(registry, tmp_path, "genuine", pki_ca, OUR_PEER, pki_ca)
    assert status == 200, body


async def test_we_trust_only_the_expected_ids_domain_when_calling_a_peer(
    registry: Registry, tmp_path: Path, partner_ca: CertificateAuthority, pki_ca
) -> None:
    service = registry.app[IDENTITY_SERVICE]

    async def federated() -> bool:
        return service.material.trust_domains() == {"example.org", "partner.org"}

    await eventually(federated)
    # A server presenting an example.org ID signed by the partner's CA.
    forged = svid_files(tmp_path / "server", partner_ca.issue_x509_svid(OUR_PEER), partner_ca)
    serving = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    serving.load_cert_chain(forged.cert, forged.key)
    server = await asyncio.start_server(
        lambda reader, writer: writer.close(), "127.0.0.1", 0, ssl=serving
    )
    port = server.sockets[0].getsockname()[1]
    try:
        context = peer_client_context(service.material, OUR_PEER)
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.open_connection("127.0.0.1", port, ssl=context)
        # The same server is fine for an ID of the partner's domain, as far as chains go;
        # the ID check then refuses it for not being the one expected.
        partner_context = peer_client_context(service.material, PARTNER_PEER)
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=partner_context)
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
        with pytest.raises(CertificateRefused):
            partner_context.check_certificate(der)
    finally:
        server.close()
        await server.wait_closed()
