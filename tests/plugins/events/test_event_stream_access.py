"""Who may subscribe, to what, and how many at once."""

from __future__ import annotations

import asyncio

import pytest
from event_stream_helpers import (
    STREAM,
    WITHIN,
    account,
    app_overrides,
    append_entry,
    open_stream,
    register_agent,
    subscribers_reach,
)

from agentvault_registry.core.errors import ConfigError


async def test_anonymous_callers_get_401(events_client):
    response = await events_client.get(STREAM, headers={"Accept": "text/event-stream"})
    assert response.status == 401
    assert (await response.json())["error"]


async def test_a_developer_sees_public_agent_events_and_their_own_only(events_client):
    ada, ada_id = await account(events_client, "ada")
    bob, bob_id = await account(events_client, "bob")
    stream = await open_stream(events_client, bob)
    await subscribers_reach(events_client, 1)
    await append_entry(events_client, "auth.login", actor_kind="user", actor_id=ada_id,
                       subject_type="user", subject_id=ada_id, owner_id=ada_id)  # fmt: skip
    await append_entry(events_client, "api_key.created", actor_kind="user", actor_id=ada_id,
                       subject_type="api_key", owner_id=ada_id)  # fmt: skip
    await append_entry(events_client, "api_key.created", actor_kind="user", actor_id=bob_id,
                       subject_type="api_key", owner_id=bob_id)  # fmt: skip
    agent = await register_agent(events_client, ada)
    first, second = await stream.events(2, timeout=WITHIN)
    assert (first["event"], first["data"]["actor_id"]) == ("api_key.created", bob_id)
    assert (second["event"], second["data"]["subject_id"]) == ("agent.created", agent["id"])


async def test_an_admin_sees_every_event(events_client):
    _, ada_id = await account(events_client, "ada")
    admin, _ = await account(events_client, "root", role="admin")
    stream = await open_stream(events_client, admin)
    await subscribers_reach(events_client, 1)
    await append_entry(events_client, "auth.login", actor_kind="user", actor_id=ada_id,
                       subject_type="user", subject_id=ada_id, owner_id=ada_id)  # fmt: skip
    event = await stream.next_event(timeout=WITHIN)
    assert (event["event"], event["data"]["actor_id"]) == ("auth.login", ada_id)


async def test_bad_queries_get_422(events_client):
    headers, _ = await account(events_client, "ada")
    for params, field in (
        ({"types": "Agent Created"}, "types"),
        ({"types": ","}, "types"),
        ({"last_event_id": "-1"}, "last_event_id"),
        ({"last_event_id": "soon"}, "last_event_id"),
        ({"since": "yesterday"}, "since"),
        ({"capability": "x" * 500}, "capability"),
    ):
        response = await events_client.get(STREAM, params=params, headers=headers)
        assert response.status == 422, params
        assert field in str((await response.json())["details"]), params


async def test_a_bad_last_event_id_header_gets_422(events_client):
    headers, _ = await account(events_client, "ada")
    response = await events_client.get(STREAM, headers={**headers, "Last-Event-ID": "abc"})
    assert response.status == 422
    assert "last_event_id" in (await response.json())["details"]


async def test_one_caller_may_hold_only_so_many_streams(events_app):
    client = await events_app(max_per_user=2)
    ada, _ = await account(client, "ada")
    bob, _ = await account(client, "bob")
    await open_stream(client, ada)
    await open_stream(client, ada)
    refused = await client.get(STREAM, headers=ada)
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) > 0
    await open_stream(client, bob)


async def test_a_full_registry_refuses_streams_with_503(events_app):
    client = await events_app(max_subscribers=1, heartbeat_interval=0.1)
    ada, _ = await account(client, "ada")
    bob, _ = await account(client, "bob")
    first = await open_stream(client, ada)
    refused = await client.get(STREAM, headers=bob)
    assert refused.status == 503
    assert int(refused.headers["Retry-After"]) > 0
    first.close()
    await subscribers_reach(client, 0)
    await open_stream(client, bob)


async def test_bad_options_stop_startup(make_app):
    with pytest.raises(ConfigError, match="buffer_size"):
        make_app(app_overrides({"buffer_size": 0}))


async def test_head_answers_with_the_stream_headers_and_nothing_after_them(events_client):
    # Events written after a HEAD answer's headers reached the client as the start of its
    # next response on the same connection (found by the authorization matrix).
    headers, _ = await account(events_client, "ada")
    head = await events_client.head(STREAM, headers=headers)
    assert head.status == 200
    assert head.headers["Content-Type"].startswith("text/event-stream")
    assert (await events_client.get("/health")).status == 200
    await subscribers_reach(events_client, 0)


async def test_a_client_leaving_leaves_no_wait_on_its_queue_behind(events_client):
    # The stream's last Queue.get outlived the client: a pending task per closed stream until
    # garbage collection destroyed it (found by the authorization matrix).
    headers, _ = await account(events_client, "ada")
    stream = await open_stream(events_client, headers)
    await subscribers_reach(events_client, 1)
    stream.close()
    await subscribers_reach(events_client, 0)
    await asyncio.sleep(0)  # let the cancelled tasks run their cancellation
    waiting = [task for task in asyncio.all_tasks() if "Queue.get" in repr(task.get_coro())]
    assert not [task for task in waiting if not task.cancelled() and not task.done()]
