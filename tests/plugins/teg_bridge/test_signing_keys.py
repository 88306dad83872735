"""The keys the registry signs assertions with: configured or generated once in development
mode, published at /.well-known/jwks.json under their JWK thumbprint, and still published
after they are rotated out."""

from __future__ import annotations

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from teg_helpers import (
    JWKS,
    app_overrides,
    ask_token,
    ed25519_pem,
    onboarded_agent,
    p256_pem,
    public_pem,
)

from agentvault_registry.core.app import create_app
from agentvault_registry.core.appkeys import SETTINGS
from agentvault_registry.core.errors import ConfigError
from agentvault_registry.core.signing_keys import jwk_thumbprint, signing_key
from agentvault_registry.plugins.card_trust.appkeys import CARD_TRUST
from agentvault_registry.plugins.teg_bridge import factory


async def published(client) -> dict[str, dict]:
    """The bridge's keys in the registry's JWK Set (the card_trust plugin publishes its own
    signing key there too)."""
    response = await client.get(JWKS)
    assert response.status == 200
    cards_kids = {key["kid"] for key in client.app[CARD_TRUST].keys.public_jwks()}
    keys = (await response.json())["keys"]
    assert cards_kids <= {key["kid"] for key in keys}
    return {key["kid"]: key for key in keys if key["kid"] not in cards_kids}


def test_the_kid_is_the_rfc_7638_thumbprint():
    # RFC 8037 appendix A.3: the thumbprint of the Ed25519 key of appendix A.2.
    key = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


async def test_development_mode_generates_one_key_and_keeps_it(bridged_registry, fake_teg):
    first = await bridged_registry()
    key_file = first.app[SETTINGS].data_dir / factory.DEV_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = await bridged_registry()  # the same data dir: a restart
    assert await published(first) == await published(again)
    [key] = (await published(again)).values()
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA"
    assert key["use"] == "sig"
    assert "d" not in key


@pytest.mark.parametrize(("pem", "algorithm"), [(ed25519_pem(), "EdDSA"), (p256_pem(), "ES256")])
async def test_a_configured_key_signs_and_is_published(bridged_registry, fake_teg, pem, algorithm):
    client = await bridged_registry({"signing_key": pem})
    [key] = (await published(client)).values()
    assert key["alg"] == algorithm
    assert key["kid"] == signing_key(pem, "test").kid
    assert "d" not in key
    assert not (client.app[SETTINGS].data_dir / factory.DEV_KEY_FILE).exists()
    agent = await onboarded_agent(client)
    assert (await ask_token(client, agent)).status == 200
    assert fake_teg.issued[0].assertion_header == {
        "alg": algorithm,
        "kid": key["kid"],
        "typ": "JWT",
    }


async def test_a_rotated_out_key_stays_published(bridged_registry, fake_teg):
    old, new = ed25519_pem(), p256_pem()
    before = await bridged_registry({"signing_key": old})
    agent = await onboarded_agent(before)
    assert (await ask_token(before, agent)).status == 200
    signed_before = fake_teg.issued[0].form["assertion"]

    after = await bridged_registry({"signing_key": new, "previous_signing_keys": [old]})
    keys = await published(after)
    old_kid, new_kid = signing_key(old, "old").kid, signing_key(new, "new").kid
    assert set(keys) == {old_kid, new_kid}
    assert all("d" not in key for key in keys.values())
    # What the old key signed still checks out against the published set.
    old_key = jwt.PyJWK.from_dict(keys[old_kid])
    claims = jwt.decode(signed_before, old_key, algorithms=["EdDSA"], audience=fake_teg.url)
    assert claims["sub"] == agent.did
    # New assertions carry the new key's kid.
    agent = await onboarded_agent(after, "Second")
    assert (await ask_token(after, agent)).status == 200
    assert fake_teg.issued[-1].assertion_header["kid"] == new_kid


async def test_a_retired_key_may_be_given_as_its_public_half(bridged_registry):
    current, retired = ed25519_pem(), p256_pem()
    client = await bridged_registry(
        {"signing_key": current, "previous_signing_keys": [public_pem(retired), current]}
    )
    keys = await published(client)
    # The current key listed again as retired is published once.
    assert set(keys) == {signing_key(current, "c").kid, signing_key(retired, "r").kid}


async def test_a_signing_key_is_published_even_before_a_teg_is_configured(aiohttp_client, make_app):
    pem = ed25519_pem()
    client = await aiohttp_client(
        make_app(app_overrides(plugins={"teg_bridge": {"signing_key": pem}}))
    )
    assert set(await published(client)) == {signing_key(pem, "k").kid}


def _pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    ("pem", "problem"),
    [
        (_pem(rsa.generate_private_key(65537, 2048)), "not a key of type RSA"),
        (_pem(ec.generate_private_key(ec.SECP384R1())), "not an EC key on secp384r1"),
        ("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----", "not a PEM"),
        ("just some text", "not a PEM private key"),
        (
            ec.generate_private_key(ec.SECP256R1())
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"passphrase"),
            )
            .decode(),
            "encrypted",
        ),
    ],
    ids=["rsa", "p384", "bad-pem", "text", "encrypted"],
)
def test_an_unusable_signing_key_stops_startup(make_settings, pem, problem):
    settings, _ = make_settings({"plugins": {"teg_bridge": {"signing_key": pem}}})
    with pytest.raises(ConfigError) as raised:
        factory.configured_signing_key(settings)
    [line] = raised.value.problems
    assert line.startswith("plugins.teg_bridge.signing_key: ")
    assert problem in line


def test_an_unusable_retired_key_names_its_place(make_settings):
    rsa_public = public_pem(_pem(rsa.generate_private_key(65537, 2048)))
    settings, _ = make_settings(
        {"plugins": {"teg_bridge": {"previous_signing_keys": [ed25519_pem(), rsa_public]}}}
    )
    with pytest.raises(ConfigError, match=r"^plugins\.teg_bridge\.previous_signing_keys\[1\]: "):
        factory.retired_public_keys(settings)


async def test_a_bad_key_stops_the_registry_starting(make_settings):
    settings, pm = make_settings({"plugins": {"teg_bridge": {"signing_key": "not a key"}}})
    runner = web.AppRunner(create_app(settings, pm))
    with pytest.raises(ConfigError, match=r"^plugins\.teg_bridge\.signing_key: not a PEM"):
        await runner.setup()
    await runner.cleanup()
