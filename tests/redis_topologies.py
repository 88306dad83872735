"""Real Redis topologies for tests: a three-master Redis Cluster and a Sentinel-watched master.

Each runs as redis-server processes on loopback ports in a temporary directory; the context
managers kill every process and remove the directory, whatever the test did. Without the
redis-server binary the tests skip, except in CI, where that fails the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import free_port

STARTUP_TIMEOUT = 20.0
SENTINEL_SERVICE = "avreg-cache"


def require_redis_binaries() -> None:
    if shutil.which("redis-server") and shutil.which("redis-cli"):
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail("redis-server and redis-cli must be installed in CI")
    pytest.skip("redis-server is not installed")


def redis_cli(port: int, *args: str) -> str:
    result = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=10,
    )
    return result.stdout.strip()


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not happen within {STARTUP_TIMEOUT} s")


class _Processes:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.running: list[subprocess.Popen[bytes]] = []

    def redis_server(self, port: int, *args: str) -> None:
        process = subprocess.Popen(
            [
                "redis-server",
                *args,
                *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.directory)),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.running.append(process)
        wait_until(lambda: redis_cli(port, "ping") == "PONG", f"redis-server on port {port}")

    def stop_all(self) -> None:
        for process in self.running:
            process.kill()
        for process in self.running:
            process.wait()


@contextlib.contextmanager
def _processes() -> Iterator[_Processes]:
    require_redis_binaries()
    directory = Path(tempfile.mkdtemp(prefix="avreg-redis-"))
    processes = _Processes(directory)
    try:
        yield processes
    finally:
        processes.stop_all()
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def redis_cluster() -> Iterator[list[int]]:
    """Three masters, no replicas, every slot covered; yields their ports."""
    with _processes() as processes:
        ports = [free_port() for _ in range(3)]
        for port in ports:
            processes.redis_server(
                port,
                "--cluster-enabled",
                "yes",
                "--cluster-port",
                str(free_port()),
                "--cluster-config-file",
                str(processes.directory / f"nodes-{port}.conf"),
            )
        subprocess.run(
            ["redis-cli", "--cluster", "create"]
            + [f"127.0.0.1:{port}" for port in ports]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            check=True,
            timeout=30,
        )
        wait_until(
            lambda: all("cluster_state:ok" in redis_cli(port, "cluster", "info") for port in ports),
            "cluster_state:ok on every node",
        )
        yield ports


@contextlib.contextmanager
def redis_sentinel() -> Iterator[tuple[int, int]]:
    """One master and one sentinel watching it as :data:`SENTINEL_SERVICE`; yields
    ``(master_port, sentinel_port)``."""
    with _processes() as processes:
        master_port, sentinel_port = free_port(), free_port()
        processes.redis_server(master_port)
        config = processes.directory / "sentinel.conf"
        config.write_text(
            f"sentinel monitor {SENTINEL_SERVICE} 127.0.0.1 {master_port} 1\n"
            f"sentinel down-after-milliseconds {SENTINEL_SERVICE} 5000\n"
        )
        processes.redis_server(sentinel_port, str(config), "--sentinel")
        wait_until(
            lambda: (
                str(master_port)
                in redis_cli(sentinel_port, "sentinel", "get-master-addr-by-name", SENTINEL_SERVICE)
            ),
            "the sentinel knowing its master",
        )
        yield master_port, sentinel_port
