"""Small helpers shared by test modules and conftests (importable as ``support``)."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import os
import re
import secrets
import socket
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import pytest

from agentvault_registry.core import hookspecs
from agentvault_registry.plugins.auth.appkeys import AUTH_SERVICE
from agentvault_registry.plugins.mail.appkeys import MAILER

PASSWORD = "correct horse battery staple 42"
#: Rate limits that signing developers up and onboarding their agents would reach by accident.
ONBOARDING_LIMITS = (
    "auth.login",
    "auth.register",
    "auth.refresh",
    "auth.login_failures",
    "auth.verify_email",
    "auth.api_keys",
    "agents.create",
    "bootstrap.request",
    "onboard.register_failures",
)


def hookspec_functions() -> list[Callable[..., Any]]:
    """Every hookspec of :mod:`agentvault_registry.core.hookspecs`."""
    return [
        function
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if function.__module__ == hookspecs.__name__
        and hasattr(function, "agentvault_registry_spec")
    ]


# Test ports come from below the kernel's ephemeral range (32768-60999 on Linux), so no bind(0)
# and no outgoing connection, of this run or of any other process, is ever handed one between
# free_port() choosing it and a server binding it. Each pytest-xdist worker draws from a block
# of its own, so two workers never choose the same port. The random start keeps two pytest runs
# on one machine (and a worker xdist restarted after a crash, which shares a block) apart.
_PORTS_FROM, _PORTS_TO = 20000, 32768


def fail_session(session: pytest.Session, headline: str, lines: list[str]) -> None:
    """Fail the run at its end (from ``pytest_sessionfinish``) with ``headline`` and lines."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.line("")  # after the progress line, which has no newline yet
        reporter.write_line(headline, red=True)
        for line in lines:
            reporter.write_line(f"  {line}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _port_block() -> range:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1"...; unset without xdist
    index = 1 + int(worker.removeprefix("gw")) % workers if worker else 0
    size = (_PORTS_TO - _PORTS_FROM) // (workers + 1)
    return range(_PORTS_FROM + index * size, _PORTS_FROM + (index + 1) * size)


_PORT_BLOCK = _port_block()
_next_port = itertools.count(secrets.randbelow(len(_PORT_BLOCK)))


def free_port() -> int:
    """A loopback TCP port nothing is bound to right now, from this process's own block."""
    for _ in _PORT_BLOCK:
        port = _PORT_BLOCK[next(_next_port) % len(_PORT_BLOCK)]
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # a server still running, or another program's
                continue
        return port
    raise OSError(f"every loopback port in {_PORT_BLOCK} is in use")


def merged(base: dict, extra: dict) -> dict:
    """``base`` config overrides with ``extra`` laid over them, section by section."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = {**result[key], **value}
        else:
            result[key] = value
    return result


def fast_registry(limits: Iterable[str], **extra: Any) -> dict[str, Any]:
    """Overrides of a registry under test: bcrypt at its minimum cost and ``limits`` out of any
    test's reach, ``extra`` laid over them section by section."""
    overrides: dict[str, Any] = {
        "plugins": {"auth": {"bcrypt_cost": 4}},
        "rate_limits": {name: "100000/minute" for name in limits},
    }
    return merged(overrides, extra)


# ------------------------------------------------------------------- developers, agents


class SignedUp(NamedTuple):
    """An account signed up through the API: bearer headers of its access token, its id."""

    headers: dict[str, str]
    user_id: str


async def _mail_count_reaches(app, count: int) -> None:
    for _ in range(250):
        if len(app[MAILER].outbox) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} mails, got {len(app[MAILER].outbox)}")


async def sign_up(
    client, username: str, *, verified: bool = True, role: str | None = None
) -> SignedUp:
    """Sign ``username`` (``<username>@example.org``) up through the API, verify the email
    through the mailed link unless told not to, give it ``role`` when set, and log in."""
    email = f"{username}@example.org"
    mails_before = len(client.app[MAILER].outbox) if verified else 0
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "username": username, "password": PASSWORD},
    )
    assert registered.status == 201, await registered.text()
    user_id = (await registered.json())["id"]
    if verified:
        await _mail_count_reaches(client.app, mails_before + 1)
        mail = next(m for m in reversed(client.app[MAILER].outbox) if m.to == email)
        token = re.search(r"verify-email#token=([A-Za-z0-9_\-]+)", mail.text).group(1)
        confirmed = await client.post("/api/v1/auth/verify-email", json={"token": token})
        assert confirmed.status == 200, await confirmed.text()
    if role is not None:
        await client.app[AUTH_SERVICE].set_role(user_id, role)
    login = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert login.status == 200, await login.text()
    return SignedUp({"Authorization": f"Bearer {(await login.json())['access_token']}"}, user_id)


async def register_agent(client, headers, name: str = "Echo", **body: Any) -> dict[str, Any]:
    """Register an agent through the API (``body`` adds or overrides fields); its JSON."""
    payload = {
        "name": name,
        "description": "Echoes what it is told.",
        "apiEndpoints": ["https://echo.example.com/a2a"],
    } | body
    response = await client.post("/api/v1/agents", json=payload, headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


async def self_onboarded(
    client, developer: dict[str, str], registration: dict[str, Any]
) -> dict[str, Any]:
    """An agent that registered itself with a bootstrap token its ``developer`` (bearer
    headers) minted: the 201 body of POST /onboard/register (``agent`` and ``credentials``)."""
    minted = await client.post(
        "/api/v1/onboard/bootstrap/request-token", json={}, headers=developer
    )
    assert minted.status == 201, await minted.text()
    registered = await client.post(
        "/api/v1/onboard/register",
        json=registration,
        headers={"Bootstrap-Token": (await minted.json())["bootstrap_token"]},
    )
    assert registered.status == 201, await registered.text()
    return await registered.json()
