"""Every failure reaches the client in the one JSON error shape, with the right status."""

from __future__ import annotations

import pytest
from aiohttp import web
from marshmallow import Schema, fields, validate

from agentvault_registry import BackendError, hookimpl
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.core.requests import read_json

ERROR_KEYS = {"error", "message", "details", "request_id"}


class EchoSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=20))
    count = fields.Integer(required=True)
    nested = fields.Nested(
        Schema.from_dict({"size": fields.Integer(required=True)}), load_default=None
    )


class EchoPlugin:
    """Routes that exercise body parsing and failure paths, as a feature plugin would."""

    @hookimpl
    def register_routes(self, settings):
        @api_doc("Echo a validated body", tags=["test"], body=EchoSchema, response=EchoSchema)
        async def echo(request):
            return web.json_response(await read_json(request, EchoSchema()))

        async def crash(request):
            raise RuntimeError("secret internal detail")

        async def gone(request):
            raise web.HTTPGone()

        async def moved(request):
            raise web.HTTPFound("/health")

        async def reads_body_itself(request):
            return web.json_response(await request.json())

        async def backend_down(request):
            raise BackendError("The cache backend is unavailable.", backend="cache")

        return [
            web.post("/api/v1/test/echo", echo),
            web.get("/api/v1/test/crash", crash),
            web.get("/api/v1/test/backend-down", backend_down),
            web.get("/api/v1/test/gone", gone),
            web.get("/api/v1/test/moved", moved),
            web.post("/api/v1/test/raw", reads_body_itself),
        ]


async def echo_client(aiohttp_client, make_app, **overrides):
    return await aiohttp_client(make_app(overrides, plugins=[("echo", EchoPlugin())]))


async def assert_error(response, status, code):
    assert response.status == status
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == ERROR_KEYS
    assert body["error"] == code
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


async def test_valid_body_is_accepted(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post("/api/v1/test/echo", json={"name": "a", "count": 2})
    assert response.status == 200
    assert await response.json() == {"name": "a", "count": 2, "nested": None}


async def test_malformed_json_is_400_with_position(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post(
        "/api/v1/test/echo", data=b'{"name": "a",', headers={"Content-Type": "application/json"}
    )
    body = await assert_error(response, 400, "malformed_json")
    assert body["details"]["line"] == 1


async def test_empty_body_is_400(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post(
        "/api/v1/test/echo", data=b"", headers={"Content-Type": "application/json"}
    )
    await assert_error(response, 400, "malformed_json")


async def test_invalid_utf8_is_400(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post(
        "/api/v1/test/echo", data=b'{"name": "\xff"}', headers={"Content-Type": "application/json"}
    )
    await assert_error(response, 400, "malformed_json")


async def test_non_json_content_type_is_415(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post("/api/v1/test/echo", data="name=a")
    await assert_error(response, 415, "unsupported_media_type")


async def test_wrong_types_are_422_with_field_paths(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post(
        "/api/v1/test/echo", json={"name": 5, "count": "many", "nested": {"size": "x"}}
    )
    body = await assert_error(response, 422, "validation_failed")
    assert set(body["details"]) == {"name", "count", "nested"}
    assert "size" in body["details"]["nested"]


async def test_unknown_fields_are_422(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post(
        "/api/v1/test/echo", json={"name": "a", "count": 1, "developer_id": "me"}
    )
    body = await assert_error(response, 422, "validation_failed")
    assert "developer_id" in body["details"]


async def test_a_json_array_instead_of_an_object_is_422(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post("/api/v1/test/echo", json=[1, 2])
    body = await assert_error(response, 422, "validation_failed")
    assert "array" in body["details"]["_schema"][0]


async def test_body_over_the_limit_is_413_by_content_length(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app, server={"max_body_size": 2048})
    response = await client.post(
        "/api/v1/test/echo",
        data=b'{"name": "' + b"x" * 4096 + b'", "count": 1}',
        headers={"Content-Type": "application/json"},
    )
    body = await assert_error(response, 413, "payload_too_large")
    assert body["details"]["max_bytes"] == 2048


async def test_chunked_body_over_the_limit_is_413(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app, server={"max_body_size": 2048})

    async def chunks():
        yield b'{"name": "'
        for _ in range(8):
            yield b"x" * 1024
        yield b'", "count": 1}'

    response = await client.post(
        "/api/v1/test/echo", data=chunks(), headers={"Content-Type": "application/json"}
    )
    await assert_error(response, 413, "payload_too_large")


async def test_unknown_route_is_404(client):
    response = await client.get("/api/v1/no-such-thing")
    await assert_error(response, 404, "not_found")


async def test_wrong_method_is_405_with_allow(client):
    response = await client.delete("/health")
    await assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


async def test_unexpected_exception_is_500_without_leaking(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.get("/api/v1/test/crash")
    body = await assert_error(response, 500, "internal_error")
    assert "secret internal detail" not in await response.text()
    assert body["message"] == "Internal server error."


async def test_backend_error_is_503_with_retry_after(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.get("/api/v1/test/backend-down")
    body = await assert_error(response, 503, "backend_unavailable")
    assert int(response.headers["Retry-After"]) >= 1
    assert body["details"] == {"backend": "cache"}


async def test_an_aiohttp_exception_from_a_plugin_keeps_its_status_in_the_json_shape(
    aiohttp_client, make_app
):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.get("/api/v1/test/gone")
    body = await assert_error(response, 410, "http_error")
    assert body["message"] == "Gone"


async def test_a_static_directory_listing_is_refused_as_json(client):
    response = await client.get("/api/docs/static/")
    await assert_error(response, 403, "forbidden")


async def test_static_path_traversal_finds_nothing(client):
    response = await client.get("/api/docs/static/%2e%2e/%2e%2e/errors.py")
    await assert_error(response, 404, "not_found")


async def test_deeply_nested_json_is_400_not_500(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post(
        "/api/v1/test/echo", data=b"[" * 100_000, headers={"Content-Type": "application/json"}
    )
    await assert_error(response, 400, "malformed_json")


async def test_non_finite_numbers_are_refused(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post(
        "/api/v1/test/echo",
        data=b'{"name": "a", "count": NaN}',
        headers={"Content-Type": "application/json"},
    )
    body = await assert_error(response, 400, "malformed_json")
    assert "NaN" in body["message"]


@pytest.mark.parametrize(
    ("number", "said"),
    [(b"1e400", "out of range"), (b"-1e400", "out of range"), (b"9" * 5000, "too long")],
)
async def test_numbers_no_backend_can_keep_are_refused(aiohttp_client, make_app, number, said):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post(
        "/api/v1/test/echo",
        data=b'{"name": "a", "count": ' + number + b"}",
        headers={"Content-Type": "application/json"},
    )
    body = await assert_error(response, 400, "malformed_json")
    assert said in body["message"]


async def test_a_plugin_reading_malformed_json_itself_still_gets_400(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.post(
        "/api/v1/test/raw", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    await assert_error(response, 400, "malformed_json")


async def test_a_redirect_carries_the_request_id_and_security_headers(aiohttp_client, make_app):
    client = await echo_client(aiohttp_client, make_app)
    response = await client.get("/api/v1/test/moved", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/health"
    assert len(response.headers["X-Request-ID"]) == 32
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_backend_errors_are_logged_with_their_cause(aiohttp_client, make_app, caplog):
    client = await echo_client(aiohttp_client, make_app)
    await client.get("/api/v1/test/backend-down")
    assert "GET /api/v1/test/backend-down: The cache backend is unavailable." in caplog.text
