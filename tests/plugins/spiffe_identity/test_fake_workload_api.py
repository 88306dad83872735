"""The test PKI and the fake Workload API, checked against py-spiffe's real client code."""

from __future__ import annotations

import stat
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store
from fake_workload_api import FakeWorkloadApi
from pki import (
    REGISTRY_SPIFFE_ID,
    TRUST_DOMAIN,
    CertificateAuthority,
    IssuedSvid,
    JwtAuthority,
    write_svid_files,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    import spiffe
    from spiffe._proto import workload_pb2, workload_pb2_grpc
    from spiffe.svid.errors import InvalidTokenError
    from spiffe.workloadapi.errors import (
        FetchJwtSvidError,
        FetchX509SvidError,
        ValidateJwtSvidError,
    )

OTHER_SPIFFE_ID = f"spiffe://{TRUST_DOMAIN}/service/not-the-registry"
# Long enough for a loaded CI machine, short enough that a broken fake fails instead of hanging.
WAIT_SECONDS = 5


@pytest.fixture
def client(fake_workload_api: FakeWorkloadApi) -> Iterator[spiffe.WorkloadApiClient]:
    with spiffe.WorkloadApiClient(
        socket_path=fake_workload_api.endpoint, default_timeout=WAIT_SECONDS
    ) as workload_api_client:
        yield workload_api_client


def public_der(holder: x509.Certificate | ec.EllipticCurvePrivateKey) -> bytes:
    """The DER of a certificate's or private key's public key, to match keys to certificates."""
    return holder.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def trust_domain() -> spiffe.TrustDomain:
    return spiffe.TrustDomain(TRUST_DOMAIN)


# ------------------------------------------------------------------------ the PKI


def test_svids_follow_the_x509_svid_spec(pki_ca: CertificateAuthority, registry_svid: IssuedSvid):
    extensions = registry_svid.certificate.extensions
    sans = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.UniformResourceIdentifier) == [REGISTRY_SPIFFE_ID]
    constraints = extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    usage = extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert set(extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == {
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    }
    # What an mTLS peer does with it: chain it to the trust bundle.
    verifier = PolicyBuilder().store(Store([pki_ca.certificate])).build_client_verifier()
    assert verifier.verify(registry_svid.certificate, []).chain[-1] == pki_ca.certificate
    parsed = spiffe.X509Svid.parse_raw(registry_svid.chain_der, registry_svid.key_der)
    assert str(parsed.spiffe_id) == REGISTRY_SPIFFE_ID


def test_expired_svids_can_be_issued(pki_ca: CertificateAuthority):
    now = datetime.now(UTC)
    expired = pki_ca.issue_x509_svid(
        REGISTRY_SPIFFE_ID, not_before=now - timedelta(hours=2), ttl=timedelta(hours=1)
    )
    assert expired.not_after < now


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_jwt_svids_validate_against_the_jwt_bundle(algorithm: str):
    authority = JwtAuthority(algorithm=algorithm)
    bundle = spiffe.JwtBundle.parse(trust_domain(), authority.jwks_bytes())
    token = authority.issue_jwt_svid(REGISTRY_SPIFFE_ID, ["registry", "other"])

    svid = spiffe.JwtSvid.parse_and_validate(token, bundle, {"registry"})

    assert str(svid.spiffe_id) == REGISTRY_SPIFFE_ID
    expired = authority.issue_jwt_svid(REGISTRY_SPIFFE_ID, "registry", issued_at=1, ttl=60)
    with pytest.raises(InvalidTokenError, match="expired"):
        spiffe.JwtSvid.parse_and_validate(expired, bundle, {"registry"})


def test_svid_files_read_back_with_py_spiffe(
    tmp_path: Path,
    pki_ca: CertificateAuthority,
    registry_svid: IssuedSvid,
    jwt_authority: JwtAuthority,
):
    files = write_svid_files(tmp_path, registry_svid, pki_ca, jwt_authority)

    svid = spiffe.X509Svid.load(files.cert, files.key, serialization.Encoding.PEM)
    assert str(svid.spiffe_id) == REGISTRY_SPIFFE_ID
    assert public_der(svid.private_key) == public_der(registry_svid.key)
    bundle = spiffe.X509Bundle.load(trust_domain(), files.bundle, serialization.Encoding.PEM)
    assert bundle.x509_authorities == {pki_ca.certificate}
    assert files.jwt_bundle is not None
    jwt_bundle = spiffe.JwtBundle.parse(trust_domain(), files.jwt_bundle.read_bytes())
    assert jwt_bundle.get_jwt_authority(jwt_authority.kid) is not None
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    # Only the four files: every temporary was renamed into place.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bundle.pem",
        "jwt_bundle.json",
        "svid.pem",
        "svid_key.pem",
    ]


# ------------------------------------------------------------------------ the fake agent


def test_x509_svid_and_bundles(
    client: spiffe.WorkloadApiClient, pki_ca: CertificateAuthority, registry_svid: IssuedSvid
):
    svid = client.fetch_x509_svid()

    assert str(svid.spiffe_id) == REGISTRY_SPIFFE_ID
    assert svid.leaf == registry_svid.certificate
    assert public_der(svid.private_key) == public_der(svid.leaf)
    bundle = client.fetch_x509_bundles().get_bundle_for_trust_domain(trust_domain())
    assert bundle is not None and bundle.x509_authorities == {pki_ca.certificate}


def test_jwt_svid_for_an_entitled_identity(
    client: spiffe.WorkloadApiClient, fake_workload_api: FakeWorkloadApi
):
    svid = client.fetch_jwt_svid({"registry"}, spiffe.SpiffeId(REGISTRY_SPIFFE_ID))

    bundle = client.fetch_jwt_bundles().get_bundle_for_trust_domain(trust_domain())
    assert bundle is not None
    validated = spiffe.JwtSvid.parse_and_validate(svid.token, bundle, {"registry"})
    assert str(validated.spiffe_id) == REGISTRY_SPIFFE_ID
    assert str(client.validate_jwt_svid(svid.token, "registry").spiffe_id) == REGISTRY_SPIFFE_ID
    [request] = fake_workload_api.requests_for("FetchJWTSVID")
    assert (request.spiffe_id, list(request.audience)) == (REGISTRY_SPIFFE_ID, ["registry"])


def test_refusals_surface_as_client_errors(
    client: spiffe.WorkloadApiClient, fake_workload_api: FakeWorkloadApi
):
    with pytest.raises(FetchJwtSvidError, match="PERMISSION_DENIED"):
        client.fetch_jwt_svid({"registry"}, spiffe.SpiffeId(OTHER_SPIFFE_ID))
    token = client.fetch_jwt_svid({"registry"}).token
    with pytest.raises(ValidateJwtSvidError, match="INVALID_ARGUMENT"):
        client.validate_jwt_svid(token, "another-audience")

    fake_workload_api.rotate_x509([])  # every registration entry removed
    with pytest.raises(FetchX509SvidError, match="PERMISSION_DENIED"):
        client.fetch_x509_svid()


def test_calls_without_the_security_header_are_refused(fake_workload_api: FakeWorkloadApi):
    with grpc.insecure_channel(fake_workload_api.endpoint) as channel:
        stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.FetchJWTSVID(workload_pb2.JWTSVIDRequest(audience=["x"]), timeout=WAIT_SECONDS)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_x509_source_follows_rotations_and_agent_restarts(
    fake_workload_api: FakeWorkloadApi, pki_ca: CertificateAuthority
):
    with spiffe.X509Source(
        socket_path=fake_workload_api.endpoint, timeout_in_seconds=WAIT_SECONDS
    ) as source:
        updated = threading.Event()
        source.subscribe_for_updates(updated.set)

        rotated = pki_ca.issue_x509_svid(REGISTRY_SPIFFE_ID)
        fake_workload_api.rotate_x509([rotated])
        assert updated.wait(WAIT_SECONDS)
        assert source.get_x509_context().default_svid.leaf == rotated.certificate

        # The agent goes away and comes back with a new CA: the source reconnects by itself.
        updated.clear()
        fake_workload_api.stop()
        new_ca = CertificateAuthority()
        restarted = new_ca.issue_x509_svid(REGISTRY_SPIFFE_ID)
        fake_workload_api.rotate_x509([restarted], ca=new_ca)
        fake_workload_api.start()
        assert updated.wait(WAIT_SECONDS)
        context = source.get_x509_context()
        assert context.default_svid.leaf == restarted.certificate
        bundle = context.x509_bundle_set.get_bundle_for_trust_domain(trust_domain())
        assert bundle is not None and bundle.x509_authorities == {new_ca.certificate}


def test_jwt_source_follows_jwt_authority_rotations(fake_workload_api: FakeWorkloadApi):
    with spiffe.JwtSource(
        socket_path=fake_workload_api.endpoint, timeout_in_seconds=WAIT_SECONDS
    ) as source:
        updated = threading.Event()
        source.subscribe_for_updates(updated.set)

        fake_workload_api.rotate_jwt_authority(JwtAuthority(kid="jwt-key-2", algorithm="RS256"))

        assert updated.wait(WAIT_SECONDS)
        bundle = source.get_bundle_for_trust_domain(trust_domain())
        assert bundle is not None and set(bundle.jwt_authorities) == {"jwt-key-2"}
