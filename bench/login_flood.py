"""Login flood: does the registry stay responsive while many clients hammer login?

32 clients (one process) post logins as fast as answers come: a third right, a third wrong
password, a third unknown users. A second process probes /health every 10 ms. The server
samples its own event-loop lag. Target (issue F2): loop lag p99 and /health p99 under 25 ms.

    python bench/login_flood.py [--clients 32] [--seconds 20] [--bcrypt-cost 12] [--redis URL]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections import Counter

import aiohttp
from _harness import Server, describe_ms, login_bench_config, post_json, run

PASSWORD = "benchmark passphrase 2026"


async def flood(url: str, clients: int, seconds: float, results) -> None:
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds
    bodies = [
        {"username": "loadtest", "password": PASSWORD},
        {"username": "loadtest", "password": "not the password 123"},
        {"username": "nobody", "password": PASSWORD},
    ]

    async def client(number: int) -> None:
        async with aiohttp.ClientSession() as session:
            attempt = number
            while time.monotonic() < deadline:
                statuses[
                    await post_json(session, f"{url}/api/v1/auth/login", bodies[attempt % 3])
                ] += 1
                attempt += 1

    await asyncio.gather(*(client(number) for number in range(clients)))
    results.put(dict(statuses))


async def probe(url: str, seconds: float, results) -> None:
    latencies = []
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with session.get(f"{url}/health") as response:
                await response.read()
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)
    results.put(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--bcrypt-cost", type=int, default=12)
    parser.add_argument("--redis", metavar="URL", help="count limits in Redis, not in memory")
    args = parser.parse_args()

    server = Server(login_bench_config(args.bcrypt_cost, args.redis))
    server.start()
    try:

        async def register() -> int:
            async with aiohttp.ClientSession() as session:
                return await post_json(
                    session,
                    f"{server.url}/api/v1/auth/register",
                    {"email": "loadtest@example.org", "username": "loadtest", "password": PASSWORD},
                )

        assert run(register()) == 201
        flood_results, probe_results = multiprocessing.Queue(), multiprocessing.Queue()
        workers = [
            multiprocessing.Process(
                target=lambda: run(flood(server.url, args.clients, args.seconds, flood_results))
            ),
            multiprocessing.Process(
                target=lambda: run(probe(server.url, args.seconds, probe_results))
            ),
        ]
        for worker in workers:
            worker.start()
        statuses, health = flood_results.get(), probe_results.get()
        for worker in workers:
            worker.join()
    finally:
        lag = server.stop()

    total = sum(statuses.values())
    print(
        f"login flood: {args.clients} clients, {args.seconds:g} s, bcrypt cost {args.bcrypt_cost}"
    )
    rate = total / args.seconds
    print(f"  logins answered   {total} ({rate:.1f}/s)   statuses {dict(sorted(statuses.items()))}")
    print(f"  event-loop lag    {describe_ms(lag)}")
    print(f"  /health latency   {describe_ms(health)}")


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
