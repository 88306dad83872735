"""Cross-origin access: none by default; listed origins get preflights and readable answers."""

from __future__ import annotations

import pytest

from agentvault_registry.core.errors import ConfigError

APP = "https://app.example.org"
CORS = {
    "cors": {
        "allow_origins": [APP, "http://localhost:3000"],
        "allow_credentials": True,
        "max_age": 120,
    }
}


def preflight_headers(origin=APP, method="POST", headers="Content-Type, Authorization"):
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


@pytest.fixture
async def cors_client(aiohttp_client, make_app):
    return await aiohttp_client(make_app(CORS))


async def test_by_default_no_origin_gets_cors_headers(client):
    response = await client.get("/health", headers={"Origin": APP})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = await client.options("/api/v1/auth/login", headers=preflight_headers())
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert preflight.status == 405
    assert (await preflight.json())["error"] == "method_not_allowed"


async def test_a_preflight_from_a_listed_origin_is_answered_204_with_the_policy(cors_client):
    response = await cors_client.options("/api/v1/auth/login", headers=preflight_headers())
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert response.headers["Access-Control-Max-Age"] == "120"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.headers["Vary"]
    assert response.headers["X-Request-ID"]


async def test_a_preflight_for_a_path_parameter_route_is_answered(cors_client):
    response = await cors_client.options(
        "/api/v1/agents/some-agent", headers=preflight_headers(method="DELETE", headers="")
    )
    assert response.status == 204


async def test_a_preflight_from_an_unknown_origin_gets_no_cors_headers(cors_client):
    response = await cors_client.options(
        "/api/v1/auth/login", headers=preflight_headers(origin="https://evil.example")
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.status == 405


@pytest.mark.parametrize(
    "headers",
    [
        preflight_headers(method="TRACE"),
        preflight_headers(headers="X-Not-Allowed"),
        preflight_headers(method="GET"),  # the login route takes POST only
    ],
)
async def test_a_preflight_asking_for_more_than_allowed_is_not_approved(cors_client, headers):
    response = await cors_client.options("/api/v1/auth/login", headers=headers)
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_a_preflight_for_an_unknown_route_is_a_404(cors_client):
    response = await cors_client.options("/api/v1/no-such-thing", headers=preflight_headers())
    assert response.status == 404
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_an_actual_request_from_a_listed_origin_can_read_the_answer(cors_client):
    response = await cors_client.get("/health", headers={"Origin": "http://localhost:3000"})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert {"X-Request-ID", "ETag", "Retry-After"} <= {name.strip() for name in exposed.split(",")}
    assert "Origin" in response.headers["Vary"]


async def test_error_answers_carry_the_cors_headers_too(cors_client):
    response = await cors_client.post(
        "/api/v1/auth/login",
        data=b"{not json",
        headers={"Origin": APP, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert response.headers["Access-Control-Allow-Origin"] == APP


async def test_an_unknown_origin_gets_no_cors_headers_but_the_answer_varies(cors_client):
    response = await cors_client.get("/health", headers={"Origin": "https://evil.example"})
    assert response.status == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


async def test_a_wildcard_without_credentials_answers_any_origin(aiohttp_client, make_app):
    client = await aiohttp_client(make_app({"cors": {"allow_origins": ["*"]}}))
    response = await client.get("/health", headers={"Origin": "https://anyone.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(
    ("cors", "field"),
    [
        ({"allow_origins": ["*"], "allow_credentials": True}, "cors.allow_origins"),
        ({"allow_origins": ["https://app.example.org/"]}, "cors.allow_origins"),
        ({"allow_origins": ["app.example.org"]}, "cors.allow_origins"),
        ({"allow_methods": ["BREW"]}, "cors.allow_methods"),
        ({"max_age": -1}, "cors.max_age"),
        ({"allow_origin": [APP]}, "cors.allow_origin"),
    ],
)
def test_a_bad_cors_section_is_a_config_problem(make_settings, cors, field):
    with pytest.raises(ConfigError) as caught:
        make_settings({"cors": cors})
    assert any(problem.startswith(field) for problem in caught.value.problems), caught.value


def test_cors_origins_come_from_the_environment(make_settings):
    settings, _ = make_settings(environ={"AVREG_CORS__ALLOW_ORIGINS": f'["{APP}"]'})
    assert settings.cors.allow_origins == (APP,)
    assert settings.cors.allow_credentials is False
