"""The cards the registry serves carry its signature, in A2A 1.0 or down-converted to 0.3."""

from __future__ import annotations

import json

import pytest
from card_keys import signed, trust_overrides
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.utils import base64url_decode

from agentvault_registry.core import jws
from agentvault_registry.core.signing_keys import jwk_thumbprint, public_jwk
from sample_cards import V1_CARD
from support import sign_up

AGENTS = "/api/v1/agents"


async def registry_keys(client) -> dict[str, dict]:
    document = await (await client.get("/.well-known/jwks.json")).json()
    return {key["kid"]: key for key in document["keys"]}


def header_of(signature: dict) -> dict:
    return json.loads(base64url_decode(signature["protected"].encode()))


async def check_registry_signature(client, served: dict) -> dict:
    """The registry's signature (the last one) verifies against its published keys."""
    signature = served["signatures"][-1]
    header = header_of(signature)
    key = (await registry_keys(client))[header["kid"]]
    jws.verify(jws.canonical_payload(served, "signatures"), signature, key)
    return header


@pytest.fixture
async def registry(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(trust_overrides()))
    ada = (await sign_up(client, "ada")).headers
    created = await client.post(AGENTS, json={"card": V1_CARD}, headers=ada)
    assert created.status == 201, await created.text()
    return client, ada, await created.json()


async def test_a_served_card_carries_the_registrys_verifiable_signature(registry):
    client, _, agent = registry
    served = await (await client.get(f"{AGENTS}/{agent['id']}/card")).json()
    header = await check_registry_signature(client, served)
    assert header["alg"] == "EdDSA"
    assert header["jku"].endswith("/.well-known/jwks.json")
    # Altered on the way, it no longer verifies.
    served["name"] = "Someone Else"
    with pytest.raises(jws.SignatureProblem):
        await check_registry_signature(client, served)


async def test_the_cards_own_signatures_come_first(registry, key_server, keys):
    client, ada, _ = registry
    key_server.keys = [keys["EdDSA"].public_jwk]
    own = signed(key_server.card(), keys["EdDSA"])
    agent = await (await client.post(AGENTS, json={"card": own}, headers=ada)).json()
    served = await (await client.get(f"{AGENTS}/{agent['id']}/card")).json()
    assert len(served["signatures"]) == 2
    assert served["signatures"][0] == own["signatures"][0]
    await check_registry_signature(client, served)


async def test_every_process_sharing_the_records_signs_with_one_key(
    aiohttp_client, make_app, registry
):
    client, _, agent = registry
    first = header_of(
        (await (await client.get(f"{AGENTS}/{agent['id']}/card")).json())["signatures"][-1]
    )
    second_process = await aiohttp_client(make_app(trust_overrides()))
    served = await (await second_process.get(f"{AGENTS}/{agent['id']}/card")).json()
    assert header_of(served["signatures"][-1])["kid"] == first["kid"]
    await check_registry_signature(second_process, served)


async def test_a_configured_key_signs_and_retired_keys_stay_published(aiohttp_client, make_app):
    def pem(key) -> str:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    current, retired = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    overrides = trust_overrides(signing_key=pem(current), previous_signing_keys=[pem(retired)])
    client = await aiohttp_client(make_app(overrides))
    ada = (await sign_up(client, "ada")).headers
    agent = await (await client.post(AGENTS, json={"card": V1_CARD}, headers=ada)).json()
    served = await (await client.get(f"{AGENTS}/{agent['id']}/card")).json()
    header = await check_registry_signature(client, served)
    assert header["alg"] == "ES256"
    current_kid = jwk_thumbprint(public_jwk(current.public_key()))
    assert header["kid"] == current_kid
    published = await registry_keys(client)
    assert set(published) >= {current_kid, jwk_thumbprint(public_jwk(retired.public_key()))}
    assert all("d" not in key for key in published.values()), "no private part is published"


async def test_signing_served_cards_can_be_turned_off(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(trust_overrides(sign_served_cards=False)))
    ada = (await sign_up(client, "ada")).headers
    agent = await (await client.post(AGENTS, json={"card": V1_CARD}, headers=ada)).json()
    served = await (await client.get(f"{AGENTS}/{agent['id']}/card")).json()
    assert "signatures" not in served


async def test_version_0_3_serves_a_signed_down_conversion(registry):
    client, ada, _ = registry
    card = {
        **V1_CARD,
        "supportedInterfaces": [
            {
                "url": "https://t.example.com/a2a",
                "protocolBinding": "JSONRPC",
                "protocolVersion": "0.3",
            }
        ],
    }
    agent = await (await client.post(AGENTS, json={"card": card}, headers=ada)).json()
    current = await client.get(f"{AGENTS}/{agent['id']}/card")
    old = await client.get(f"{AGENTS}/{agent['id']}/card", params={"version": "0.3"})
    assert old.status == 200
    served = await old.json()
    assert served["protocolVersion"] == "0.3.0"
    assert served["url"] == "https://t.example.com/a2a"
    assert served["preferredTransport"] == "JSONRPC"
    assert "supportedInterfaces" not in served
    await check_registry_signature(client, served)
    assert old.headers["ETag"] != current.headers["ETag"]
    again = await client.get(
        f"{AGENTS}/{agent['id']}/card",
        params={"version": "0.3"},
        headers={"If-None-Match": old.headers["ETag"]},
    )
    assert again.status == 304


async def test_a_card_without_a_v0_3_interface_has_no_v0_3_form(registry):
    client, _, agent = registry  # V1_CARD's only interface speaks 1.0
    response = await client.get(f"{AGENTS}/{agent['id']}/card", params={"version": "0.3"})
    assert response.status == 404
    assert (await response.json())["error"] == "no_v03_interface"


@pytest.mark.parametrize("version", ["2", "0.2", "", "1.0.0"])
async def test_an_unknown_card_version_is_refused(registry, version):
    client, _, agent = registry
    response = await client.get(f"{AGENTS}/{agent['id']}/card", params={"version": version})
    assert response.status == 422
    assert (await response.json())["error"] == "validation_failed"


async def test_the_registrys_own_card_is_signed_too(registry):
    client, _, _ = registry
    served = await (await client.get("/.well-known/agent-card.json")).json()
    assert len(served["signatures"]) == 1
    await check_registry_signature(client, served)
