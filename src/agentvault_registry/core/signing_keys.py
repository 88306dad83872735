"""The keys the registry signs with (agents' assertions, the cards it serves), and the JWKs
that publish them.

A signing key is an Ed25519 (``EdDSA``) or EC P-256 (``ES256``) private key in PEM. Its
``kid`` is its RFC 7638 JWK thumbprint: the same key always has the same ``kid``, and two
different keys never share one, wherever they are configured.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from agentvault_registry.core.errors import ConfigError
from agentvault_registry.core.lifecycle import create_private_file

log = logging.getLogger(__name__)

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
EDDSA = "EdDSA"
ES256 = "ES256"
#: The members RFC 7638 hashes, per key type.
THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}


@dataclass(frozen=True)
class SigningKey:
    private_key: PrivateKey = field(repr=False)
    algorithm: str
    #: The public half as a JWK, with ``kid``, ``alg`` and ``use``.
    public_jwk: dict[str, Any]

    @property
    def kid(self) -> str:
        return self.public_jwk["kid"]


@dataclass(frozen=True)
class KeyRing:
    """The key assertions are signed with now (None: nothing to sign), and the public keys
    of retired ones, still published so what they signed can still be checked."""

    current: SigningKey | None
    retired: tuple[dict[str, Any], ...] = ()

    def public_jwks(self) -> list[dict[str, Any]]:
        published = [self.current.public_jwk] if self.current is not None else []
        kids = {key["kid"] for key in published}
        for key in self.retired:
            if key["kid"] not in kids:
                published.append(key)
                kids.add(key["kid"])
        return [dict(key) for key in published]


def signing_key(pem: str, setting: str) -> SigningKey:
    """The private key ``pem`` holds; :class:`ConfigError` naming ``setting`` otherwise."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except TypeError:
        raise ConfigError(f"{setting}: the key is encrypted; give it unencrypted") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError(f"{setting}: not a PEM private key") from None
    if not isinstance(key, PrivateKey) or not _usable(key.public_key()):
        raise ConfigError(f"{setting}: {_needed(key)}")
    public = public_jwk(key.public_key())
    return SigningKey(key, public["alg"], public)


def retired_public_jwk(pem: str, setting: str) -> dict[str, Any]:
    """The public JWK of a retired key, given as its private or its public PEM."""
    if "PRIVATE KEY" in pem:
        return signing_key(pem, setting).public_jwk
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError(f"{setting}: not a PEM private or public key") from None
    if not isinstance(key, PublicKey) or not _usable(key):
        raise ConfigError(f"{setting}: {_needed(key)}")
    return public_jwk(key)


def _usable(key: PublicKey) -> bool:
    return isinstance(key, ed25519.Ed25519PublicKey) or isinstance(key.curve, ec.SECP256R1)


def _needed(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        given = f"an EC key on {key.curve.name}"
    else:
        kind = type(key).__name__.removesuffix("PrivateKey").removesuffix("PublicKey")
        given = f"a key of type {kind}"
    return f"an Ed25519 or EC P-256 key is needed, not {given}"


def public_jwk(key: PublicKey) -> dict[str, Any]:
    """``key`` (Ed25519 or P-256) as a JWK, with its thumbprint as ``kid``."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        jwk, algorithm = OKPAlgorithm.to_jwk(key, as_dict=True), EDDSA
    else:
        jwk, algorithm = ECAlgorithm.to_jwk(key, as_dict=True), ES256
    return {**jwk, "kid": jwk_thumbprint(jwk), "alg": algorithm, "use": "sig"}


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, without whitespace; base64url."""
    members = {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def generated_key_pem() -> str:
    """A new Ed25519 private key in unencrypted PKCS#8 PEM."""
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode("ascii")
    )


def development_key_pem(path: Path, setting: str, purpose: str) -> str:
    """An Ed25519 key generated once into ``path`` (owner-only) and read back on every later
    start, so verifiers that cached the JWK Set keep working across restarts."""
    if not path.exists():
        create_private_file(path, generated_key_pem().encode("ascii"))
        log.warning(
            "development mode: generated a %s signing key in %s; production needs %s",
            purpose,
            path,
            setting,
        )
    return path.read_text(encoding="ascii")
