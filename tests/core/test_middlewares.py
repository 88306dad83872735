"""Request ids and security headers on every response."""

from __future__ import annotations

import logging

from aiohttp import web

from agentvault_registry import hookimpl
from agentvault_registry.core.logs import configure_logging


class LoggingPlugin:
    @hookimpl
    def register_routes(self, settings):
        async def logs_something(request):
            logging.getLogger("avreg.test").warning("handled the request")
            return web.json_response({})

        return [web.get("/test/log", logs_something)]


async def test_a_request_id_is_minted_when_the_client_sends_none(client):
    first = await client.get("/health")
    second = await client.get("/health")
    assert len(first.headers["X-Request-ID"]) == 32
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


async def test_a_well_formed_client_request_id_is_echoed(client):
    response = await client.get("/health", headers={"X-Request-ID": "trace-abc.123"})
    assert response.headers["X-Request-ID"] == "trace-abc.123"


async def test_a_malformed_client_request_id_is_replaced(client):
    response = await client.get("/health", headers={"X-Request-ID": "bad id\twith <html>"})
    assert response.headers["X-Request-ID"] != "bad id\twith <html>"
    assert len(response.headers["X-Request-ID"]) == 32


async def test_security_headers_are_on_success_and_error_responses(client):
    for path in ("/health", "/nope"):
        response = await client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_log_lines_carry_the_request_id(aiohttp_client, make_app, capfd):
    client = await aiohttp_client(make_app(plugins=[("logging", LoggingPlugin())]))
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO", "json")
    try:
        await client.get("/test/log", headers={"X-Request-ID": "req-42"})
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [line for line in capfd.readouterr().err.splitlines() if "handled the request" in line]
    assert lines and '"request_id": "req-42"' in lines[0]
