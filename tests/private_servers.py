"""Private PostgreSQL, Redis and S3 servers that a test (or a bench) may kill and restart.

The shared services from ``AVREG_TEST_*`` must never be stopped by a test; these run their own
server processes from the same installed binaries (moto's server in this process), on free
loopback ports. Importable as ``private_servers``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from support import free_port


def wait_for_port(port: int, timeout: float = 15.0) -> None:
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
        wait_for_port(self.port)

    def freeze(self) -> None:
        """Stop the process (SIGSTOP): connections are accepted by the kernel and requests
        sent, but nothing ever answers, as from a server that hangs."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

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

    def _processes(self) -> list[int]:
        """The postmaster (from its pid file) and its children (every backend)."""
        postmaster = int((self.datadir / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def freeze(self) -> None:
        """SIGSTOP the cluster's processes: connections are accepted by the kernel and
        queries sent, but nothing answers, as from a server that hangs."""
        self._frozen = self._processes()
        for pid in self._frozen:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in getattr(self, "_frozen", []):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self._frozen = []


def postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PrivateS3:
    """moto's S3 server on a port of its own, stopped and started again on that same port.

    moto keeps its buckets in this process, so they outlive a stop as an S3 service's do.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self._server = None
        self._silent: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        wait_for_port(self.port)

    def freeze(self) -> None:
        """Stop serving, and listen on the port without ever accepting: connections are
        completed by the kernel and requests sent, but nothing answers, as from a store that
        hangs."""
        self.kill()
        self._silent = socket.socket()
        self._silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._silent.bind(("127.0.0.1", self.port))
        self._silent.listen(1024)

    def thaw(self) -> None:
        if self._silent is not None:
            self._silent.close()
            self._silent = None
        self.start()

    def kill(self) -> None:
        """Stop serving: connections are refused, as from a store that is down (werkzeug
        closes the listening socket when its serving loop ends)."""
        if self._server is not None:
            self._server.stop()
            self._server = None


@contextlib.contextmanager
def running_redis(workdir: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@contextlib.contextmanager
def running_postgres(bindir: Path) -> Iterator[PrivatePostgres]:
    """A fresh cluster, started; removed on leaving whether the user left it running or not."""
    # Not under a test's tmp dir: the postgres user must be able to reach the cluster's files.
    workdir = Path(tempfile.mkdtemp(prefix="avreg-pg-"))
    server = PrivatePostgres(workdir, bindir)
    try:
        server.init()
        server.start()
        yield server
        with contextlib.suppress(subprocess.CalledProcessError):  # left stopped
            server.kill()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def running_s3() -> Iterator[PrivateS3]:
    server = PrivateS3()
    server.start()
    try:
        yield server
    finally:
        server.kill()
