"""JSON Web Tokens: issuing and strictly verifying access and refresh tokens.

The algorithm is pinned per key, never taken from the token: a token whose header names another
algorithm (``none``, or HS256 signed with an RS256 public key) is refused. Every token carries a
``kid``; verification looks the key up in the configured key set, so keys rotate by adding a new
signing key first and removing the old one once its tokens have expired.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from agentvault_registry.core.errors import InvalidCredentials

ACCESS = "access"
REFRESH = "refresh"
REQUIRED_CLAIMS = ("sub", "iss", "aud", "iat", "exp", "jti", "typ")
SYMMETRIC_ALGORITHMS = ("HS256",)
ASYMMETRIC_ALGORITHMS = ("EdDSA", "RS256")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    #: What signs: the HMAC secret, or a PEM private key. None for a verify-only (retired) key.
    signing_key: str | None
    #: What verifies: the HMAC secret, or a PEM public key.
    verifying_key: str


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: dt.datetime


class TokenCodec:
    def __init__(
        self,
        keys: list[SigningKey],
        *,
        issuer: str,
        audience: str,
        leeway: float = 5.0,
    ) -> None:
        signing = [key for key in keys if key.signing_key is not None]
        if not signing:
            raise ValueError("the JWT key set has no key that can sign")
        self._active = signing[0]
        self._keys: Mapping[str, SigningKey] = {key.kid: key for key in keys}
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway

    def issue(
        self,
        typ: str,
        *,
        subject: str,
        ttl: dt.timedelta,
        now: dt.datetime,
        claims: Mapping[str, Any],
    ) -> IssuedToken:
        jti = uuid.uuid4().hex
        expires_at = now + ttl
        payload = {
            **claims,
            "sub": subject,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": jti,
            "typ": typ,
        }
        token = jwt.encode(
            payload,
            self._active.signing_key,
            algorithm=self._active.algorithm,
            headers={"kid": self._active.kid},
        )
        return IssuedToken(token, jti, expires_at)

    def recognises(self, token: str) -> bool:
        """Whether ``token`` claims to be ours (one of our key ids, or our issuer), judged
        without verifying it: a bearer token of another scheme is left to other plugins."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") in self._keys:
                return True
            claims = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, UnicodeError, TypeError):
            return False
        return isinstance(claims, dict) and claims.get("iss") == self.issuer

    def decode(self, token: str, typ: str) -> dict[str, Any]:
        """The verified claims of a token of type ``typ``; ``InvalidCredentials`` otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, UnicodeError):
            raise InvalidCredentials("The token is malformed.") from None
        key = self._keys.get(header.get("kid")) if isinstance(header.get("kid"), str) else None
        if key is None:
            raise InvalidCredentials("The token was signed with an unknown key.")
        try:
            claims = jwt.decode(
                token,
                key.verifying_key,
                algorithms=[key.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidCredentials("The token has expired.") from None
        except (jwt.PyJWTError, UnicodeError):
            raise InvalidCredentials("The token is not valid.") from None
        if claims.get("typ") != typ:
            raise InvalidCredentials(f"The token's type must be {typ!r}.")
        return claims
