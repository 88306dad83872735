"""JSON logs of a realistic workload: every line parses, access records are complete, and no
secret used along the way appears anywhere; the error-tracking hook gets every 500."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from aiohttp import web

from agentvault_registry import hookimpl
from agentvault_registry.core.appkeys import JWT_SECRET
from agentvault_registry.core.logs import AccessLogger, configure_logging
from agentvault_registry.core.periodic import PeriodicTask, run_round
from agentvault_registry.core.redaction import RedactionFilter, redact_text
from agentvault_registry.core.tasks import spawn
from support import ONBOARDING_LIMITS, PASSWORD, fast_registry, sign_up


class Failing:
    """A plugin with a route that raises, and an error reporter that notes what it got."""

    def __init__(self, reporter_fails: bool = False) -> None:
        self.reported: list[tuple[object, BaseException, object]] = []
        self.reporter_fails = reporter_fails

    @hookimpl
    def register_routes(self, settings):
        async def boom(request):
            raise RuntimeError(f"password={PASSWORD} went wrong")

        return [web.get("/test/boom", boom)]

    @hookimpl
    def report_exception(self, app, request, exception, request_id):
        self.reported.append((request, exception, request_id))
        if self.reporter_fails:
            raise ValueError("the tracker is down")


async def test_every_log_line_is_json_and_no_secret_is_logged(
    aiohttp_client, aiohttp_server, make_app
):
    failing = Failing()
    app = make_app(fast_registry(ONBOARDING_LIMITS), plugins=[("failing", failing)])
    client = await aiohttp_client(await aiohttp_server(app, access_log_class=AccessLogger))
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("DEBUG", "json", stream=stream)
    try:
        dev = await sign_up(client, "logger")
        bearer = dev.headers["Authorization"].removeprefix("Bearer ")
        created = await client.post(
            "/api/v1/auth/api-keys",
            json={"name": "ci", "scopes": ["agents:read"]},
            headers=dev.headers,
        )
        assert created.status == 201, await created.text()
        api_key = (await created.json())["key"]
        me = await client.get("/api/v1/auth/me", headers={"X-API-Key": api_key})
        assert me.status == 200, await me.text()
        minted = await client.post(
            "/api/v1/onboard/bootstrap/request-token", json={}, headers=dev.headers
        )
        bootstrap = (await minted.json())["bootstrap_token"]
        redeemed = await client.post(
            "/api/v1/onboard/register",
            json={
                "name": "Logged Agent",
                "description": "Logs.",
                "apiEndpoints": ["https://a.example.net/a2a"],
            },
            headers={"Bootstrap-Token": bootstrap},
        )
        agent_key = json.dumps(await redeemed.json())
        bad = await client.post(
            "/api/v1/auth/login", json={"username": "logger", "password": "wrong " + PASSWORD}
        )
        assert bad.status == 401
        boom = await client.get(f"/test/boom?token={bootstrap}&api_key={api_key}")
        assert boom.status == 500
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    output = stream.getvalue()
    records = [json.loads(line) for line in output.splitlines()]
    access = [r for r in records if r["logger"] == "aiohttp.access"]
    assert len(access) >= 8
    assert all("route" in r for r in access), [r["message"] for r in access if "route" not in r][:2]
    login = next(r for r in access if r["route"] == "/api/v1/auth/login" and r["status"] == 401)
    assert login["method"] == "POST" and login["latency_ms"] >= 0 and len(login["request_id"]) == 32
    keys = next(r for r in access if r["route"] == "/api/v1/auth/api-keys")
    assert keys["user_id"] == dev.user_id and keys["status"] == 201
    assert next(r for r in access if r["path"] == "/test/boom")["status"] == 500
    assert any("exception" in r for r in records)
    for secret in (PASSWORD, bearer, api_key, bootstrap, client.app[JWT_SECRET]):
        assert secret not in output
    for value in json.loads(agent_key).get("credentials", {}).values():
        if isinstance(value, str) and len(value) > 12:
            assert value not in output
    [(request, exception, request_id)] = failing.reported
    assert request.path == "/test/boom" and isinstance(exception, RuntimeError)
    assert request_id == boom.headers["X-Request-ID"]


async def test_the_access_record_names_the_client_a_trusted_proxy_forwarded_for(
    aiohttp_client, aiohttp_server, make_app
):
    app = make_app({"server": {"trusted_proxies": ["127.0.0.0/8"]}})
    client = await aiohttp_client(await aiohttp_server(app, access_log_class=AccessLogger))
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO", "json", stream=stream)
    try:
        response = await client.get("/health", headers={"X-Forwarded-For": "203.0.113.7"})
        assert response.status == 200
        await asyncio.sleep(0)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    [access] = [
        entry
        for entry in map(json.loads, stream.getvalue().splitlines())
        if entry["logger"] == "aiohttp.access"
    ]
    assert access["client"] == "203.0.113.7"


async def test_a_failing_error_reporter_changes_nothing_for_the_client(aiohttp_client, make_app):
    failing = Failing(reporter_fails=True)
    client = await aiohttp_client(make_app(plugins=[("failing", failing)]))
    response = await client.get("/test/boom")
    assert response.status == 500
    assert "request_id" in await response.json()
    assert len(failing.reported) == 1


def _record(msg, *args):
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, None)
    RedactionFilter().filter(record)
    return record.getMessage()


def test_the_filter_masks_password_fields_of_logged_dicts():
    message = _record("body %s", {"username": "u", "password": "hunter2-secret"})
    assert "hunter2-secret" not in message and "'u'" in message


def test_the_filter_masks_headers_tokens_and_query_values():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"
    text = redact_text(
        f"Authorization: Bearer abc.def Cookie: s=1 {jwt} avk_AbCdEf123 BST_abcDEF123"
        ' /x?token=t0k3n&page=2 {"password": "p@ss"}'
    )
    for secret in ("abc.def", "s=1", jwt, "avk_AbCdEf123", "BST_abcDEF123", "t0k3n", "p@ss"):
        assert secret not in text
    assert "page=2" in text


def test_the_filter_masks_secrets_in_tracebacks():
    try:
        raise ValueError("password=swordfish-123")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "x", (), sys.exc_info())
    RedactionFilter().filter(record)
    assert "swordfish-123" not in record.exc_text


async def test_a_failed_background_task_is_reported_without_a_request(aiohttp_client, make_app):
    failing = Failing()
    client = await aiohttp_client(make_app(plugins=[("failing", failing)]))

    async def breaks():
        raise LookupError("gone")

    task = spawn(client.app, breaks(), name="breaks")
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0)
    [(request, exception, request_id)] = failing.reported
    assert request is None and request_id is None and isinstance(exception, LookupError)


async def test_a_failed_periodic_round_is_reported(aiohttp_client, make_app):
    failing = Failing()
    client = await aiohttp_client(make_app(plugins=[("failing", failing)]))

    async def breaks(app):
        raise KeyError("round")

    task = PeriodicTask("test.breaks", 60, breaks, exclusive=False)
    assert await run_round(client.app, task, "holder")
    [(request, exception, _)] = failing.reported
    assert request is None and isinstance(exception, KeyError)


def test_text_format_keeps_a_readable_access_line(make_settings):
    settings, _ = make_settings({"logging": {"levels": {"aiohttp.access": "warning"}}})
    assert settings.logging.levels == {"aiohttp.access": "WARNING"}
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO", "text", levels={"avreg.quiet": "ERROR"}, stream=stream)
    try:
        logging.getLogger("avreg.quiet").warning("not shown")
        logging.getLogger("avreg.loud").warning("token=abc123secret shown")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        logging.getLogger("avreg.quiet").setLevel(logging.NOTSET)
    output = stream.getvalue()
    assert "not shown" not in output and "shown" in output and "abc123secret" not in output
