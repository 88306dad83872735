"""Shared by the benchmarks: a registry in a child process that samples its own loop lag.

The server runs in its own process so the load generators never share its event loop; it
records how late a 5 ms timer fires (event-loop lag) and writes the samples when stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

LAG_TICK = 0.005

SERVER_SCRIPT = """
import asyncio, json, signal, sys, time
from aiohttp import web
from agentvault_registry.config.loader import load_configuration
from agentvault_registry.core.app import create_app

config_file, port, lag_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
settings, pm = load_configuration(config_file)
app = create_app(settings, pm)
samples = []

async def sample_lag(app):
    async def loop():
        while True:
            started = time.perf_counter()
            await asyncio.sleep({tick})
            samples.append(time.perf_counter() - started - {tick})
    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with open(lag_file, "w") as handle:
        json.dump(samples, handle)

app.cleanup_ctx.append(sample_lag)
web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
""".replace("{tick}", repr(LAG_TICK))


LOGIN_BENCH_CONFIG = """
mode = "development"
data_dir = "{data_dir}"
[server]
access_log = false
[logging]
level = "WARNING"
[rate_limits]
"auth.login" = "1000000/minute"
"auth.login_failures" = "1000000/minute"
"auth.register" = "1000/minute"
[plugins.auth]
bcrypt_cost = %d
"""


def login_bench_config(bcrypt_cost: int, redis_url: str | None) -> str:
    """A dev registry whose login limits are out of the way, so every attempt hashes."""
    return LOGIN_BENCH_CONFIG % bcrypt_cost + cache_section(redis_url)


def cache_section(redis_url: str | None) -> str:
    """Config for a Redis cache (a fresh key prefix per run), or nothing for the memory one."""
    if not redis_url:
        return ""
    prefix = f"avreg-bench:{os.getpid()}:"
    return f'\n[storage.cache]\nbackend = "redis"\nurl = "{redis_url}"\nkey_prefix = "{prefix}"\n'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe_ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (
        f"median {statistics.median(values) * 1000:7.2f} ms   "
        f"p99 {percentile(values, 0.99) * 1000:7.2f} ms   "
        f"max {max(values) * 1000:7.2f} ms   (n={len(values)})"
    )


def wait_until_up(url: str, failure: str, attempts: int = 200) -> None:
    """Poll ``url`` every 50 ms until it answers; RuntimeError(``failure``) if it never does."""
    for _ in range(attempts):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(failure)


class Server:
    def __init__(self, config_text: str) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="avreg-bench-"))
        self.port = free_port()
        self.config = self.workdir / "registry.toml"
        self.config.write_text(config_text.replace("{data_dir}", str(self.workdir / "data")))
        self.lag_file = self.workdir / "lag.json"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("AVREG_")}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER_SCRIPT,
                str(self.config),
                str(self.port),
                str(self.lag_file),
            ],
            env=env,
            stderr=(self.workdir / "server.log").open("w"),
        )
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{self.url}/health", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the server did not start; see {self.workdir / 'server.log'}")

    def stop(self) -> list[float]:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        self.process.wait(30)
        return json.loads(self.lag_file.read_text())


async def post_json(session, url: str, body: dict) -> int:
    async with session.post(url, json=body) as response:
        await response.read()
        return response.status


def run(coroutine):
    return asyncio.run(coroutine)
