"""Helpers of the event stream tests: registries, accounts, and a reader of SSE streams."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from agentvault_registry.core.appkeys import STORAGE
from agentvault_registry.storage_backends.activity import ActivityEntry
from support import SignedUp, merged, sign_up
from support import register_agent as register_agent  # re-exported for the tests

STREAM = "/api/v1/events/stream"
LIMITS = ("auth.login", "auth.register", "auth.refresh", "auth.login_failures", "agents.create")
#: The issue's requirement: a registration reaches a subscriber within a second.
WITHIN = 1.0


def app_overrides(events: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "plugins": {"auth": {"bcrypt_cost": 4}, "events": events or {}},
        "rate_limits": {name: "100000/minute" for name in LIMITS},
    }
    return merged(overrides, extra)


async def account(client, username: str, *, role: str | None = None) -> SignedUp:
    """Register and log ``username`` in (email not verified): its bearer headers and id."""
    return await sign_up(client, username, verified=False, role=role)


async def append_entry(client, action: str, **fields: Any) -> ActivityEntry:
    """Append one entry to the log directly, as any writer of it would."""
    entry = ActivityEntry(
        action=action,
        actor_kind=fields.pop("actor_kind", "system"),
        actor_id=fields.pop("actor_id", None),
        subject_type=fields.pop("subject_type", "registry"),
        subject_id=fields.pop("subject_id", None),
        owner_id=fields.pop("owner_id", None),
        occurred_at=dt.datetime.now(dt.UTC),
        **fields,
    )
    (appended,) = await client.app[STORAGE].records.append_activity([entry])
    return appended


class SseStream:
    """An open ``text/event-stream`` response, read one event at a time."""

    def __init__(self, response) -> None:
        self.response = response
        self.retry: int | None = None

    async def next_event(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next event (``id``, ``event``, ``data`` parsed), skipping comments."""
        return await asyncio.wait_for(self._read_event(), timeout)

    async def _read_event(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        while True:
            line = await self.response.content.readline()
            if not line:
                raise EOFError("the stream ended")
            text = line.decode().rstrip("\n")
            if not text:
                if "data" in fields:
                    fields["data"] = json.loads(fields["data"])
                    fields["id"] = int(fields["id"])
                    return fields
                fields = {}
                continue
            if text.startswith(":"):
                continue
            name, _, value = text.partition(":")
            value = value.removeprefix(" ")
            if name == "retry":
                self.retry = int(value)
            else:
                fields[name] = value

    async def events(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        return [await self.next_event(timeout) for _ in range(count)]

    def close(self) -> None:
        self.response.close()


async def open_stream(
    client, headers, *, status: int = 200, extra_headers: dict | None = None, **params: Any
) -> SseStream:
    """Subscribe; ``params`` become the query (lists repeat the parameter)."""
    query = [
        (name, str(item))
        for name, value in params.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    response = await client.get(
        STREAM,
        params=query,
        headers={**headers, "Accept": "text/event-stream", **(extra_headers or {})},
    )
    assert response.status == status, await response.text()
    stream = SseStream(response)
    return stream


async def subscribers_reach(client, count: int) -> None:
    """Wait until the registry holds ``count`` subscribers (the stream's headers come first;
    the subscription is in place before them)."""
    from agentvault_registry.plugins.events.appkeys import EVENT_HUB

    for _ in range(250):
        if client.app[EVENT_HUB].subscriber_count == count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{client.app[EVENT_HUB].subscriber_count} subscribers, not {count}")
