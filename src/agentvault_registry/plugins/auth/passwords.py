"""Password hashing: bcrypt over an HMAC-SHA256 pre-hash, always off the event loop.

bcrypt reads at most 72 bytes and stops at a NUL byte. Hashing the password first with
HMAC-SHA256 and base64 (44 ASCII bytes, no NUL) lets a 1,000-character, emoji or NUL-containing
password count in full. The HMAC key (the "pepper") comes from config, so a stolen database
alone is not enough to test guesses.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

import bcrypt

DEFAULT_PEPPER = b"agentvault-registry/password/v1"


class PasswordHasher:
    def __init__(self, cost: int, pepper: bytes = DEFAULT_PEPPER) -> None:
        self.cost = cost
        self._pepper = pepper
        self._dummy_hash: bytes | None = None

    def _prehash(self, password: str) -> bytes:
        # surrogatepass: JSON can carry lone surrogates; they must hash, not crash.
        digest = hmac.new(
            self._pepper, password.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).digest()
        return base64.b64encode(digest)

    async def hash(self, password: str) -> str:
        prehashed = self._prehash(password)
        hashed = await asyncio.to_thread(bcrypt.hashpw, prehashed, bcrypt.gensalt(self.cost))
        return hashed.decode("ascii")

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Whether ``password`` matches ``hashed``; with no hash (unknown user) the same bcrypt
        work is done against a dummy hash, so both cases take the same time."""
        if hashed is None:
            if self._dummy_hash is None:
                self._dummy_hash = (await self.hash("not a real password")).encode("ascii")
            target = self._dummy_hash
        else:
            target = hashed.encode("ascii")
        matches = await asyncio.to_thread(bcrypt.checkpw, self._prehash(password), target)
        return matches and hashed is not None

    async def prepare(self) -> None:
        """Compute the dummy hash at startup, so the first unknown-user login is not faster."""
        await self.verify("", None)
