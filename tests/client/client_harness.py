"""A registry for the client's tests: in the test's own event loop (library tests), or in a
thread of its own (CLI tests, whose commands run ``asyncio.run`` themselves)."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from agentvault_registry.plugins.mail.appkeys import MAILER
from registry_harness import PASSWORD, Registry, start_registry

T = TypeVar("T")
VERIFY_LINK = re.compile(r"verify-email#token=([A-Za-z0-9_\-]+)")
#: Limits the harness does not lift already, that these tests would reach.
CLIENT_LIMITS = ("auth.api_keys", "bootstrap.request", "auth.verify_email")


def client_overrides(data_dir: Path, **extra: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "data_dir": str(data_dir),
        "rate_limits": {name: "100000/minute" for name in CLIENT_LIMITS},
    }
    for section, values in extra.items():
        overrides[section] = {**overrides.get(section, {}), **values}
    return overrides


async def new_developer(registry: Registry) -> tuple[str, str]:
    """Sign a developer up through the API and verify the email through the mailed link (as
    minting bootstrap tokens needs); its username and password."""
    username = f"dev{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.org"
    await registry.json(
        "POST",
        "/api/v1/auth/register",
        expect=201,
        json={"email": email, "username": username, "password": PASSWORD},
    )
    token = await _mailed_token(registry, email)
    await registry.json("POST", "/api/v1/auth/verify-email", json={"token": token})
    return username, PASSWORD


async def _mailed_token(registry: Registry, email: str) -> str:
    for _ in range(250):
        for mail in registry.app[MAILER].outbox:
            found = VERIFY_LINK.search(mail.text) if mail.to == email else None
            if found:
                return found.group(1)
        await asyncio.sleep(0.02)
    raise AssertionError(f"no verification mail to {email}")


class ThreadedRegistry:
    """A registry serving from an event loop in a background thread."""

    def __init__(self, make_settings: Callable[..., Any], overrides: dict[str, Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.registry: Registry = self.run(start_registry(make_settings, "Client", overrides))

    @property
    def url(self) -> str:
        return self.registry.url

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` in the registry's loop; its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def close(self) -> None:
        async def stop() -> None:
            await self.registry.session.close()
            await self.registry.runner.cleanup()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()
