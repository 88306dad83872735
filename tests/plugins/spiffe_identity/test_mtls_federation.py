"""Federation between two registries over mTLS: each serves HTTPS with its X.509-SVID, and a
peer is accepted only with the certificate of the SPIFFE ID configured on it, both ways."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import click
import pytest
from click.testing import CliRunner
from pki import CertificateAuthority, IssuedSvid
from spiffe_helpers import files_source, svid_files, trusting

from agentvault_registry.cli import cli
from agentvault_registry.core.appkeys import SETTINGS, STORAGE
from agentvault_registry.plugins.federation.commands import add_commands
from registry_harness import QUERY, Registry, peer_with, registries

A_ID = "spiffe://example.org/service/registry-a"
B_ID = "spiffe://example.org/service/registry-b"
STRANGER_ID = "spiffe://example.org/service/someone-else"

StartMtls = Callable[..., Awaitable[Registry]]


def mtls_overrides(files: Any, spiffe_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "plugins": {
            # https peers only: allow_http off, as in production.
            "federation": {"allow_http": False, "allow_private_peers": True},
            "spiffe_identity": files_source(
                files, spiffe_id, serve_tls=True, federation_mtls=True, **extra
            ),
        }
    }


@pytest.fixture
async def start_mtls(
    make_settings, tmp_path: Path, pki_ca: CertificateAuthority
) -> AsyncIterator[StartMtls]:
    """``await start_mtls("A", spiffe_id)``: a registry serving HTTPS with an SVID of
    ``spiffe_id`` issued by ``pki_ca`` (or the ``svid`` given), peers over mTLS."""
    async with registries(make_settings, tmp_path, client_ssl=trusting(pki_ca)) as start_named:

        async def start(
            name: str, spiffe_id: str, svid: IssuedSvid | None = None, **extra
        ) -> Registry:
            svid = svid or pki_ca.issue_x509_svid(spiffe_id)
            files = svid_files(tmp_path / f"svid-{name}", svid, pki_ca)
            return await start_named(name, mtls_overrides(files, spiffe_id, **extra))

        yield start


async def post_query(
    registry: Registry, context: ssl.SSLContext, headers: dict[str, str]
) -> tuple[int, Any]:
    """A federation query to ``registry`` over a connection of ``context``'s."""
    connector = aiohttp.TCPConnector(ssl=context)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(registry.url + QUERY, json={"search": ""}, headers=headers) as answer,
    ):
        return answer.status, await answer.json()


async def peered(home: Registry, other: Registry, other_id: str, home_id: str) -> dict:
    """``home`` may query ``other``, each knowing the other's SPIFFE ID."""
    on_other = await other.add_peer(
        home.name, home.url, "avf_home_is_never_queried", spiffe_id=home_id
    )
    return await home.add_peer(other.name, other.url, on_other["inbound_token"], spiffe_id=other_id)


async def test_registries_federate_over_mtls(start_mtls: StartMtls) -> None:
    a = await start_mtls("A", A_ID)
    b = await start_mtls("B", B_ID)
    assert a.url.startswith("https://") and b.url.startswith("https://")
    developer = await b.account("bdev")
    await b.add_agent(developer, "Far Translator")
    await peered(a, b, B_ID, A_ID)

    found = await a.search("translator")

    assert [agent["name"] for agent in found["agents"]] == ["Far Translator"]
    assert found["agents"][0]["is_federated"] is True
    assert found["federation_status"]["peers_responded"] == 1
    assert b.inbound.count() == 1


async def test_we_refuse_to_send_a_query_to_a_peer_whose_certificate_is_not_its_spiffe_id(
    start_mtls: StartMtls,
) -> None:
    a = await start_mtls("A", A_ID)
    b = await start_mtls("B", B_ID)
    # A expects someone else at B's URL: B's certificate (spiffe .../registry-b) is refused.
    await peered(a, b, STRANGER_ID, A_ID)

    found = await a.search("translator")

    (peer,) = found["federation_status"]["peers"]
    assert peer["status"] == "error"
    # The query, with A's token for B, never left A: B saw the handshake and nothing more.
    assert b.inbound.count() == 0
    status = await a.json("GET", "/api/v1/admin/federation/status", headers=a.admin)
    assert STRANGER_ID in status["peers"][0]["last_error"]
    assert B_ID in status["peers"][0]["last_error"]


async def test_a_peer_whose_certificate_is_not_the_configured_spiffe_id_is_refused(
    start_mtls: StartMtls,
) -> None:
    a = await start_mtls("A", A_ID)
    b = await start_mtls("B", B_ID)
    # B expects someone else as A: A's valid SVID for .../registry-a does not do.
    await peered(a, b, B_ID, STRANGER_ID)

    found = await a.search("translator")

    (peer,) = found["federation_status"]["peers"]
    assert peer["status"] == "error"
    assert found["agents"] == []
    assert QUERY in b.inbound.paths


async def test_the_federation_endpoint_needs_a_client_certificate(
    start_mtls: StartMtls, pki_ca: CertificateAuthority, tmp_path: Path
) -> None:
    a = await start_mtls("A", A_ID)
    b = await start_mtls("B", B_ID)
    on_b = await b.add_peer("A", a.url, "avf_unused", spiffe_id=A_ID)
    headers = {"Authorization": f"Bearer {on_b['inbound_token']}"}

    # The right token, over TLS, but without a client certificate.
    response = await b.request("POST", QUERY, json={"search": ""}, headers=headers)
    assert response.status == 401
    body = await response.json()
    assert body["error"] == "invalid_credentials"
    assert "client certificate" in body["message"]

    # The right token and a certificate of the trust domain, but not A's.
    stranger = svid_files(tmp_path / "stranger", pki_ca.issue_x509_svid(STRANGER_ID), pki_ca)
    status, body = await post_query(b, trusting(pki_ca, client=stranger), headers)
    assert status == 401
    assert STRANGER_ID in body["message"]

    # A's certificate with A's token: in.
    as_a = svid_files(tmp_path / "as-a", pki_ca.issue_x509_svid(A_ID), pki_ca)
    status, body = await post_query(b, trusting(pki_ca, client=as_a), headers)
    assert status == 200, body
    assert body["agents"] == []


async def test_a_certificate_from_another_ca_fails_the_handshake(
    start_mtls: StartMtls, pki_ca: CertificateAuthority, tmp_path: Path
) -> None:
    b = await start_mtls("B", B_ID)
    impostor_ca = CertificateAuthority()
    impostor = svid_files(tmp_path / "impostor", impostor_ca.issue_x509_svid(A_ID), impostor_ca)
    with pytest.raises(aiohttp.ClientError):
        await post_query(b, trusting(pki_ca, client=impostor), {})
    # The registry itself is fine.
    assert (await b.request("GET", "/health")).status == 200


async def test_a_peer_without_a_spiffe_id_is_not_queried_over_mtls(
    start_mtls: StartMtls, caplog
) -> None:
    a = await start_mtls("A", A_ID)
    b = await start_mtls("B", B_ID)
    await peer_with(a, b)

    found = await a.search("translator")

    (peer,) = found["federation_status"]["peers"]
    assert peer["status"] == "error"
    assert peer["error"] == "this registry cannot call the peer as configured"
    assert b.inbound.count() == 0
    assert "needs the peer's spiffe_id" in caplog.text
    # Our configuration is at fault, not the peer: its health is untouched.
    status = await a.json("GET", "/api/v1/admin/federation/status", headers=a.admin)
    assert status["peers"][0]["status"] == "active"
    assert status["peers"][0]["last_error"] is None


async def test_ordinary_api_clients_need_no_certificate(start_mtls: StartMtls) -> None:
    a = await start_mtls("A", A_ID)
    response = await a.request("GET", "/api/v1/discovery/agents")
    assert response.status == 200
    identity = await a.json("GET", "/api/v1/identity", headers=a.admin)
    assert identity["serve_tls"] is True and identity["federation_mtls"] is True
    assert identity["svid"]["spiffe_ids"] == [A_ID]


async def test_federation_sync_calls_peers_over_mtls(
    start_mtls: StartMtls, tmp_path: Path, pki_ca: CertificateAuthority
) -> None:
    a = await start_mtls("A", A_ID)
    b = await start_mtls("B", B_ID)
    developer = await b.account("bdev")
    agent = await b.add_agent(developer, "Far Translator")
    peer = await peered(a, b, B_ID, A_ID)
    files = a.app[SETTINGS].plugin_config("spiffe_identity")["files"]
    config = tmp_path / "a.toml"
    config.write_text(
        'mode = "development"\n'
        f'data_dir = "{a.app[SETTINGS].data_dir}"\n'
        "[plugins.federation]\nallow_private_peers = true\n"
        "[plugins.spiffe_identity]\n"
        'source = "files"\ntrust_domain = "example.org"\n'
        f'spiffe_id = "{A_ID}"\nserve_tls = true\nfederation_mtls = true\n'
        "[plugins.spiffe_identity.files]\n"
        + "".join(f'{name} = "{files[name]}"\n' for name in ("cert", "key", "bundle"))
    )
    group = click.Group(commands=dict(cli.commands))
    add_commands(group)

    # The command runs its own event loop: in a thread, while the registries serve in ours.
    result = await asyncio.to_thread(
        CliRunner().invoke, group, ["federation", "sync", "--config", str(config)], env={}
    )

    assert result.exit_code == 0, result.output
    assert "B: 1 changes, 1 agents mirrored" in result.output
    mirrored = await a.app[STORAGE].records.list_mirrored_agents(peer["id"], limit=10)
    assert [agent_.did for agent_ in mirrored] == [agent["did"]]
