"""The event stream: Server-Sent Events, or a WebSocket when the request asks to upgrade."""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import WSCloseCode, hdrs, web

from agentvault_registry.core.identity import current_identity, requires
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.core.requests import load_valid
from agentvault_registry.plugins.events import schemas
from agentvault_registry.plugins.events.appkeys import EVENT_HUB
from agentvault_registry.plugins.events.service import (
    STOPPING,
    TOO_SLOW,
    Dropped,
    EventHub,
    StreamFilter,
    Subscription,
    event_json,
)

STREAM_PATH = "/api/v1/events/stream"
QUERY = schemas.StreamQuerySchema()
#: Milliseconds an EventSource waits before reconnecting (with Last-Event-ID).
RETRY_MS = 3000
#: Seconds a WebSocket close handshake may take before the connection is cut.
CLOSE_TIMEOUT = 1.0
CLOSE_CODES = {TOO_SLOW: WSCloseCode.TRY_AGAIN_LATER, STOPPING: WSCloseCode.GOING_AWAY}
STREAM_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


def _parsed(request: web.Request) -> tuple[StreamFilter, int | None]:
    document = schemas.stream_query(request.query, request.headers.get("Last-Event-ID"))
    query = load_valid(QUERY, document)
    stream_filter = StreamFilter(tuple(query["types"]), tuple(query["capability"]))
    return stream_filter, query.get("last_event_id")


@api_doc(
    "Stream registry events (Server-Sent Events or WebSocket)",
    tags=["events"],
    query=schemas.StreamQuerySchema,
    response=schemas.StreamEventSchema,
    errors=[401, 422, 429, 503],
    content_type="text/event-stream",
    headers={
        "Last-Event-ID": "Resume after this event's seq: what was missed is replayed first.",
        "Upgrade": "`websocket` for the same events as WebSocket text frames.",
    },
    description=(
        "Each event is an activity log entry: SSE `id:` is its `seq`, `event:` its action, "
        "`data:` the JSON entry. Admins see every event; others the agents' public events "
        "and their own. Without `Last-Event-ID` the stream starts now. A client that falls "
        "`buffer_size` events behind is dropped (WebSocket close code 1013)."
    ),
)
@requires()
async def event_stream(request: web.Request) -> web.StreamResponse:
    stream_filter, last_event_id = _parsed(request)
    if request.method == hdrs.METH_HEAD:
        # A HEAD answer ends with its headers: events written after them would reach the
        # client as the start of its next response on the connection.
        return web.Response(headers=STREAM_HEADERS)
    hub = request.app[EVENT_HUB]
    subscription, boundary = await hub.subscribe(
        current_identity(request), stream_filter, last_event_id
    )
    try:
        if request.headers.get(hdrs.UPGRADE, "").lower() == "websocket":
            return await _websocket(request, hub, subscription, boundary)
        return await _server_sent_events(request, hub, subscription, boundary)
    finally:
        hub.unsubscribe(subscription)


async def _server_sent_events(
    request: web.Request, hub: EventHub, subscription: Subscription, boundary: int
) -> web.StreamResponse:
    response = web.StreamResponse(headers=STREAM_HEADERS)
    await response.prepare(request)
    await response.write(f"retry: {RETRY_MS}\n\n".encode())

    async def pump() -> None:
        async for entry in hub.events(subscription, boundary):
            if entry is None:
                await response.write(b": heartbeat\n\n")
                continue
            data = json.dumps(event_json(entry), separators=(",", ":"))
            await response.write(
                f"id: {entry.seq}\nevent: {entry.action}\ndata: {data}\n\n".encode()
            )

    if await _pumped(pump(), subscription):
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
    elif request.transport is not None:
        # Dropped while a write may be stuck on a client that does not read: cut it.
        request.transport.abort()
    return response


async def _websocket(
    request: web.Request, hub: EventHub, subscription: Subscription, boundary: int
) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=hub.settings.heartbeat_interval)
    await ws.prepare(request)

    async def pump() -> None:
        async for entry in hub.events(subscription, boundary):
            if entry is not None:
                await ws.send_str(json.dumps(event_json(entry), separators=(",", ":")))

    async def ignore_client() -> None:
        # The client sends nothing but control frames; reading is what notices it leaving.
        async for _ in ws:
            pass
        subscription.end("closed")

    reader = asyncio.create_task(ignore_client())
    try:
        await _pumped(pump(), subscription)
    finally:
        reader.cancel()
    code = CLOSE_CODES.get(subscription.end_reason, WSCloseCode.OK)
    try:
        await asyncio.wait_for(
            ws.close(code=code, message=subscription.end_reason.encode()[:120]), CLOSE_TIMEOUT
        )
    except (TimeoutError, ConnectionError):
        if request.transport is not None:
            request.transport.abort()
    return ws


async def _pumped(pump, subscription: Subscription) -> bool:
    """Run ``pump`` until it fails or the subscriber ends; True when it ended cleanly
    (the registry stopping, the client leaving), False when the hub dropped it."""
    task = asyncio.ensure_future(pump)
    ended = asyncio.ensure_future(subscription.ended.wait())
    try:
        await asyncio.wait({task, ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, ended):
            pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Dropped, ConnectionError):
            await task
    return subscription.end_reason != TOO_SLOW


def routes() -> list[web.RouteDef]:
    return [web.get(STREAM_PATH, event_stream)]
