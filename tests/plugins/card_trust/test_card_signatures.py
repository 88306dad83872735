"""Card signatures (A2A §8.4) checked on registration and update, over HTTP."""

from __future__ import annotations

import copy

import jwt
import pytest
from card_keys import new_key, payload_of, signature, signed, trust_overrides, unsigned_header
from jwt.utils import base64url_encode

from support import sign_up

AGENTS = "/api/v1/agents"


async def register(client, headers, card) -> dict:
    response = await client.post(AGENTS, json={"card": card}, headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


@pytest.fixture
async def trusting(aiohttp_client, make_app, records_overrides):
    """A registry on each records backend that may fetch keys from loopback."""
    client = await aiohttp_client(make_app(trust_overrides(storage=records_overrides)))
    return client, (await sign_up(client, "ada")).headers


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
async def test_a_card_signed_with_a_key_its_origin_publishes_is_valid(
    trusting, key_server, keys, alg
):
    client, ada = trusting
    key = keys[alg]
    key_server.keys = [key.public_jwk]
    agent = await register(client, ada, signed(key_server.card(), key))
    assert agent["signature"]["status"] == "valid"
    assert agent["signature"]["kid"] == key.kid
    assert agent["signature"]["domain"] == key_server.host
    assert "reason" not in agent["signature"]
    # Kept on the record: a later read says the same.
    read = await (await client.get(f"{AGENTS}/{agent['id']}")).json()
    assert read["signature"] == agent["signature"]


async def test_keys_named_by_jku_are_used(trusting, key_server, keys):
    client, ada = trusting
    key = keys["ES256"]
    key_server.other_keys = [key.public_jwk]
    card = signed(key_server.card(), key, jku=f"{key_server.origin}/keys/other.json")
    agent = await register(client, ada, card)
    assert agent["signature"]["status"] == "valid"


async def test_a_tampered_field_makes_the_card_invalid(trusting, key_server, keys):
    client, ada = trusting
    key = keys["EdDSA"]
    key_server.keys = [key.public_jwk]
    card = signed(key_server.card(), key)
    card["description"] = "Changed after signing."
    agent = await register(client, ada, card)
    assert agent["signature"]["status"] == "invalid"
    assert "does not match" in agent["signature"]["reason"]


async def test_a_signature_by_another_key_under_a_published_kid_is_invalid(
    trusting, key_server, keys
):
    client, ada = trusting
    published = keys["EdDSA"]
    key_server.keys = [published.public_jwk]
    impostor = new_key("EdDSA", kid=published.kid)
    agent = await register(client, ada, signed(key_server.card(), impostor))
    assert agent["signature"]["status"] == "invalid"


async def test_a_key_the_origin_does_not_publish_is_invalid(trusting, key_server, keys):
    client, ada = trusting
    key_server.keys = [keys["EdDSA"].public_jwk]
    agent = await register(client, ada, signed(key_server.card(), keys["ES256"]))
    assert agent["signature"]["status"] == "invalid"
    assert "not published" in agent["signature"]["reason"]


async def test_alg_none_is_refused(trusting, key_server, keys):
    client, ada = trusting
    key_server.keys = [keys["EdDSA"].public_jwk]
    card = key_server.card()
    card["signatures"] = [
        {"protected": unsigned_header({"alg": "none", "kid": keys["EdDSA"].kid}), "signature": "x"}
    ]
    agent = await register(client, ada, card)
    assert agent["signature"]["status"] == "invalid"
    assert "'none' is not accepted" in agent["signature"]["reason"]


async def test_an_hmac_signature_is_refused_even_keyed_with_the_public_key(
    trusting, key_server, keys
):
    """The classic confusion: HS256 "keyed" with the published public key."""
    client, ada = trusting
    key = keys["EdDSA"]
    key_server.keys = [key.public_jwk]
    card = key_server.card()
    secret = key.public_jwk["x"].encode()
    token = jwt.api_jws.encode(
        payload_of(card), secret, algorithm="HS256", headers={"kid": key.kid}
    )
    protected, _, value = token.split(".")
    card["signatures"] = [{"protected": protected, "signature": value}]
    agent = await register(client, ada, card)
    assert agent["signature"]["status"] == "invalid"
    assert "'HS256' is not accepted" in agent["signature"]["reason"]


async def test_a_key_of_another_domain_is_invalid_without_fetching_it(trusting, key_server, keys):
    client, ada = trusting
    key = keys["EdDSA"]
    key_server.keys = [key.public_jwk]
    # Signed for agent.example.com's interfaces, vouched for by 127.0.0.1's keys.
    card = key_server.card()
    card["supportedInterfaces"][0]["url"] = "https://agent.example.com/a2a"
    card = signed(card, key, jku=f"{key_server.origin}/.well-known/jwks.json")
    agent = await register(client, ada, card)
    assert agent["signature"]["status"] == "invalid"
    assert "does not cover" in agent["signature"]["reason"]
    assert key_server.hits == 0


async def test_a_signed_card_laundered_onto_another_host_is_invalid(trusting, key_server, keys):
    """The provider's origin publishes the key, but the interfaces were moved elsewhere."""
    client, ada = trusting
    key = keys["ES256"]
    key_server.keys = [key.public_jwk]
    card = key_server.card(provider={"organization": "Ada", "url": key_server.origin})
    card["supportedInterfaces"][0]["url"] = "http://localhost:9/a2a"
    agent = await register(client, ada, signed(card, key))
    assert agent["signature"]["status"] == "invalid"
    assert agent["signature"]["domain"] == key_server.host


async def test_a_jku_at_a_private_address_is_not_fetched_when_private_fetches_are_off(
    aiohttp_client, make_app, key_server, keys
):
    client = await aiohttp_client(make_app(trust_overrides(private=False)))
    ada = (await sign_up(client, "ada")).headers
    key = keys["EdDSA"]
    key_server.keys = [key.public_jwk]
    card = signed(key_server.card(), key, jku=f"{key_server.origin}/.well-known/jwks.json")
    agent = await register(client, ada, card)
    assert agent["signature"]["status"] == "unverifiable"
    assert "not a public address" in agent["signature"]["reason"]
    assert key_server.hits == 0


async def test_keys_over_plain_http_are_refused_unless_allowed(
    aiohttp_client, make_app, key_server, keys
):
    client = await aiohttp_client(make_app(trust_overrides(allow_http_keys=False)))
    ada = (await sign_up(client, "ada")).headers
    key_server.keys = [keys["EdDSA"].public_jwk]
    agent = await register(client, ada, signed(key_server.card(), keys["EdDSA"]))
    assert agent["signature"]["status"] == "unverifiable"
    assert "https only" in agent["signature"]["reason"]


async def test_an_origin_without_keys_leaves_the_card_unverifiable(trusting, key_server, keys):
    client, ada = trusting
    card = key_server.card()
    card["supportedInterfaces"][0]["url"] = "http://127.0.0.1:9/a2a"  # nothing listens
    agent = await register(client, ada, signed(card, keys["EdDSA"]))
    assert agent["signature"]["status"] == "unverifiable"


async def test_unsigned_and_malformed_signatures(trusting, key_server):
    client, ada = trusting
    unsigned = await register(client, ada, key_server.card())
    assert unsigned["signature"]["status"] == "none"
    for bad in (
        [{"protected": "!!!", "signature": "x"}],
        [{"protected": base64url_encode(b"[1]").decode(), "signature": "x"}],
        [{"signature": "x"}],
        ["not an object"],
    ):
        card = key_server.card(signatures=bad)
        response = await client.post(AGENTS, json={"card": card}, headers=ada)
        # A card whose signatures are not JWS objects is refused by card validation, or
        # kept as invalid: never a 500, never "valid".
        assert response.status in (201, 422), await response.text()
        if response.status == 201:
            assert (await response.json())["signature"]["status"] == "invalid"


async def test_one_valid_signature_among_bad_ones_is_enough(trusting, key_server, keys):
    client, ada = trusting
    key = keys["EdDSA"]
    key_server.keys = [key.public_jwk]
    card = key_server.card()
    card["signatures"] = [
        signature(card, new_key("EdDSA", kid="unknown")),
        signature(card, key),
    ]
    agent = await register(client, ada, card)
    assert agent["signature"]["status"] == "valid"
    assert agent["signature"]["kid"] == key.kid


async def test_updating_the_card_checks_it_again(trusting, key_server, keys):
    client, ada = trusting
    key = keys["EdDSA"]
    key_server.keys = [key.public_jwk]
    agent = await register(client, ada, key_server.card())
    assert agent["signature"]["status"] == "none"
    patched = await client.patch(
        f"{AGENTS}/{agent['id']}", json={"card": signed(key_server.card(), key)}, headers=ada
    )
    assert patched.status == 200, await patched.text()
    assert (await patched.json())["signature"]["status"] == "valid"
    # Changing only record fields leaves the verdict alone.
    renamed = await client.patch(f"{AGENTS}/{agent['id']}", json={"tags": ["x"]}, headers=ada)
    assert (await renamed.json())["signature"]["status"] == "valid"


async def test_the_policy_can_require_valid_signatures(aiohttp_client, make_app, key_server, keys):
    client = await aiohttp_client(make_app(trust_overrides(require_signed_cards=True)))
    ada = (await sign_up(client, "ada")).headers
    key = keys["RS256"]
    key_server.keys = [key.public_jwk]
    unsigned = await client.post(AGENTS, json={"card": key_server.card()}, headers=ada)
    assert unsigned.status == 422
    body = await unsigned.json()
    assert body["error"] == "validation_failed"
    assert "none" in body["details"]["card"]["signatures"][0]
    tampered = signed(key_server.card(), key)
    tampered["name"] = "Renamed"
    refused = await client.post(AGENTS, json={"card": tampered}, headers=ada)
    assert refused.status == 422
    assert "invalid" in (await refused.json())["details"]["card"]["signatures"][0]
    # Nothing of a refused registration is kept.
    listed = await (await client.get(AGENTS, headers=ada)).json()
    assert listed["agents"] == []
    accepted = await client.post(AGENTS, json={"card": signed(key_server.card(), key)}, headers=ada)
    assert accepted.status == 201, await accepted.text()


async def test_a_card_signed_by_the_a2a_sdk_verifies(trusting, key_server, keys):
    signing = pytest.importorskip("a2a.utils.signing")
    from a2a.types import AgentCard
    from google.protobuf.json_format import MessageToDict, ParseDict
    from jwt import PyJWK

    client, ada = trusting
    key = keys["ES256"]
    key_server.keys = [key.public_jwk]
    card = ParseDict(copy.deepcopy(key_server.card()), AgentCard(), ignore_unknown_fields=True)
    private_jwk = PyJWK.from_dict(
        {**jwt.algorithms.ECAlgorithm.to_jwk(key.private, as_dict=True), "kid": key.kid}
    )
    signer = signing.create_agent_card_signer(
        private_jwk, {"kid": key.kid, "alg": "ES256", "jku": None, "typ": "JOSE"}
    )
    document = MessageToDict(signer(card))
    agent = await register(client, ada, document)
    assert agent["signature"]["status"] == "valid", agent["signature"]


async def test_checking_a_cards_signatures_has_a_deadline(
    aiohttp_client, make_app, key_server, keys
):
    client = await aiohttp_client(make_app(trust_overrides(jwks_timeout=0.2)))
    ada = (await sign_up(client, "ada")).headers
    key_server.hangs = True
    card = key_server.card()
    card["signatures"] = [signature(card, new_key("EdDSA", kid=f"k{n}")) for n in range(4)]
    agent = await register(client, ada, card)
    assert agent["signature"]["status"] == "unverifiable"
    assert "did not arrive within 0.4 s" in agent["signature"]["reason"]
