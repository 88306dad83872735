"""Where the registry's SVID comes from, and that a rotation needs no restart: SVID files a
SPIRE helper replaces, and the Workload API of a (fake) SPIRE agent over its unix socket."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from fake_workload_api import FakeWorkloadApi
from pki import REGISTRY_SPIFFE_ID, CertificateAuthority, IssuedSvid, JwtAuthority
from spiffe_helpers import eventually, files_source, served_certificate, svid_files, trusting

from agentvault_registry.core.appkeys import PLUGIN_MANAGER, STORAGE
from agentvault_registry.core.asyncutils import first_result
from agentvault_registry.core.errors import ServiceUnavailable
from agentvault_registry.plugins.spiffe_identity.service import SvidRefused
from registry_harness import Registry, registries

Start = Callable[..., Awaitable[Registry]]


@pytest.fixture
async def start(
    make_settings, tmp_path: Path, pki_ca: CertificateAuthority
) -> AsyncIterator[Start]:
    """``await start(spiffe_options)``: a registry with that ``plugins.spiffe_identity``."""
    names = (f"R{number}" for number in itertools.count())
    async with registries(make_settings, tmp_path, client_ssl=trusting(pki_ca)) as start_named:

        async def begin(options: dict[str, Any]) -> Registry:
            return await start_named(next(names), {"plugins": {"spiffe_identity": options}})

        yield begin


async def identity(registry: Registry) -> dict[str, Any]:
    return await registry.json("GET", "/api/v1/identity", headers=registry.admin)


def serial(svid: IssuedSvid) -> str:
    return format(svid.certificate.serial_number, "x")


# ------------------------------------------------------------------------- SVID files


async def test_replaced_svid_files_are_served_without_a_restart(
    start: Start, tmp_path: Path, pki_ca: CertificateAuthority, registry_svid: IssuedSvid
) -> None:
    files = svid_files(tmp_path / "svid", registry_svid, pki_ca)
    registry = await start(files_source(files, serve_tls=True, reload_interval=0.02))
    client = trusting(pki_ca)
    first = await served_certificate(registry.url, client)
    assert first.serial_number == registry_svid.certificate.serial_number

    renewed = pki_ca.issue_x509_svid(REGISTRY_SPIFFE_ID)
    svid_files(tmp_path / "svid", renewed, pki_ca)

    async def serving_the_new_one() -> bool:
        return (await identity(registry))["svid"]["serial_number"] == serial(renewed)

    await eventually(serving_the_new_one)
    presented = await served_certificate(registry.url, client)
    assert presented.serial_number == renewed.certificate.serial_number
    status = await identity(registry)
    assert status["problem"] is None
    assert status["svid_expires_at"] == renewed.not_after.isoformat()


async def test_a_certificate_replaced_before_its_key_keeps_the_previous_svid(
    start: Start, tmp_path: Path, pki_ca: CertificateAuthority, registry_svid: IssuedSvid
) -> None:
    files = svid_files(tmp_path / "svid", registry_svid, pki_ca)
    registry = await start(files_source(files, serve_tls=True, reload_interval=0.02))
    renewed = pki_ca.issue_x509_svid(REGISTRY_SPIFFE_ID)

    # Half a rotation: the new certificate beside the old key.
    files.cert.write_bytes(renewed.cert_pem)

    async def problem_reported() -> bool:
        return (await identity(registry))["problem"] is not None

    await eventually(problem_reported)
    status = await identity(registry)
    assert "private key does not match" in status["problem"]
    assert status["svid"]["serial_number"] == serial(registry_svid)
    presented = await served_certificate(registry.url, trusting(pki_ca))
    assert presented.serial_number == registry_svid.certificate.serial_number
    assert (await registry.request("GET", "/ready")).status == 200

    files.key.write_bytes(renewed.key_pem)

    async def rotated() -> bool:
        return (await identity(registry))["svid"]["serial_number"] == serial(renewed)

    await eventually(rotated)
    assert (await identity(registry))["problem"] is None


async def test_an_svid_of_another_spiffe_id_is_refused(
    start: Start, tmp_path: Path, pki_ca: CertificateAuthority
) -> None:
    other = pki_ca.issue_x509_svid("spiffe://example.org/service/not-the-registry")
    files = svid_files(tmp_path / "svid", other, pki_ca)
    registry = await start(files_source(files))

    status = await identity(registry)

    assert status["svid"] is None
    assert "not-the-registry" in status["problem"]
    ready = await registry.request("GET", "/ready")
    assert ready.status == 503
    assert "spiffe_identity" in (await ready.json())["details"]["checks"]


async def test_files_that_appear_after_startup_are_picked_up(
    start: Start, tmp_path: Path, pki_ca: CertificateAuthority, registry_svid: IssuedSvid
) -> None:
    directory = tmp_path / "svid"
    directory.mkdir()
    missing = svid_files(tmp_path / "elsewhere", registry_svid, pki_ca)
    # Configured paths in an empty directory: SPIRE's helper has not written them yet.
    options = files_source(missing, reload_interval=0.02)
    options["files"] = {
        key: str(directory / Path(path).name) for key, path in options["files"].items()
    }
    registry = await start(options)
    assert (await registry.request("GET", "/ready")).status == 503

    svid_files(directory, registry_svid, pki_ca)

    async def ready() -> bool:
        return (await registry.request("GET", "/ready")).status == 200

    await eventually(ready)
    assert (await identity(registry))["svid"]["serial_number"] == serial(registry_svid)


# ----------------------------------------------------------------------- Workload API


def workload_api(endpoint: str, **extra: Any) -> dict[str, Any]:
    return {
        "source": "workload_api",
        "trust_domain": "example.org",
        "endpoint_socket": endpoint,
        "fetch_timeout": 2.0,
        "reload_interval": 0.05,
    } | extra


async def test_the_workload_api_supplies_the_svid_and_its_rotations(
    start: Start,
    fake_workload_api: FakeWorkloadApi,
    pki_ca: CertificateAuthority,
    registry_svid: IssuedSvid,
    jwt_authority: JwtAuthority,
) -> None:
    registry = await start(workload_api(fake_workload_api.endpoint, serve_tls=True))
    status = await identity(registry)
    assert status["source"] == "workload_api"
    assert status["svid"]["serial_number"] == serial(registry_svid)
    (bundle,) = status["bundles"]
    assert bundle["trust_domain"] == "example.org"
    assert [key["key_id"] for key in bundle["jwt_authorities"]] == [jwt_authority.kid]
    assert (await registry.request("GET", "/ready")).status == 200

    renewed = pki_ca.issue_x509_svid(REGISTRY_SPIFFE_ID)
    fake_workload_api.rotate_x509([renewed])

    async def rotated() -> bool:
        return (await identity(registry))["svid"]["serial_number"] == serial(renewed)

    await eventually(rotated)
    presented = await served_certificate(registry.url, trusting(pki_ca))
    assert presented.serial_number == renewed.certificate.serial_number


async def test_the_registry_picks_its_own_svid_among_the_workloads(
    start: Start, fake_workload_api: FakeWorkloadApi, pki_ca: CertificateAuthority
) -> None:
    sidecar = pki_ca.issue_x509_svid("spiffe://example.org/service/sidecar")
    ours = pki_ca.issue_x509_svid(REGISTRY_SPIFFE_ID)
    fake_workload_api.rotate_x509([sidecar, ours])

    registry = await start(workload_api(fake_workload_api.endpoint))

    assert (await identity(registry))["svid"]["serial_number"] == serial(ours)


async def test_an_agent_down_at_startup_is_waited_for(
    start: Start, fake_workload_api: FakeWorkloadApi, registry_svid: IssuedSvid
) -> None:
    fake_workload_api.stop()
    registry = await start(workload_api(fake_workload_api.endpoint, fetch_timeout=0.5))
    status = await identity(registry)
    assert status["svid"] is None
    assert "unavailable" in status["problem"]
    assert (await registry.request("GET", "/ready")).status == 503

    fake_workload_api.start()

    async def ready() -> bool:
        return (await registry.request("GET", "/ready")).status == 200

    await eventually(ready, timeout=10)
    assert (await identity(registry))["svid"]["serial_number"] == serial(registry_svid)


async def test_an_agent_restart_is_survived(
    start: Start, fake_workload_api: FakeWorkloadApi, pki_ca: CertificateAuthority
) -> None:
    registry = await start(workload_api(fake_workload_api.endpoint))
    fake_workload_api.stop()
    renewed = pki_ca.issue_x509_svid(REGISTRY_SPIFFE_ID)
    fake_workload_api.rotate_x509([renewed])
    fake_workload_api.start()

    async def rotated() -> bool:
        return (await identity(registry))["svid"]["serial_number"] == serial(renewed)

    await eventually(rotated, timeout=15)


async def test_agents_jwt_svids_come_from_the_workload_api(
    start: Start, fake_workload_api: FakeWorkloadApi, jwt_authority: JwtAuthority
) -> None:
    registry = await start(workload_api(fake_workload_api.endpoint))
    developer = await registry.account("dev")
    agent = await registry.add_agent(developer, "Trader")
    record = await registry.app[STORAGE].records.get_agent(agent["id"])
    agent_id = f"spiffe://example.org/agent/{agent['id']}"
    fake_workload_api.entitle({agent_id})

    token = await first_result(
        registry.app[PLUGIN_MANAGER].hook.agent_assertion(
            app=registry.app, agent=record, audience="https://teg.example.org/oauth/token"
        )
    )

    (request,) = fake_workload_api.requests_for("FetchJWTSVID")
    assert request.spiffe_id == agent_id
    assert list(request.audience) == ["https://teg.example.org/oauth/token"]
    # The token is the agent's, and verifies against the trust domain's JWT bundle.
    claims = jwt.decode(
        token,
        jwt_authority.public_key,
        algorithms=[jwt_authority.algorithm],
        audience="https://teg.example.org/oauth/token",
    )
    assert claims["sub"] == agent_id


async def agents_assertion(registry: Registry) -> Any:
    developer = await registry.account("dev")
    agent = await registry.add_agent(developer, "Trader")
    record = await registry.app[STORAGE].records.get_agent(agent["id"])
    return await first_result(
        registry.app[PLUGIN_MANAGER].hook.agent_assertion(
            app=registry.app, agent=record, audience="https://teg.example.org/oauth/token"
        )
    )


async def test_an_agent_identity_the_registry_is_not_entitled_to_is_a_502(
    start: Start, fake_workload_api: FakeWorkloadApi, caplog
) -> None:
    registry = await start(workload_api(fake_workload_api.endpoint))

    with pytest.raises(SvidRefused) as refused:
        await agents_assertion(registry)

    assert refused.value.status == 502
    # SPIRE's words go to the log; the agent reads a fixed text.
    assert refused.value.details == {}
    assert "PERMISSION_DENIED" in caplog.text


async def test_an_agent_socket_gone_is_a_503_to_retry(
    start: Start, fake_workload_api: FakeWorkloadApi
) -> None:
    registry = await start(workload_api(fake_workload_api.endpoint, fetch_timeout=0.5))
    fake_workload_api.stop()

    with pytest.raises(ServiceUnavailable) as unavailable:
        await agents_assertion(registry)

    assert unavailable.value.status == 503
    assert unavailable.value.headers["Retry-After"]
    assert fake_workload_api.endpoint not in unavailable.value.message


async def test_svid_files_mint_no_agent_assertions(
    start: Start, tmp_path: Path, pki_ca: CertificateAuthority, registry_svid: IssuedSvid
) -> None:
    registry = await start(files_source(svid_files(tmp_path / "svid", registry_svid, pki_ca)))
    developer = await registry.account("dev")
    agent = await registry.add_agent(developer, "Trader")
    record = await registry.app[STORAGE].records.get_agent(agent["id"])

    answers = registry.app[PLUGIN_MANAGER].hook.agent_assertion(
        app=registry.app, agent=record, audience="https://teg.example.org/oauth/token"
    )

    assert await first_result(answers) is None
