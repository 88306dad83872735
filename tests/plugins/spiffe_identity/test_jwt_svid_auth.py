"""Agents authenticating with a JWT-SVID (``Authorization: Bearer <JWT-SVID>``) over HTTP.

The registry reads its SVID and the trust domain's JWT bundle from files (``source =
"files"``); tokens are signed by the test PKI's :class:`JwtAuthority`. Every refusal is the
registry's 401 ``invalid_credentials`` error, never a 500, and never a silent fall back to
anonymous.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from pki import (
    REGISTRY_SPIFFE_ID,
    TRUST_DOMAIN,
    CertificateAuthority,
    JwtAuthority,
    write_svid_files,
)
from spiffe_helpers import files_source

from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE
from support import self_onboarded, sign_up

AGENTS = "/api/v1/agents"
PUBLIC_URL = "https://registry.example.org"
REGISTRATION: dict[str, Any] = {
    "name": "Workload Agent",
    "description": "Runs with a SPIFFE identity.",
    "apiEndpoints": ["https://workload.example.com/a2a"],
}
ERROR_KEYS = {"error", "message", "details", "request_id"}


def agent_spiffe_id(agent_id: str, trust_domain: str = TRUST_DOMAIN) -> str:
    return f"spiffe://{trust_domain}/agent/{agent_id}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def assert_invalid_credentials(response, *fragments: str) -> dict[str, Any]:
    """A 401 in the registry's error shape, code invalid_credentials, whose message holds
    every fragment (case-insensitively)."""
    text = await response.text()
    assert response.status == 401, text
    assert response.content_type == "application/json"
    body = json.loads(text)
    assert set(body) == ERROR_KEYS, body
    assert body["error"] == "invalid_credentials", body
    assert isinstance(body["details"], dict)
    assert body["request_id"]
    for fragment in fragments:
        assert fragment.lower() in body["message"].lower(), body["message"]
    return body


# --------------------------------------------------------------------- accounts, agents


async def created_agent(client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    """An agent its developer registers with POST /agents."""
    response = await client.post(AGENTS, json=REGISTRATION | body, headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


async def onboarded_agent(client, headers: dict[str, str]) -> tuple[dict[str, Any], str]:
    """An agent that registered itself with a bootstrap token: the agent and its own key."""
    body = await self_onboarded(client, headers, REGISTRATION)
    return body["agent"], body["credentials"]["api_key"]


async def patch_description(client, agent_id: str, headers: dict[str, str], text: str):
    return await client.patch(f"{AGENTS}/{agent_id}", json={"description": text}, headers=headers)


async def description_of(client, agent_id: str) -> str:
    return (await (await client.get(f"{AGENTS}/{agent_id}")).json())["description"]


# ---------------------------------------------------------------------------- accepted


async def test_an_agent_reads_and_updates_itself_with_its_jwt_svid(registry, jwt_authority):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    svid = bearer(jwt_authority.issue_jwt_svid(agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID))
    path = f"{AGENTS}/{agent['id']}"

    read = await client.get(path, headers=svid)
    assert read.status == 200, await read.text()
    assert (await read.json())["id"] == agent["id"]
    patched = await patch_description(client, agent["id"], svid, "Updated with a JWT-SVID.")
    assert patched.status == 200, await patched.text()
    assert (await patched.json())["description"] == "Updated with a JWT-SVID."
    replaced = await client.put(
        path,
        json=REGISTRATION | {"name": "Renamed"},
        headers=svid | {"If-Match": patched.headers["ETag"]},
    )
    assert replaced.status == 200, await replaced.text()
    assert (await (await client.get(path)).json())["name"] == "Renamed"
    invalid = await client.patch(path, json={"description": 5}, headers=svid)
    assert invalid.status == 422

    # The change feed names the agent itself as the actor, not its developer.
    changes = (await (await client.get(f"{AGENTS}/changes")).json())["changes"]
    updates = [c for c in changes if c["agentId"] == agent["id"] and c["type"] == "updated"]
    assert updates
    assert {change["actorId"] for change in updates} == {agent["id"]}


async def test_a_jwt_svid_is_refused_for_a_sibling_and_for_developer_routes(
    registry, jwt_authority
):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    sibling = await created_agent(client, headers, name="Sibling")
    svid = bearer(jwt_authority.issue_jwt_svid(agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID))

    own, sibling_path = f"{AGENTS}/{agent['id']}", f"{AGENTS}/{sibling['id']}"
    refused = await patch_description(client, sibling["id"], svid, "Hijacked.")
    assert refused.status == 403, await refused.text()
    assert (await refused.json())["error"] == "forbidden"
    assert (await client.put(sibling_path, json=REGISTRATION, headers=svid)).status == 403
    assert await description_of(client, sibling["id"]) == REGISTRATION["description"]

    for method, path, body in (
        ("DELETE", own, None),
        ("DELETE", sibling_path, None),
        ("POST", f"{own}/verify", None),
        ("POST", AGENTS, REGISTRATION),
        ("GET", f"{AGENTS}?owner=me", None),
        ("GET", "/api/v1/auth/me", None),
        ("GET", "/api/v1/auth/api-keys", None),
        ("POST", "/api/v1/auth/api-keys", {"name": "escalate", "scopes": ["agents:write"]}),
        ("GET", "/api/v1/onboard/bootstrap/tokens", None),
        ("POST", "/api/v1/onboard/bootstrap/request-token", {}),
        ("GET", "/api/v1/identity", None),
        ("GET", "/api/v1/admin/federation/peers", None),
    ):
        response = await client.request(method, path, json=body, headers=svid)
        assert response.status == 403, (method, path, response.status, await response.text())
    # Still there: the agent could not delete itself.
    assert (await client.get(own)).status == 200


async def test_the_agent_key_and_the_jwt_svid_are_the_same_identity(registry, jwt_authority):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent, api_key = await onboarded_agent(client, headers)
    sibling, _ = await onboarded_agent(client, headers)
    credentials = {
        "agent key": {"X-API-Key": api_key},
        "JWT-SVID": bearer(
            jwt_authority.issue_jwt_svid(agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID)
        ),
    }
    probes = (
        ("PATCH", f"{AGENTS}/{agent['id']}", {"tags": ["self"]}),
        ("PUT", f"{AGENTS}/{agent['id']}", REGISTRATION),
        ("PATCH", f"{AGENTS}/{sibling['id']}", {"tags": ["hijacked"]}),
        ("DELETE", f"{AGENTS}/{agent['id']}", None),
        ("POST", AGENTS, REGISTRATION),
        ("GET", "/api/v1/auth/me", None),
        ("GET", "/api/v1/onboard/bootstrap/tokens", None),
    )
    statuses: dict[str, list[int]] = {}
    for name, credential in credentials.items():
        for method, path, body in probes:
            response = await client.request(method, path, json=body, headers=credential)
            statuses.setdefault(name, []).append(response.status)
    assert statuses["agent key"] == [200, 200, 403, 403, 403, 403, 403]
    assert statuses["JWT-SVID"] == statuses["agent key"]


async def test_an_audience_list_naming_us_is_accepted(registry, jwt_authority):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    token = jwt_authority.issue_jwt_svid(
        agent_spiffe_id(agent["id"]), ["spiffe://example.org/service/other", REGISTRY_SPIFFE_ID]
    )
    response = await patch_description(client, agent["id"], bearer(token), "For us too.")
    assert response.status == 200, await response.text()


# ---------------------------------------------------------------------------- audiences


async def test_the_default_audiences_are_our_spiffe_id_and_the_public_url(
    make_registry, jwt_authority
):
    client = await make_registry(server={"public_url": PUBLIC_URL})
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    subject = agent_spiffe_id(agent["id"])
    for audience in (REGISTRY_SPIFFE_ID, PUBLIC_URL):
        token = jwt_authority.issue_jwt_svid(subject, audience)
        response = await patch_description(client, agent["id"], bearer(token), audience)
        assert response.status == 200, (audience, await response.text())
        assert await description_of(client, agent["id"]) == audience

    other = jwt_authority.issue_jwt_svid(subject, "spiffe://example.org/service/other")
    refused = await patch_description(client, agent["id"], bearer(other), "Refused.")
    body = await assert_invalid_credentials(refused, "aud", REGISTRY_SPIFFE_ID, PUBLIC_URL)
    assert "not for this registry" in body["message"]
    assert await description_of(client, agent["id"]) == PUBLIC_URL


async def test_without_a_public_url_only_our_spiffe_id_is_an_audience(registry, jwt_authority):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    token = jwt_authority.issue_jwt_svid(agent_spiffe_id(agent["id"]), PUBLIC_URL)
    response = await patch_description(client, agent["id"], bearer(token), "Refused.")
    await assert_invalid_credentials(response, "aud", REGISTRY_SPIFFE_ID)


async def test_configured_audiences_replace_the_default(make_registry, jwt_authority):
    custom = "https://agents.example.org/registry"
    client = await make_registry({"audiences": [custom]}, server={"public_url": PUBLIC_URL})
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    subject = agent_spiffe_id(agent["id"])

    accepted = await patch_description(
        client, agent["id"], bearer(jwt_authority.issue_jwt_svid(subject, custom)), "Custom."
    )
    assert accepted.status == 200, await accepted.text()
    for default in (REGISTRY_SPIFFE_ID, PUBLIC_URL):
        token = jwt_authority.issue_jwt_svid(subject, default)
        refused = await patch_description(client, agent["id"], bearer(token), "Refused.")
        await assert_invalid_credentials(refused, "aud", custom)
    assert await description_of(client, agent["id"]) == "Custom."


# ------------------------------------------------------------------------ trust domain


async def test_a_jwt_svid_of_another_trust_domain_is_401_naming_it(registry, jwt_authority):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    foreign_subject = agent_spiffe_id(agent["id"], "evil.example")
    evil = JwtAuthority("evil.example", kid="evil-key")
    for token in (
        # Signed by that domain's own key, which we do not know...
        evil.issue_jwt_svid(foreign_subject, REGISTRY_SPIFFE_ID),
        # ...and by ours: our key vouches for our trust domain only.
        jwt_authority.issue_jwt_svid(foreign_subject, REGISTRY_SPIFFE_ID),
    ):
        response = await patch_description(client, agent["id"], bearer(token), "Foreign.")
        await assert_invalid_credentials(response, "trust domain", "evil.example", TRUST_DOMAIN)
    assert await description_of(client, agent["id"]) == REGISTRATION["description"]


# ---------------------------------------------------------------------- claims, expiry


async def test_an_expired_jwt_svid_is_401(registry, jwt_authority):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    now = int(time.time())
    token = jwt_authority.issue_jwt_svid(
        agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID, issued_at=now - 600, expires_at=now - 60
    )
    response = await patch_description(client, agent["id"], bearer(token), "Too late.")
    await assert_invalid_credentials(response, "expired")


@pytest.mark.parametrize("claim", ["exp", "aud"])
async def test_a_jwt_svid_without_exp_or_aud_is_401(registry, jwt_authority, claim):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    token = jwt_authority.issue_jwt_svid(
        agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID, extra_claims={claim: None}
    )
    assert claim not in jwt.decode(token, options={"verify_signature": False})
    response = await patch_description(client, agent["id"], bearer(token), "No claim.")
    await assert_invalid_credentials(response, f"({claim})")


# -------------------------------------------------------------------- keys, algorithms


async def test_a_jwt_svid_signed_with_a_key_not_in_the_bundle_is_401(registry):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    stranger = JwtAuthority(kid="jwt-key-unknown")
    token = stranger.issue_jwt_svid(agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID)
    response = await patch_description(client, agent["id"], bearer(token), "Unknown key.")
    await assert_invalid_credentials(response, "not in the bundle")


async def test_a_jwt_svid_with_our_kid_but_another_key_is_401(registry, jwt_authority):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    impostor = JwtAuthority(kid=jwt_authority.kid)
    token = impostor.issue_jwt_svid(agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID)
    response = await patch_description(client, agent["id"], bearer(token), "Forged.")
    await assert_invalid_credentials(response, "signature")
    assert await description_of(client, agent["id"]) == REGISTRATION["description"]


async def test_an_rs256_jwt_svid_with_a_tampered_payload_is_401(make_registry, spire_dir):
    rsa_authority = JwtAuthority(kid="rsa-key", algorithm="RS256")
    ca = CertificateAuthority()
    write_svid_files(spire_dir, ca.issue_x509_svid(REGISTRY_SPIFFE_ID), ca, rsa_authority)
    client = await make_registry()
    headers, _ = await sign_up(client, "ada")
    agent, sibling = await created_agent(client, headers), await created_agent(client, headers)
    token = rsa_authority.issue_jwt_svid(agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID)
    assert (await patch_description(client, agent["id"], bearer(token), "RSA.")).status == 200

    # The same signature over a payload naming the sibling.
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = agent_spiffe_id(sibling["id"])
    forged = ".".join((header, _b64(json.dumps(claims).encode()), signature))
    response = await patch_description(client, sibling["id"], bearer(forged), "Forged.")
    await assert_invalid_credentials(response, "signature")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """An HS256 token keyed with ``secret``, built by hand: PyJWT rightly refuses to use a
    PEM public key as an HMAC secret, which is the algorithm-confusion attack."""
    signing_input = ".".join(
        (
            _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()),
            _b64(json.dumps(claims).encode()),
        )
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


async def test_alg_none_and_hs256_jwt_svids_are_401_not_500(registry, jwt_authority):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    now = int(time.time())
    claims = {
        "sub": agent_spiffe_id(agent["id"]),
        "aud": REGISTRY_SPIFFE_ID,
        "exp": now + 300,
        "iat": now,
    }
    kid = {"kid": jwt_authority.kid}
    public_pem = jwt_authority.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    unsigned = jwt.encode(claims, None, algorithm="none", headers=kid)
    assert unsigned.endswith(".")
    real_signature = jwt_authority.issue_jwt_svid(claims["sub"], claims["aud"]).split(".")[2]
    tokens = {
        "none": unsigned,
        "none, with a signature of ours": unsigned + real_signature,
        "HS256": jwt.encode(claims, "a shared secret" * 3, algorithm="HS256", headers=kid),
        "HS256 keyed with our public key": _hs256(claims, public_pem, jwt_authority.kid),
    }
    for name, token in tokens.items():
        response = await patch_description(client, agent["id"], bearer(token), name)
        await assert_invalid_credentials(response)
    assert await description_of(client, agent["id"]) == REGISTRATION["description"]


# --------------------------------------------------------------------- whom it names


async def test_a_jwt_svid_for_an_unknown_agent_is_401(registry, jwt_authority):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    token = jwt_authority.issue_jwt_svid(agent_spiffe_id(str(uuid.uuid4())), REGISTRY_SPIFFE_ID)
    response = await patch_description(client, agent["id"], bearer(token), "Nobody.")
    await assert_invalid_credentials(response, "names no agent")


@pytest.mark.parametrize(
    "subject",
    [
        "spiffe://example.org/service/x",
        "spiffe://example.org/agent/not-a-uuid",
        "spiffe://example.org/agent",
        "spiffe://example.org/agents/{id}",
        "spiffe://example.org/agent/{id}/extra",
        "spiffe://example.org/workload/agent/{id}",
        # Records' ids are lower-case UUIDs; another spelling names none of them.
        "spiffe://example.org/agent/{upper}",
        "spiffe://example.org/agent/{hex}",
    ],
)
async def test_a_jwt_svid_not_naming_an_agent_is_401(registry, jwt_authority, subject):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    spelled = subject.format(
        id=agent["id"], upper=agent["id"].upper(), hex=agent["id"].replace("-", "")
    )
    token = jwt_authority.issue_jwt_svid(spelled, REGISTRY_SPIFFE_ID)
    response = await patch_description(client, agent["id"], bearer(token), "Not an agent.")
    await assert_invalid_credentials(response)
    assert await description_of(client, agent["id"]) == REGISTRATION["description"]


async def test_a_configured_agent_path_is_where_agents_are(make_registry, jwt_authority):
    client = await make_registry({"agent_path": "/ns/prod/agents"})
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    custom = f"spiffe://{TRUST_DOMAIN}/ns/prod/agents/{agent['id']}"
    token = jwt_authority.issue_jwt_svid(custom, REGISTRY_SPIFFE_ID)
    accepted = await patch_description(client, agent["id"], bearer(token), "Custom path.")
    assert accepted.status == 200, await accepted.text()

    default = jwt_authority.issue_jwt_svid(agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID)
    refused = await patch_description(client, agent["id"], bearer(default), "Default path.")
    await assert_invalid_credentials(refused, "does not name an agent", "/ns/prod/agents/")
    assert await description_of(client, agent["id"]) == "Custom path."


async def test_a_jwt_svid_of_a_deleted_agent_is_401(registry, jwt_authority):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    token = jwt_authority.issue_jwt_svid(agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID)
    assert (await patch_description(client, agent["id"], bearer(token), "Alive.")).status == 200
    assert (await client.delete(f"{AGENTS}/{agent['id']}", headers=headers)).status == 204
    response = await patch_description(client, agent["id"], bearer(token), "Gone.")
    await assert_invalid_credentials(response, "names no agent")


async def test_a_jwt_svid_of_a_deactivated_developers_agent_is_401(registry, jwt_authority):
    client = registry
    headers, user_id = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    token = jwt_authority.issue_jwt_svid(agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID)
    assert (await patch_description(client, agent["id"], bearer(token), "Active.")).status == 200
    await client.app[AUTH_SERVICE].deactivate(user_id)
    response = await patch_description(client, agent["id"], bearer(token), "Inactive.")
    await assert_invalid_credentials(response, "not active")
    assert await description_of(client, agent["id"]) == "Active."


# ---------------------------------------------------------------------- source "none"


async def test_with_source_none_a_jwt_svid_is_not_recognised(make_registry, jwt_authority):
    client = await make_registry(spiffe_on=False)
    headers, _ = await sign_up(client, "ada")
    agent, api_key = await onboarded_agent(client, headers)
    token = jwt_authority.issue_jwt_svid(agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID)

    response = await patch_description(client, agent["id"], bearer(token), "Unrecognised.")
    assert response.status == 401, await response.text()
    body = await response.json()
    assert set(body) == ERROR_KEYS
    assert body["error"] == "authentication_required"
    assert await description_of(client, agent["id"]) == REGISTRATION["description"]

    # The credentials of the auth plugin are untouched.
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.status == 200, await me.text()
    keyed = await patch_description(client, agent["id"], {"X-API-Key": api_key}, "By key.")
    assert keyed.status == 200, await keyed.text()


async def test_with_spiffe_on_access_tokens_and_agent_keys_still_work(registry):
    client = registry
    headers, _ = await sign_up(client, "ada")
    agent, api_key = await onboarded_agent(client, headers)
    assert (await client.get("/api/v1/auth/me", headers=headers)).status == 200
    by_developer = await patch_description(client, agent["id"], headers, "By developer.")
    assert by_developer.status == 200, await by_developer.text()
    by_key = await patch_description(client, agent["id"], {"X-API-Key": api_key}, "By key.")
    assert by_key.status == 200, await by_key.text()
    # A bearer token that is neither an access token nor a JWT-SVID is still the auth
    # plugin's to refuse.
    bogus = await patch_description(client, agent["id"], bearer("not-a-token"), "Bogus.")
    assert bogus.status == 401


# ---------------------------------------------------------------------------- rotation


async def _status_flips(client, agent_id: str, accepted: str, refused: str) -> list[int]:
    """Poll until ``accepted`` is let in and ``refused`` is not (a few seconds at most); the
    last pair of statuses seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    statuses: list[int] = []
    while loop.time() < deadline:
        statuses = [
            (await patch_description(client, agent_id, bearer(token), "Rotating.")).status
            for token in (accepted, refused)
        ]
        if statuses == [200, 401]:
            break
        await asyncio.sleep(0.02)
    return statuses


async def test_a_rotated_jwt_bundle_is_picked_up_without_a_restart(
    make_registry, jwt_authority, spire_dir, registry_svid, pki_ca
):
    client = await make_registry({"reload_interval": 0.05})
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    subject = agent_spiffe_id(agent["id"])
    rotated = JwtAuthority(kid="jwt-key-2")
    old_token = jwt_authority.issue_jwt_svid(subject, REGISTRY_SPIFFE_ID)
    new_token = rotated.issue_jwt_svid(subject, REGISTRY_SPIFFE_ID)

    assert await _status_flips(client, agent["id"], old_token, new_token) == [200, 401]
    write_svid_files(spire_dir, registry_svid, pki_ca, rotated)
    assert await _status_flips(client, agent["id"], new_token, old_token) == [200, 401]
    refused = await patch_description(client, agent["id"], bearer(old_token), "Old key.")
    await assert_invalid_credentials(refused, "not in the bundle")


async def test_a_rotated_key_under_the_same_kid_is_picked_up_too(
    make_registry, jwt_authority, spire_dir, registry_svid, pki_ca
):
    client = await make_registry({"reload_interval": 0.05})
    headers, _ = await sign_up(client, "ada")
    agent = await created_agent(client, headers)
    subject = agent_spiffe_id(agent["id"])
    rotated = JwtAuthority(kid=jwt_authority.kid)
    old_token = jwt_authority.issue_jwt_svid(subject, REGISTRY_SPIFFE_ID)
    new_token = rotated.issue_jwt_svid(subject, REGISTRY_SPIFFE_ID)

    write_svid_files(spire_dir, registry_svid, pki_ca, rotated)
    assert await _status_flips(client, agent["id"], new_token, old_token) == [200, 401]
    refused = await patch_description(client, agent["id"], bearer(old_token), "Old key.")
    await assert_invalid_credentials(refused, "signature")


async def test_svid_files_without_a_jwt_bundle_refuse_jwt_svids_plainly(
    make_registry, svid_files, jwt_authority
):
    files = files_source(svid_files)["files"]
    del files["jwt_bundle"]
    client = await make_registry({"files": files})
    headers, _ = await sign_up(client, "ada")
    agent, _ = await onboarded_agent(client, headers)
    token = jwt_authority.issue_jwt_svid(agent_spiffe_id(agent["id"]), REGISTRY_SPIFFE_ID)

    # Not a 503 to retry forever: this registry will never verify one.
    response = await patch_description(client, agent["id"], bearer(token), "Never.")

    await assert_invalid_credentials(response, "accepts no JWT-SVIDs")
    assert await description_of(client, agent["id"]) == REGISTRATION["description"]
