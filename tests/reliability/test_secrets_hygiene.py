"""The secrets-hygiene detector (tests/secrets_hygiene.py) catches planted leaks.

The plugin watches the whole suite; here it watches one registry with a plugin that leaks
on purpose, through a private :class:`Observer`, so the planted leaks fail this test's
assertions and not the run.
"""

from __future__ import annotations

import logging

from aiohttp import web

import secrets_hygiene
from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.plugins.auth import api_keys
from secrets_hygiene import MAIL, Observer, observing

log = logging.getLogger("leaky_plugin")


class LeakyPlugin:
    """Creates an API key in one response, then shows it again and logs it."""

    def __init__(self) -> None:
        self.key = None

    @hookimpl
    def register_routes(self, settings):
        async def create(request: web.Request) -> web.Response:
            _, self.key = api_keys._mint("someone", "planted", ["agents:read"])
            return web.json_response({"key": self.key})

        async def echo(request: web.Request) -> web.Response:
            return web.json_response({"again": self.key})

        async def stream(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            await response.write(f"data: {self.key}\n\n".encode())
            return response

        async def log_masked(request: web.Request) -> web.Response:
            log.warning("the key is %s", self.key)  # the product's redaction masks avk_ keys
            return web.json_response({})

        return [
            web.post("/leaky/keys", create),
            web.get("/leaky/echo", echo),
            web.get("/leaky/stream", stream),
            web.get("/leaky/log", log_masked),
        ]


async def test_the_detector_catches_planted_leaks_and_spares_the_creation(aiohttp_client, make_app):
    leaky = LeakyPlugin()
    client = await aiohttp_client(make_app(plugins=[("leaky", leaky)]))
    with observing(Observer()) as observer:
        created = await client.post("/leaky/keys")
        assert created.status == 200
        assert observer.leaks == [], "the creation response itself is no leak"
        assert observer.created[leaky.key].kind == "api key"

        await (await client.get("/leaky/log")).read()
        assert observer.leaks == [], "a masked log record shows no secret"

        await (await client.get("/leaky/echo")).read()
        await (await client.get("/leaky/stream")).read()

        # A mailed token has no shape: it is known only because it was created, and it
        # must never be in a log record outside the mail.
        observer.create("q" * 43, "one-time token", MAIL)
        log.warning("sent %s", "q" * 43)

    reasons = [(leak.kind, leak.where, leak.reason) for leak in observer.leaks]
    assert reasons == [
        (
            "api key",
            "the response to GET /leaky/echo",
            "shown again after its creation response",
        ),
        (
            "api key",
            "the response to GET /leaky/stream",
            "shown again after its creation response",
        ),
        ("one-time token", "a log record of leaky_plugin", "a secret in a log record"),
    ]
    # Redacted in the report: no more of a key than the registry itself shows.
    assert {leak.shown for leak in observer.leaks} == {leaky.key[:10], "q" * 10}
    assert observer.responses == 3 and observer.stream_chunks == 1


def test_a_secret_first_shown_by_another_request_or_outside_one_is_a_leak():
    observer = Observer()
    request = secrets_hygiene.Request(1, "GET", "/api/v1/auth/api-keys")
    observer.create("avk_" + "a" * 43, "api key")  # outside any request: by a test, say
    observer.check_response('{"key": "avk_' + "a" * 43 + '"}', request)
    observer.check_response("avk_" + "b" * 43, request)  # nobody here created it
    assert [leak.reason for leak in observer.leaks] == [
        "created outside any request, then shown in a response"
    ]
    assert len(observer.unknown_shaped) == 1
