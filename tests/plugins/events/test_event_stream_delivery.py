"""What a subscriber receives: registrations at once, from any process, filtered."""

from __future__ import annotations

import asyncio
import json

from event_stream_helpers import (
    STREAM,
    WITHIN,
    account,
    append_entry,
    open_stream,
    register_agent,
    subscribers_reach,
)


async def test_a_subscriber_sees_a_registration_within_a_second(events_client):
    headers, user_id = await account(events_client, "ada")
    stream = await open_stream(events_client, headers)
    agent = await register_agent(events_client, headers, capabilities=["echo"])
    event = await stream.next_event(timeout=WITHIN)
    assert event["event"] == "agent.created"
    assert event["id"] == event["data"]["seq"]
    assert event["data"]["subject_id"] == agent["id"]
    assert event["data"]["actor_id"] == user_id
    assert "echo" in event["data"]["details"]["capabilities"]
    assert set(event["data"]) == {
        "seq", "action", "occurred_at", "actor_kind", "actor_id",
        "subject_type", "subject_id", "details",
    }  # fmt: skip


async def test_the_stream_is_event_stream_that_proxies_do_not_buffer(events_client):
    headers, _ = await account(events_client, "ada")
    stream = await open_stream(events_client, headers)
    assert stream.response.headers["Content-Type"].startswith("text/event-stream")
    assert stream.response.headers["Cache-Control"] == "no-cache"
    assert stream.response.headers["X-Accel-Buffering"] == "no"
    await register_agent(events_client, headers)
    await stream.next_event(timeout=WITHIN)
    assert stream.retry and stream.retry > 0


async def test_a_registration_in_another_registry_process_arrives(events_app):
    """Two apps on one database: the second one's entries reach the first one's subscriber
    through the log alone."""
    listening = await events_app()
    writing = await events_app()
    headers, _ = await account(writing, "ada")
    stream = await open_stream(listening, headers)
    agent = await register_agent(writing, headers)
    event = await stream.next_event(timeout=WITHIN)
    assert (event["event"], event["data"]["subject_id"]) == ("agent.created", agent["id"])


async def test_a_stream_starts_now_without_history(events_client):
    headers, _ = await account(events_client, "ada")
    earlier = await open_stream(events_client, headers)
    await register_agent(events_client, headers, name="Before")
    # Agent entries are appended just after the response: once seen, it is in the log.
    await earlier.next_event(timeout=WITHIN)
    stream = await open_stream(events_client, headers)
    await register_agent(events_client, headers, name="After")
    event = await stream.next_event(timeout=WITHIN)
    assert event["data"]["details"]["name"] == "After"


async def test_types_filter_actions_and_prefixes(events_client):
    admin, _ = await account(events_client, "root", role="admin")
    exact = await open_stream(events_client, admin, types="registry.noted,agent.deleted")
    prefix = await open_stream(events_client, admin, types=["other."])
    await subscribers_reach(events_client, 2)
    for action in ("agent.created", "registry.noted", "other.one", "registry.noted_twice"):
        await append_entry(events_client, action)
    assert (await exact.next_event())["event"] == "registry.noted"
    assert (await prefix.next_event())["event"] == "other.one"
    await append_entry(events_client, "agent.deleted")
    assert (await exact.next_event())["event"] == "agent.deleted"


async def test_capability_filters_agent_events(events_client):
    headers, _ = await account(events_client, "ada")
    stream = await open_stream(events_client, headers, capability=["translate", "summarize"])
    await register_agent(events_client, headers, name="Echo", capabilities=["echo"])
    await register_agent(events_client, headers, name="Babel", capabilities=["translate"])
    event = await stream.next_event(timeout=WITHIN)
    assert event["data"]["details"]["name"] == "Babel"


async def test_the_websocket_carries_the_same_events(events_client):
    headers, _ = await account(events_client, "ada")
    async with events_client.ws_connect(STREAM, headers=headers) as ws:
        await subscribers_reach(events_client, 1)
        agent = await register_agent(events_client, headers)
        message = await asyncio.wait_for(ws.receive_str(), WITHIN)
    event = json.loads(message)
    assert (event["action"], event["subject_id"]) == ("agent.created", agent["id"])


async def test_streams_end_when_the_registry_stops(events_client):
    headers, _ = await account(events_client, "ada")
    stream = await open_stream(events_client, headers)
    async with events_client.ws_connect(STREAM, headers=headers) as ws:
        await subscribers_reach(events_client, 2)
        await asyncio.wait_for(events_client.server.runner.shutdown(), 5)
        closed = await asyncio.wait_for(ws.receive(), 5)
        assert ws.close_code == 1001, closed
    # read() returns at the end of the stream only.
    rest = await asyncio.wait_for(stream.response.content.read(), 5)
    assert b"data:" not in rest
    assert stream.response.content.at_eof()
