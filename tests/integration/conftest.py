"""Private PostgreSQL and Redis servers that a test may kill and restart.

The shared services from ``AVREG_TEST_*`` must never be stopped by a test; these fixtures run
their own server processes from the same installed binaries, on free loopback ports.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import free_port


def _wait_for_port(port: int, timeout: float = 15.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None


class PrivatePostgres:
    """A throwaway cluster (initdb) owned by the ``postgres`` user when the tests run as root."""

    def __init__(self, workdir: Path, bindir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.bindir = bindir
        self.datadir = workdir / "data"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-o",
            options,
            "-w",
            "-l",
            str(self.workdir / "server.log"),
            "start",
        )

    def kill(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")


def _postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    # Not under pytest's tmp dir: the postgres user must be able to reach the cluster's files.
    workdir = Path(tempfile.mkdtemp(prefix="avreg-pg-"))
    server = PrivatePostgres(workdir, bindir)
    try:
        server.init()
        server.start()
        yield server
        with contextlib.suppress(subprocess.CalledProcessError):  # the test left it stopped
            server.kill()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
async def private_redis_client(aiohttp_client, make_app, private_redis):
    """A registry on SQLite whose cache is :func:`private_redis` (short timeouts, so an
    outage is noticed within seconds), for tests that stop and restart Redis."""
    app = make_app(
        {
            "plugins": {"auth": {"bcrypt_cost": 4}},
            "storage": {
                "cache": {
                    "backend": "redis",
                    "url": private_redis.url,
                    "socket_timeout": 2,
                    "socket_connect_timeout": 2,
                }
            },
        }
    )
    return await aiohttp_client(app)
