"""``GET /api/v1/identity`` (the registry's workload identity, for admins) and the
``spiffe_identity`` readiness check."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from pki import REGISTRY_SPIFFE_ID, TRUST_DOMAIN, JwtAuthority, write_svid_files

from support import sign_up

IDENTITY = "/api/v1/identity"
ERROR_KEYS = {"error", "message", "details", "request_id"}
STATUS_KEYS = {
    "source",
    "trust_domain",
    "spiffe_id",
    "svid",
    "svid_expires_at",
    "bundles",
    "updated_at",
    "problem",
    "serve_tls",
    "federation_mtls",
}


def sha256_fingerprint(der: bytes) -> str:
    return "sha256:" + hashlib.sha256(der).hexdigest()


def certificate_der(certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def spki_der(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


async def identity_status(client) -> dict[str, Any]:
    admin = await sign_up(client, "root", verified=False, role="admin")
    response = await client.get(IDENTITY, headers=admin.headers)
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert set(body) == STATUS_KEYS, body
    return body


# ----------------------------------------------------------------------- the endpoint


async def test_an_admin_sees_the_svid_and_the_bundles_by_fingerprint(
    registry, registry_svid, pki_ca, jwt_authority
):
    before = dt.datetime.now(dt.UTC)
    status = await identity_status(registry)

    assert status["source"] == "files"
    assert status["trust_domain"] == TRUST_DOMAIN
    assert status["spiffe_id"] == REGISTRY_SPIFFE_ID
    assert status["problem"] is None
    assert status["serve_tls"] is False
    assert status["federation_mtls"] is False

    leaf = registry_svid.certificate
    svid = status["svid"]
    assert svid["spiffe_ids"] == [REGISTRY_SPIFFE_ID]
    assert svid["serial_number"] == format(leaf.serial_number, "x")
    assert svid["fingerprint"] == sha256_fingerprint(certificate_der(leaf))
    assert svid["subject"] == leaf.subject.rfc4514_string()
    assert dt.datetime.fromisoformat(svid["not_before"]) == leaf.not_valid_before_utc
    assert dt.datetime.fromisoformat(svid["expires_at"]) == registry_svid.not_after
    assert dt.datetime.fromisoformat(status["svid_expires_at"]) == registry_svid.not_after

    [bundle] = status["bundles"]
    assert bundle["trust_domain"] == TRUST_DOMAIN
    [authority] = bundle["x509_authorities"]
    assert authority["fingerprint"] == sha256_fingerprint(pki_ca.bundle_der)
    assert authority["serial_number"] == format(pki_ca.certificate.serial_number, "x")
    assert authority["spiffe_ids"] == [f"spiffe://{TRUST_DOMAIN}"]
    assert bundle["jwt_authorities"] == [
        {
            "key_id": jwt_authority.kid,
            "fingerprint": sha256_fingerprint(spki_der(jwt_authority.public_key)),
        }
    ]

    # The material was loaded at startup, just before this request.
    updated_at = dt.datetime.fromisoformat(status["updated_at"])
    assert updated_at.tzinfo is not None
    assert before - dt.timedelta(seconds=30) <= updated_at <= dt.datetime.now(dt.UTC)


async def test_the_status_says_which_tls_options_are_on(make_registry):
    # The test client listens without TLS whatever the config: only the status is looked at.
    status = await identity_status(
        await make_registry({"serve_tls": True, "federation_mtls": True})
    )
    assert (status["serve_tls"], status["federation_mtls"]) == (True, True)
    assert status["problem"] is None


async def test_several_jwt_authorities_are_each_listed(make_registry, spire_dir, pki_ca):
    first, second = JwtAuthority(kid="key-b"), JwtAuthority(kid="key-a", algorithm="RS256")
    svid = pki_ca.issue_x509_svid(REGISTRY_SPIFFE_ID)
    write_svid_files(spire_dir, svid, pki_ca, first)
    # Both keys in one bundle, as during a rotation.
    jwks = {"keys": first.jwks()["keys"] + second.jwks()["keys"]}
    (spire_dir / "jwt_bundle.json").write_text(json.dumps(jwks))
    status = await identity_status(await make_registry())
    [bundle] = status["bundles"]
    assert bundle["jwt_authorities"] == [
        {"key_id": "key-a", "fingerprint": sha256_fingerprint(spki_der(second.public_key))},
        {"key_id": "key-b", "fingerprint": sha256_fingerprint(spki_der(first.public_key))},
    ]
    assert status["svid"]["fingerprint"] == sha256_fingerprint(certificate_der(svid.certificate))


async def test_a_developer_gets_403_and_an_anonymous_caller_401(registry):
    client = registry
    anonymous = await client.get(IDENTITY)
    assert anonymous.status == 401
    body = await anonymous.json()
    assert set(body) == ERROR_KEYS
    assert body["error"] == "authentication_required"

    developer = await client.get(
        IDENTITY, headers=(await sign_up(client, "dev", verified=False)).headers
    )
    assert developer.status == 403
    body = await developer.json()
    assert set(body) == ERROR_KEYS
    assert body["error"] == "forbidden"
    assert "admin" in body["message"]
    assert "svid" not in await developer.text()


async def test_with_source_none_the_status_says_so(make_registry):
    status = await identity_status(await make_registry(spiffe_on=False))
    assert status == {
        "source": "none",
        "trust_domain": None,
        "spiffe_id": None,
        "svid": None,
        "svid_expires_at": None,
        "bundles": [],
        "updated_at": None,
        "problem": None,
        "serve_tls": False,
        "federation_mtls": False,
    }


async def test_svid_files_that_do_not_load_are_a_problem_shown_to_admins(make_registry, svid_files):
    svid_files.cert.unlink()
    client = await make_registry()
    status = await identity_status(client)
    assert status["source"] == "files"
    assert status["svid"] is None
    assert status["svid_expires_at"] is None
    assert status["bundles"] == []
    assert status["updated_at"] is None
    assert "do not load" in status["problem"]


async def test_the_route_is_in_the_openapi_document_for_admins(registry):
    spec = await (await registry.get("/api/v1/openapi.json")).json()
    operation = spec["paths"][IDENTITY]["get"]
    assert operation["tags"] == ["identity (admin)"]
    assert {"bearerAuth": []} in operation["security"]
    assert {"200", "401", "403"} <= set(operation["responses"])
    reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    assert set(schema["properties"]) == STATUS_KEYS
    assert set(schema["required"]) == STATUS_KEYS


# ------------------------------------------------------------------------- readiness


async def test_ready_includes_the_spiffe_identity_check(registry):
    response = await registry.get("/ready")
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["checks"]["spiffe_identity"] == "ok"
    assert body["checks"]["records"] == "ok"


async def assert_not_ready_naming_the_check(client, spire_dir: Path) -> dict[str, Any]:
    response = await client.get("/ready")
    text = await response.text()
    assert response.status == 503, text
    assert response.content_type == "application/json"
    assert int(response.headers["Retry-After"]) >= 1
    body = await response.json()
    assert set(body) == ERROR_KEYS
    assert body["error"] == "not_ready"
    checks = body["details"]["checks"]
    assert checks["spiffe_identity"] != "ok"
    assert checks["records"] == "ok"
    assert "spiffe_identity" in body["message"]
    # Anyone may ask /ready: it names the check, not where the SVID files live.
    assert str(spire_dir) not in text
    return body


async def test_ready_is_503_with_an_expired_svid(
    make_registry, spire_dir, pki_ca, jwt_authority, caplog
):
    expired = pki_ca.issue_x509_svid(
        REGISTRY_SPIFFE_ID,
        not_before=dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2),
        ttl=dt.timedelta(hours=1),
    )
    write_svid_files(spire_dir, expired, pki_ca, jwt_authority)
    client = await make_registry()
    # The expired SVID loaded: the status shows it, and why it is of no use.
    status = await identity_status(client)
    assert dt.datetime.fromisoformat(status["svid_expires_at"]) == expired.not_after
    with caplog.at_level(logging.WARNING):
        body = await assert_not_ready_naming_the_check(client, spire_dir)
    # The reason, in words for any prober: no path, no traceback in the log for each probe.
    reason = body["details"]["checks"]["spiffe_identity"]
    assert reason == f"the X.509-SVID expired at {expired.not_after.isoformat()}"
    assert not [record for record in caplog.records if record.exc_info]


async def test_ready_is_503_when_the_svid_file_is_missing(make_registry, svid_files, spire_dir):
    svid_files.cert.unlink()
    client = await make_registry()
    body = await assert_not_ready_naming_the_check(client, spire_dir)
    assert body["details"]["checks"]["spiffe_identity"] == "no X.509-SVID yet"


async def test_ready_has_no_spiffe_identity_check_with_source_none(make_registry):
    response = await (await make_registry(spiffe_on=False)).get("/ready")
    assert response.status == 200, await response.text()
    body = await response.json()
    assert "spiffe_identity" not in body["checks"]
    assert body["checks"]["records"] == "ok"
