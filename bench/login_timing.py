"""Login timing: does an unknown user answer as fast (or slow) as a wrong password?

Alternates the two kinds of failed login, one at a time, against a registry at the default
bcrypt cost, and compares the latency distributions. Target (issue F2): medians within 20%.

    python bench/login_timing.py [--rounds 60] [--bcrypt-cost 12] [--redis URL]
"""

from __future__ import annotations

import argparse
import statistics
import time

import aiohttp
from _harness import Server, describe_ms, login_bench_config, post_json, run

PASSWORD = "timing passphrase 2026"


async def measure(url: str, rounds: int) -> tuple[list[float], list[float]]:
    unknown, wrong = [], []
    async with aiohttp.ClientSession() as session:
        assert (
            await post_json(
                session,
                f"{url}/api/v1/auth/register",
                {"email": "clocked@example.org", "username": "clocked", "password": PASSWORD},
            )
            == 201
        )
        for attempt in range(rounds * 2):
            body, bucket = (
                ({"username": "nobody-here", "password": PASSWORD}, unknown)
                if attempt % 2
                else ({"username": "clocked", "password": "not it at all 123"}, wrong)
            )
            started = time.perf_counter()
            assert await post_json(session, f"{url}/api/v1/auth/login", body) == 401
            bucket.append(time.perf_counter() - started)
    return unknown, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--bcrypt-cost", type=int, default=12)
    parser.add_argument("--redis", metavar="URL", help="count limits in Redis, not in memory")
    args = parser.parse_args()
    server = Server(login_bench_config(args.bcrypt_cost, args.redis))
    server.start()
    try:
        unknown, wrong = run(measure(server.url, args.rounds))
    finally:
        server.stop()
    ratio = statistics.median(unknown) / statistics.median(wrong)
    print(f"login timing: {args.rounds} rounds each, bcrypt cost {args.bcrypt_cost}")
    print(f"  unknown user     {describe_ms(unknown)}")
    print(f"  wrong password   {describe_ms(wrong)}")
    print(f"  median ratio     {ratio:.3f} (unknown / wrong; target 0.80-1.20)")


if __name__ == "__main__":
    main()
