"""The ``activity_recorded`` hook, and recording that never fails the request."""

from __future__ import annotations

from activity_helpers import account, app_overrides, feed

from agentvault_registry.core.appkeys import STORAGE
from agentvault_registry.core.errors import BackendError
from agentvault_registry.core.hookspecs import hookimpl


class Recorder:
    def __init__(self) -> None:
        self.entries = []

    @hookimpl
    def activity_recorded(self, app, entry):
        self.entries.append(entry)


async def test_every_recorded_entry_is_announced_with_its_seq(
    aiohttp_client, make_app, records_overrides
):
    recorder = Recorder()
    client = await aiohttp_client(
        make_app(app_overrides(storage=records_overrides), plugins=[("recorder", recorder)])
    )
    admin_headers, _ = await account(client, "root", role="admin")
    announced = [(entry.seq, entry.action) for entry in recorder.entries]
    assert announced[-2:] and [action for _, action in announced] == [
        "auth.registered",
        "auth.login",
    ]
    listed = (await feed(client, admin_headers))["activity"]
    assert [(entry["seq"], entry["action"]) for entry in listed] == announced[::-1]


async def test_a_failing_log_does_not_fail_the_change(
    aiohttp_client, make_app, records_overrides, monkeypatch
):
    client = await aiohttp_client(make_app(app_overrides(storage=records_overrides)))
    records = client.app[STORAGE].records

    async def unavailable(entries):
        raise BackendError("The log is down.", backend="test")

    monkeypatch.setattr(records, "append_activity", unavailable)
    headers, user_id = await account(client, "alice")
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert (await me.json())["id"] == user_id
