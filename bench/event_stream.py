"""Idle event-stream subscribers: what do 1,000 open SSE streams cost the server?

The registry runs in its own process (SQLite records, memory cache); one developer registers
and logs in, then N raw sockets each subscribe to ``GET /api/v1/events/stream`` and read only
the response head, staying idle. The server's resident memory (VmRSS) is read before the
subscribers connect and once they all are, and a registration is made to check that every
subscriber still receives it. Target (issue F9): < 100 MB for 1,000 idle subscribers.

    python bench/event_stream.py [--subscribers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp
from _harness import Server, post_json, run

PASSWORD = "benchmark passphrase 2026"
STREAM = "/api/v1/events/stream"
CONFIG = """
mode = "development"
data_dir = "{data_dir}"
[server]
access_log = false
[logging]
level = "WARNING"
[rate_limits]
"auth.login" = "1000000/minute"
"auth.register" = "1000000/minute"
"agents.create" = "1000000/minute"
[plugins.auth]
bcrypt_cost = 4
[plugins.events]
max_subscribers = %(subscribers)d
max_per_user = %(subscribers)d
"""


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def developer_token(url: str) -> str:
    async with aiohttp.ClientSession() as session:
        account = {"email": "developer@example.org", "username": "developer", "password": PASSWORD}
        assert await post_json(session, f"{url}/api/v1/auth/register", account) == 201
        async with session.post(
            f"{url}/api/v1/auth/login", json={"username": "developer", "password": PASSWORD}
        ) as response:
            assert response.status == 200, await response.text()
            return (await response.json())["access_token"]


async def subscribe(port: int, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw socket subscribed to the stream: the client side costs a few KB each."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET {STREAM} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return reader, writer


async def received_registration(reader: asyncio.StreamReader, timeout: float = 10) -> bool:
    async def read() -> bool:
        while True:
            line = await reader.readline()
            if line.startswith(b"event: agent.created"):
                return True
            if not line:
                return False

    try:
        return await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        return False


async def measure(server: Server, subscribers: int) -> None:
    token = await developer_token(server.url)
    pid = server.process.pid
    # A first subscriber and registration warm up the code paths (imports, the reader task).
    warm_reader, warm_writer = await subscribe(server.port, token)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        await register(session, server.url, "warm-up")
        assert await received_registration(warm_reader), "the warm-up registration never came"
        await asyncio.sleep(1)
        before = rss_bytes(pid)
        started = time.perf_counter()
        connections = []
        for batch in range(0, subscribers, 100):
            connections += await asyncio.gather(
                *(subscribe(server.port, token) for _ in range(min(100, subscribers - batch)))
            )
        connect_seconds = time.perf_counter() - started
        await asyncio.sleep(2)
        after = rss_bytes(pid)
        started = time.perf_counter()
        await register(session, server.url, "fan-out")
        delivered = await asyncio.gather(
            *(received_registration(reader) for reader, _ in connections)
        )
        fan_out_seconds = time.perf_counter() - started
    for _, writer in [*connections, (warm_reader, warm_writer)]:
        writer.close()

    grown = after - before
    print(f"idle subscribers            {subscribers}")
    print(f"connected in                {connect_seconds:8.2f} s")
    print(f"server RSS before           {before / 2**20:8.1f} MB")
    print(f"server RSS with subscribers {after / 2**20:8.1f} MB")
    print(f"increase, total             {grown / 2**20:8.1f} MB   (target < 100 MB)")
    print(f"increase per subscriber     {grown / subscribers / 1024:8.1f} KB")
    print(f"one registration reached    {sum(delivered)}/{subscribers} in {fan_out_seconds:.2f} s")


async def register(session: aiohttp.ClientSession, url: str, label: str) -> None:
    body = {
        "name": f"bench agent {label}",
        "description": "An agent registered by bench/event_stream.py.",
        "apiEndpoints": [f"https://agents.example.org/{label}/a2a"],
        "capabilities": ["search"],
    }
    assert await post_json(session, f"{url}/api/v1/agents", body) == 201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    args = parser.parse_args()
    # One more for the warm-up subscriber.
    server = Server(CONFIG % {"subscribers": args.subscribers + 1})
    server.start()
    try:
        run(measure(server, args.subscribers))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
