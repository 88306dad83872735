"""Resuming with Last-Event-ID, and clients too slow to keep up."""

from __future__ import annotations

import asyncio
import socket

from event_stream_helpers import (
    STREAM,
    WITHIN,
    account,
    append_entry,
    open_stream,
    register_agent,
    subscribers_reach,
)

from agentvault_registry.plugins.events.appkeys import EVENT_HUB


async def test_reconnecting_with_last_event_id_replays_what_was_missed(events_client):
    headers, _ = await account(events_client, "ada")
    stream = await open_stream(events_client, headers)
    await register_agent(events_client, headers, name="Seen")
    seen = await stream.next_event(timeout=WITHIN)
    stream.close()
    missed = [
        (await register_agent(events_client, headers, name=f"Missed {n}"))["id"] for n in range(3)
    ]
    resumed = await open_stream(
        events_client, headers, extra_headers={"Last-Event-ID": str(seen["id"])}
    )
    replayed = await resumed.events(3, timeout=WITHIN)
    assert [event["data"]["subject_id"] for event in replayed] == missed
    live = await register_agent(events_client, headers, name="Live")
    after = await resumed.next_event(timeout=WITHIN)
    assert after["data"]["subject_id"] == live["id"]
    assert [e["id"] for e in [*replayed, after]] == sorted({e["id"] for e in [*replayed, after]})


async def test_a_long_replay_meets_the_live_stream_without_gaps_or_repeats(events_client):
    """More missed entries than one page of the log, and entries appended while replaying."""
    admin, _ = await account(events_client, "root", role="admin")
    first = await append_entry(events_client, "registry.noted")
    for _ in range(250):
        await append_entry(events_client, "registry.noted")
    resumed = await open_stream(events_client, admin, last_event_id=first.seq)
    appending = asyncio.create_task(_append(events_client, 20))
    received = await resumed.events(270)
    await appending
    seqs = [event["id"] for event in received]
    assert seqs == list(range(first.seq + 1, first.seq + 271))


async def _append(client, count: int) -> None:
    for _ in range(count):
        await append_entry(client, "registry.noted")
        await asyncio.sleep(0.005)


async def test_the_query_parameter_resumes_too(events_client):
    admin, _ = await account(events_client, "root", role="admin")
    first = await append_entry(events_client, "registry.noted")
    second = await append_entry(events_client, "registry.noted")
    stream = await open_stream(events_client, admin, last_event_id=first.seq)
    assert (await stream.next_event(timeout=WITHIN))["id"] == second.seq


async def test_a_slow_client_is_dropped_while_a_fast_one_keeps_receiving(events_app):
    client = await events_app(buffer_size=2)
    admin, _ = await account(client, "root", role="admin")
    slow = _unread_connection(client, admin)
    fast = await open_stream(client, admin)
    await subscribers_reach(client, 2)
    # Until the slow one's socket and its queue of 2 are full: megabytes on loopback.
    padding = "x" * 100_000
    hub = client.app[EVENT_HUB]
    for number in range(300):
        await append_entry(client, "registry.noted", details={"n": number, "padding": padding})
        assert (await fast.next_event())["data"]["details"]["n"] == number
        if hub.subscriber_count == 1:
            break
    assert hub.subscriber_count == 1
    await append_entry(client, "registry.noted", details={"n": "after"})
    assert (await fast.next_event())["data"]["details"]["n"] == "after"
    await asyncio.wait_for(_read_until_closed(slow), 10)


def _unread_connection(client, headers) -> socket.socket:
    """A subscriber that never reads, with a tiny receive window so the server's writes
    back up."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((client.host, client.port))
    lines = [f"GET {STREAM} HTTP/1.1", f"Host: {client.host}", "Accept: text/event-stream"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    sock.setblocking(False)
    return sock


async def _read_until_closed(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    try:
        while await loop.sock_recv(sock, 65536):
            pass
    except ConnectionResetError:
        pass
    finally:
        sock.close()
