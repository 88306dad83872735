"""What the TEG's failures become: 503 teg_unavailable (with Retry-After) when trying again
later may help, 502 teg_refused or teg_bad_response when it will not; never a 500."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate

import pytest
from aiohttp import web
from teg_helpers import ask_token, onboarded_agent

from agentvault_registry.plugins.teg_bridge.bridge import MAX_TOKEN_RESPONSE_BYTES
from agentvault_registry.plugins.teg_bridge.service import MAX_RETRY_AFTER
from fake_teg import oauth_error
from support import free_port


async def _answered(bridged_registry, fake_teg, behaviour, options=None):
    fake_teg.behaviour = behaviour
    client = await bridged_registry(options)
    agent = await onboarded_agent(client)
    response = await ask_token(client, agent)
    return response, await response.json()


async def test_a_teg_refusing_connections_is_unavailable(bridged_registry):
    closed = f"http://127.0.0.1:{free_port()}/oauth/token"
    client = await bridged_registry({"token_url": closed})
    agent = await onboarded_agent(client)
    response = await ask_token(client, agent)
    assert response.status == 503
    assert int(response.headers["Retry-After"]) >= 1
    body = await response.json()
    assert body["error"] == "teg_unavailable"
    assert body["details"] == {"reason": "unreachable"}


async def test_a_hanging_teg_times_out_as_unavailable(bridged_registry, fake_teg):
    async def hanging(request):
        await asyncio.sleep(3600)

    loop = asyncio.get_running_loop()
    started = loop.time()
    response, body = await _answered(bridged_registry, fake_teg, hanging, {"timeout": 0.3})
    assert response.status == 503
    assert body["error"] == "teg_unavailable"
    assert body["details"] == {"reason": "timeout"}
    assert "Retry-After" in response.headers
    assert loop.time() - started < 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_failing_teg_is_unavailable(bridged_registry, fake_teg, status):
    async def failing(request):
        return web.Response(status=status, text="upstream trouble")

    response, body = await _answered(bridged_registry, fake_teg, failing)
    assert response.status == 503
    assert body["error"] == "teg_unavailable"
    assert body["details"] == {"status": status}
    assert response.headers["Retry-After"] == "5"


@pytest.mark.parametrize(
    ("sent", "passed_on"),
    [("17", "17"), ("0", "1"), ("86400", str(MAX_RETRY_AFTER)), ("soon", "5"), (None, "5")],
)
async def test_a_teg_limiting_us_is_unavailable_for_as_long_as_it_says(
    bridged_registry, fake_teg, sent, passed_on
):
    async def limiting(request):
        headers = {} if sent is None else {"Retry-After": sent}
        return web.json_response({"error": "slow_down"}, status=429, headers=headers)

    response, body = await _answered(bridged_registry, fake_teg, limiting)
    assert response.status == 503
    assert body["error"] == "teg_unavailable"
    assert response.headers["Retry-After"] == passed_on


async def test_a_retry_after_date_becomes_seconds(bridged_registry, fake_teg):
    async def limiting(request):
        in_a_minute = formatdate(time.time() + 60, usegmt=True)
        return web.Response(status=503, headers={"Retry-After": in_a_minute})

    response, _ = await _answered(bridged_registry, fake_teg, limiting)
    assert response.status == 503
    assert 55 <= int(response.headers["Retry-After"]) <= 61


@pytest.mark.parametrize("status", [400, 401, 403])
async def test_an_oauth_refusal_is_passed_on_as_a_bad_gateway(bridged_registry, fake_teg, status):
    async def refusing(request):
        return oauth_error(status, "invalid_grant", "The agent is not enrolled in this TEG.")

    response, body = await _answered(bridged_registry, fake_teg, refusing)
    assert response.status == 502
    assert body["error"] == "teg_refused"
    assert body["details"] == {
        "status": status,
        "error": "invalid_grant",
        "error_description": "The agent is not enrolled in this TEG.",
    }


async def test_a_refusal_without_description_says_so(bridged_registry, fake_teg):
    async def refusing(request):
        return web.json_response({"error": "invalid_scope"}, status=400)

    response, body = await _answered(bridged_registry, fake_teg, refusing)
    assert response.status == 502
    assert body["details"] == {"status": 400, "error": "invalid_scope", "error_description": None}


def _json(document, status=200):
    async def answer(request):
        return web.json_response(document, status=status)

    return answer


def _text(text, status=200, content_type="text/html"):
    async def answer(request):
        return web.Response(text=text, status=status, content_type=content_type)

    return answer


#: The token in the nonsense answers: it must never reach the agent.
SECRET = "teg-secret-access-token"


def _token(**changes):
    document = {"access_token": SECRET, "token_type": "Bearer", "expires_in": 60} | changes
    return _json({name: value for name, value in document.items() if value is not ...})


async def _redirecting(request):
    raise web.HTTPTemporaryRedirect("http://169.254.169.254/latest/meta-data/")


@pytest.mark.parametrize(
    "behaviour",
    [
        _text("<html>hello</html>"),
        _text(f'{{"access_token": "{SECRET}", "token_type": "Bearer", "expires_in": 60'),
        _json(["access_token", SECRET]),
        _json(SECRET),
        _token(access_token=...),
        _token(access_token=""),
        _token(access_token=42),
        _token(token_type=...),
        _token(token_type="mac"),
        _token(expires_in=...),
        _token(expires_in="3600"),
        _token(expires_in=0),
        _token(expires_in=-60),
        _token(expires_in=True),
        _token(expires_in=60.5),
        _token(scope="agent:economics  agent:reputation"),
        _text("Bad request", status=400, content_type="text/plain"),
        _json({"error": 5}, status=400),
        _json({"error": "bad\\error"}, status=401),
        _json({"message": "no such thing"}, status=404),
        _json({"access_token": SECRET}, status=302),
        _redirecting,
        _text("[" + " " * MAX_TOKEN_RESPONSE_BYTES + "]", content_type="application/json"),
    ],
    ids=[
        "html",
        "truncated-json",
        "array",
        "string",
        "no-access-token",
        "empty-access-token",
        "numeric-access-token",
        "no-token-type",
        "mac-token-type",
        "no-expires-in",
        "string-expires-in",
        "zero-expires-in",
        "negative-expires-in",
        "boolean-expires-in",
        "fractional-expires-in",
        "malformed-scope",
        "400-not-json",
        "400-numeric-error",
        "401-error-with-backslash",
        "404",
        "302-without-location",
        "redirect",
        "too-large",
    ],
)
async def test_nonsense_from_the_teg_is_a_bad_gateway(bridged_registry, fake_teg, behaviour):
    response, body = await _answered(bridged_registry, fake_teg, behaviour)
    assert response.status == 502, body
    assert body["error"] == "teg_bad_response"
    assert SECRET not in await response.text()


async def test_a_granted_scope_the_teg_names_is_what_the_agent_gets(bridged_registry, fake_teg):
    response, body = await _answered(
        bridged_registry, fake_teg, _token(scope="agent:economics", token_type="BEARER")
    )
    assert response.status == 200
    assert body["scope"] == "agent:economics"
    assert body["token_type"] == "Bearer"


async def test_a_token_url_naming_a_private_host_is_refused_when_connecting(
    bridged_registry, fake_teg
):
    # localhost is a name, not an address: it is checked on the address connected to.
    hidden = fake_teg.url.replace("127.0.0.1", "localhost")
    client = await bridged_registry({"token_url": hidden, "allow_private": False})
    agent = await onboarded_agent(client)
    response = await ask_token(client, agent)
    assert response.status == 502
    body = await response.json()
    assert body["error"] == "teg_bad_response"
    assert body["details"] == {"reason": "refused"}
    assert fake_teg.calls == []
