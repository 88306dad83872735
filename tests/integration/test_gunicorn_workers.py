"""Two gunicorn workers (deploy/gunicorn.conf.py) on one PostgreSQL and one Redis behave as one
registry: the login limit, the logout denylist and single-use bootstrap tokens hold across them.

Which worker served a request is read from gunicorn's access log, whose format in the example
config ends with the X-Request-ID and the worker pid. A keep-alive connection stays with the
worker that accepted it, so the test opens connections until it holds some on each worker and
then chooses the worker of every request by choosing its connection.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest
from registry_processes import production_env

from support import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

GUNICORN_CONF = Path(__file__).parents[2] / "deploy" / "gunicorn.conf.py"
LOGIN_LIMIT = 6
CONNECTIONS_PER_WORKER = 5
RACERS = 20
PASSWORD = "operator passphrase 2026"
REGISTRATION = {
    "name": "Self Onboarded",
    "description": "Registered itself with a bootstrap token.",
    "apiEndpoints": ["https://self.example.com/a2a"],
}
Answer = tuple[int, dict, dict, int]


class Workers:
    """A gunicorn arbiter with two registry workers, and who served which request."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.access_log = workdir / "access.log"
        self.output = (workdir / "gunicorn.log").open("w")
        inherited = {
            key: value for key, value in os.environ.items() if not key.startswith("AVREG_")
        }
        self.env = {**inherited, "AVREG_DATA_DIR": str(workdir / "data"), **env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)],
            env={
                **self.env,
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "GUNICORN_WORKERS": "2",
                "GUNICORN_ACCESSLOG": str(self.access_log),
                "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
            },
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        self.probe = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        #: Per worker pid, single-connection keep-alive sessions that worker accepted.
        self.pinned: dict[int, list[aiohttp.ClientSession]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def request(
        self, session: aiohttp.ClientSession, method: str, path: str, **kwargs
    ) -> Answer:
        """Status, JSON body, headers and the pid of the worker that answered."""
        request_id = uuid.uuid4().hex
        headers = {"X-Request-ID": request_id, **kwargs.pop("headers", {})}
        async with session.request(
            method, f"{self.url}{path}", headers=headers, **kwargs
        ) as response:
            body = await response.json() if response.status != 204 else {}
            return response.status, body, dict(response.headers), await self.pid_of(request_id)

    async def pin_connections(self) -> tuple[int, int]:
        """Open connections one at a time (the kernel spreads those over the workers) until
        each of the two workers holds CONNECTIONS_PER_WORKER; the two pids."""
        for _ in range(200):
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))
            *_, pid = await self.request(session, "GET", "/health")
            held = self.pinned.setdefault(pid, [])
            if len(held) < CONNECTIONS_PER_WORKER:
                held.append(session)
            else:
                await session.close()
            if len(self.pinned) == 2 and all(
                len(held) == CONNECTIONS_PER_WORKER for held in self.pinned.values()
            ):
                first, second = self.pinned
                return first, second
        raise AssertionError(f"connections did not spread over two workers: {self.pinned}")

    async def on(self, pid: int, method: str, path: str, **kwargs) -> Answer:
        """A request the worker ``pid`` answers."""
        answer = await self.request(self.pinned[pid][0], method, path, **kwargs)
        assert answer[3] == pid, "a keep-alive connection moved to another worker"
        return answer

    async def pid_of(self, request_id: str) -> int:
        pattern = re.compile(rf"request_id={request_id} pid=<(\d+)>")
        for _ in range(100):
            if self.access_log.exists() and (found := pattern.search(self.access_log.read_text())):
                return int(found.group(1))
            await asyncio.sleep(0.05)
        raise AssertionError(f"request {request_id} is not in the access log")

    async def wait_ready(self) -> None:
        for _ in range(300):
            if self.process.poll() is not None:
                raise AssertionError(self.read_output())
            try:
                async with self.probe.get(f"{self.url}/ready") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"gunicorn never became ready: {self.read_output()}")

    def read_output(self) -> str:
        self.output.flush()
        return Path(self.output.name).read_text()

    async def stop(self) -> None:
        for session in [self.probe, *itertools.chain(*self.pinned.values())]:
            await session.close()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        self.output.close()


@pytest.fixture
async def workers(tmp_path, fresh_postgres_dsn, redis_server_url, redis_key_prefix):
    pytest.importorskip("gunicorn")
    env = {
        **production_env(fresh_postgres_dsn, redis_server_url, redis_key_prefix, tmp_path),
        "AVREG_PLUGINS__AUTH__BCRYPT_COST": "4",
        "AVREG_RATE_LIMITS__AUTH__LOGIN": f"{LOGIN_LIMIT}/hour",
        "AVREG_RATE_LIMITS__BOOTSTRAP__REQUEST": "100/minute",
    }
    server = Workers(tmp_path, env)
    try:
        await server.wait_ready()
        yield server
    finally:
        await server.stop()


def create_admin(env: dict[str, str]) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentvault_registry",
            "create-admin",
            "--email",
            "root@example.org",
            "--username",
            "root",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_two_workers_act_as_one_registry(workers):
    # Both workers migrated the one database at start (serialised by the advisory lock).
    create_admin(workers.env)
    first, second = await workers.pin_connections()
    login = {"username": "root", "password": PASSWORD}

    # (a) The login limit counts the logins of both workers together: alternating, each
    # worker has served LOGIN_LIMIT / 2 when both start refusing.
    answers = [
        await workers.on(pid, "POST", "/api/v1/auth/login", json=login)
        for pid in [first, second] * (LOGIN_LIMIT // 2 + 2)
    ]
    statuses = [status for status, *_ in answers]
    assert statuses == [200] * LOGIN_LIMIT + [429] * 4, answers
    assert {pid for status, *_, pid in answers if status == 429} == {first, second}
    assert all(headers["Retry-After"].isdigit() for status, _, headers, _ in answers[-4:])
    logged_out, admin = (
        {"Authorization": f"Bearer {body['access_token']}"} for _, body, *_ in answers[:2]
    )

    # (b) Logged out on one worker, the access token is refused on the other.
    status, _, _, _ = await workers.on(first, "POST", "/api/v1/auth/logout", headers=logged_out)
    assert status == 204
    status, body, _, _ = await workers.on(second, "GET", "/api/v1/auth/me", headers=logged_out)
    assert status == 401, body
    status, _, _, _ = await workers.on(second, "GET", "/api/v1/auth/me", headers=admin)
    assert status == 200

    # (c) One bootstrap token, RACERS redemptions at once over both workers: one succeeds.
    status, token, _, _ = await workers.on(
        first, "POST", "/api/v1/onboard/bootstrap/request-token", json={}, headers=admin
    )
    assert status == 201, token
    bootstrap = {"Bootstrap-Token": token["bootstrap_token"]}
    connections = list(itertools.chain(*workers.pinned.values()))
    race = await asyncio.gather(
        *(
            workers.request(
                connections[number % len(connections)],
                "POST",
                "/api/v1/onboard/register",
                json=REGISTRATION,
                headers=bootstrap,
            )
            for number in range(RACERS)
        )
    )
    statuses = sorted(status for status, *_ in race)
    assert statuses == [201] + [409] * (RACERS - 1), race
    assert {pid for *_, pid in race} == {first, second}
    assert {body["error"] for status, body, *_ in race if status == 409} == {
        "bootstrap_token_consumed"
    }
    # Redeemed on one worker, refused on the other afterwards too.
    [winner] = [pid for status, *_, pid in race if status == 201]
    loser = second if winner == first else first
    status, body, _, _ = await workers.on(
        loser, "POST", "/api/v1/onboard/register", json=REGISTRATION, headers=bootstrap
    )
    assert (status, body["error"]) == (409, "bootstrap_token_consumed")
