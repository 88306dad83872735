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
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import bcrypt

DEFAULT_PEPPER = b"agentvault-registry/password/v1"
T = TypeVar("T")


def default_workers() -> int:
    """One core left to the event loop: a login flood must not starve every other request."""
    return max(1, (os.cpu_count() or 2) - 1)


class PasswordHasher:
    def __init__(self, cost: int, pepper: bytes = DEFAULT_PEPPER, workers: int = 0) -> None:
        self.cost = cost
        self._pepper = pepper
        self._dummy_hash: bytes | None = None
        # bcrypt releases the GIL; its own small pool bounds how many cores it can take.
        self._executor = ThreadPoolExecutor(
            max_workers=workers or default_workers(), thread_name_prefix="bcrypt"
        )

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _prehash(self, password: str) -> bytes:
        # surrogatepass: JSON can carry lone surrogates; they must hash, not crash.
        digest = hmac.new(
            self._pepper, password.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).digest()
        return base64.b64encode(digest)

    async def hash(self, password: str) -> str:
        prehashed = self._prehash(password)
        hashed = await self._run(bcrypt.hashpw, prehashed, bcrypt.gensalt(self.cost))
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
        matches = await self._run(bcrypt.checkpw, self._prehash(password), target)
        return matches and hashed is not None

    async def prepare(self) -> None:
        """Compute the dummy hash at startup, so the first unknown-user login is not faster."""
        await self.verify("", None)
