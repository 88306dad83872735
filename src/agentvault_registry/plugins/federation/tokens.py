"""The two secrets of a peering: the inbound token we issue (stored as a digest) and the
outbound token the peer issued us (stored encrypted, since we must present it again)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from agentvault_registry.plugins.auth.api_keys import digest as token_digest

#: The identity kind of a peer registry calling with its inbound token.
PEER = "peer"
INBOUND_TOKEN_PREFIX = "avf_"
#: Bytes of randomness in an inbound token (256 bits).
INBOUND_TOKEN_BYTES = 32
#: Key material shorter than this is refused: it is stretched by a hash, not by a KDF, so it
#: must be high-entropy to begin with.
MIN_KEY_LENGTH = 32


def new_inbound_token() -> tuple[str, str]:
    """A fresh inbound token and its digest (the only part stored)."""
    token = INBOUND_TOKEN_PREFIX + secrets.token_urlsafe(INBOUND_TOKEN_BYTES)
    return token, token_digest(token)


def looks_like_inbound_token(credential: str) -> bool:
    return credential.startswith(INBOUND_TOKEN_PREFIX)


def digests_match(presented: str, stored_digest: str) -> bool:
    """Whether ``presented`` hashes to ``stored_digest``, compared in constant time."""
    return hmac.compare_digest(token_digest(presented), stored_digest)


class TokenCipher:
    """Encrypts outbound tokens at rest (Fernet: AES-128-CBC with HMAC-SHA256).

    The first key encrypts; every key decrypts, so an operator rotates by putting a new key
    first and keeping the old ones until every peer's token has been set again.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(_fernet_key(key)) for key in keys])

    def encrypt(self, token: str) -> str:
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The token; ``ValueError`` when no configured key opens it."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise ValueError("no configured key decrypts this token") from exc


def _fernet_key(material: str) -> bytes:
    if len(material) < MIN_KEY_LENGTH:
        raise ValueError(f"a token key must be at least {MIN_KEY_LENGTH} characters")
    return base64.urlsafe_b64encode(hashlib.sha256(material.encode("utf-8")).digest())
