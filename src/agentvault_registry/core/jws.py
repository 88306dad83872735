"""Detached JSON Web Signatures over canonical JSON, as A2A signs Agent Cards (A2A §8.4).

A signed document carries its signatures beside its content, each ``{"protected",
"signature"}`` (and optionally an unprotected ``header``). What is signed is the RFC 8785
(JCS) canonical form of the document without its signature member: the JWS payload is those
bytes, base64url-encoded in the signing input but never sent. The registry uses the same
scheme for the cards it serves and for the results it answers peer registries with.

Only asymmetric algorithms are accepted: ``none`` would let anyone "sign", and with HMAC the
public key a verifier fetched would be the secret.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from typing import Any

import jwt
import rfc8785
from jwt.api_jws import PyJWS
from jwt.utils import base64url_decode, base64url_encode

from agentvault_registry.core.signing_keys import SigningKey

ACCEPTED_ALGORITHMS = ("EdDSA", "ES256", "RS256")
#: RSA keys shorter than this are refused (NIST SP 800-131A).
MIN_RSA_BITS = 2048
#: A card's nesting beyond this is refused before canonicalizing (rfc8785 recurses).
MAX_DEPTH = 64
_JWS = PyJWS(options={"verify_signature": True})


class SignatureProblem(Exception):
    """Why a signature does not verify, in words fit for the signer to read."""


def canonical_payload(document: Mapping[str, Any], without: str) -> bytes:
    """The JCS bytes of ``document`` without its ``without`` member (its signatures)."""
    content = {key: value for key, value in document.items() if key != without}
    _check_depth(content, 1)
    try:
        return rfc8785.dumps(content)
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:
        raise SignatureProblem(f"the document has no canonical JSON form: {exc}") from None


def without_empty_values(value: Any) -> Any:
    """``value`` without empty strings, lists and objects, at any depth (None when nothing is
    left). The a2a-sdk signs a card in this form, so a verifier tries it too."""
    if isinstance(value, Mapping):
        kept = {
            key: cleaned
            for key, item in value.items()
            if (cleaned := without_empty_values(item)) is not None
        }
        return kept or None
    if isinstance(value, list):
        items = [cleaned for item in value if (cleaned := without_empty_values(item)) is not None]
        return items or None
    if value == "" and isinstance(value, str):
        return None
    return value


def sign(payload: bytes, key: SigningKey, header: Mapping[str, Any]) -> dict[str, str]:
    """A detached signature of ``payload`` by ``key``; ``header`` joins ``alg`` and ``kid``
    in the protected header."""
    protected = {"typ": "JOSE", **header, "alg": key.algorithm, "kid": key.kid}
    token = _JWS.encode(payload, key.private_key, algorithm=key.algorithm, headers=protected)
    encoded_header, _, signature = token.split(".")
    return {"protected": encoded_header, "signature": signature}


def protected_header(signature: Any) -> dict[str, Any]:
    """The decoded protected header of a signature entry; :class:`SignatureProblem` for an
    entry that is not a JWS, or whose algorithm is not accepted."""
    if not isinstance(signature, Mapping):
        raise SignatureProblem("a signature must be an object with protected and signature")
    protected, value = signature.get("protected"), signature.get("signature")
    if not isinstance(protected, str) or not isinstance(value, str) or not protected or not value:
        raise SignatureProblem("a signature needs protected and signature strings")
    try:
        header = json.loads(base64url_decode(protected.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        raise SignatureProblem("the protected header is not base64url-encoded JSON") from None
    if not isinstance(header, dict):
        raise SignatureProblem("the protected header is not a JSON object")
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in ACCEPTED_ALGORITHMS:
        raise SignatureProblem(
            f"alg {algorithm!r} is not accepted (only {', '.join(ACCEPTED_ALGORITHMS)})"
        )
    if "crit" in header:
        raise SignatureProblem("critical header parameters (crit) are not supported")
    return header


def key_id(signature: Mapping[str, Any], header: Mapping[str, Any]) -> str:
    """The ``kid`` of the protected header, else of the unprotected one."""
    unprotected = signature.get("header")
    kid = header.get("kid")
    if kid is None and isinstance(unprotected, Mapping):
        kid = unprotected.get("kid")
    if not isinstance(kid, str) or not kid:
        raise SignatureProblem("the signature names no key (kid)")
    return kid


def verify(payload: bytes, signature: Mapping[str, Any], jwk: Mapping[str, Any]) -> None:
    """Check ``signature`` (whose header :func:`protected_header` accepted) over ``payload``
    with the public key ``jwk``; :class:`SignatureProblem` saying why it does not hold."""
    algorithm = protected_header(signature)["alg"]
    public_key = _public_key(jwk, algorithm)
    token = b".".join(
        [
            signature["protected"].encode("ascii"),
            base64url_encode(payload),
            signature["signature"].encode("ascii"),
        ]
    )
    try:
        _JWS.decode_complete(token, key=public_key, algorithms=[algorithm])
    except jwt.InvalidSignatureError:
        raise SignatureProblem("the signature does not match the document") from None
    except jwt.PyJWTError as exc:
        raise SignatureProblem(f"the signature cannot be checked: {exc}") from None


def _public_key(jwk: Mapping[str, Any], algorithm: str) -> Any:
    if jwk.get("alg") not in (None, algorithm):
        raise SignatureProblem(f"key {jwk.get('kid')!r} is for {jwk['alg']}, not {algorithm}")
    if jwk.get("use") not in (None, "sig"):
        raise SignatureProblem(f"key {jwk.get('kid')!r} is not a signing key")
    try:
        key = jwt.PyJWK(dict(jwk), algorithm=algorithm)
    except (jwt.PyJWKError, jwt.InvalidKeyError, TypeError, ValueError) as exc:
        raise SignatureProblem(
            f"key {jwk.get('kid')!r} is unusable for {algorithm}: {exc}"
        ) from None
    if key.key_type != {"EdDSA": "OKP", "ES256": "EC", "RS256": "RSA"}[algorithm]:
        raise SignatureProblem(
            f"key {jwk.get('kid')!r} is a {key.key_type} key, not for {algorithm}"
        )
    if algorithm == "ES256" and jwk.get("crv") != "P-256":
        raise SignatureProblem(f"ES256 needs a P-256 key, not {jwk.get('crv')!r}")
    if algorithm == "RS256" and key.key.key_size < MIN_RSA_BITS:
        raise SignatureProblem(f"RSA keys need at least {MIN_RSA_BITS} bits")
    return key.key


def _check_depth(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise SignatureProblem(f"the document nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        for item in value.values():
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)
