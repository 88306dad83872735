"""Named rate limits: declared by plugins, configured by operators, applied by one decorator.

Through the HTTP API with a test plugin that declares limits and serves limited routes; the
limiter's own API directly, with a controllable clock and the real memory cache.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web

from agentvault_registry import Conflict, InvalidCredentials, hookimpl
from agentvault_registry.core.appkeys import RATE_LIMITER
from agentvault_registry.core.errors import BackendError, ConfigError, RateLimited
from agentvault_registry.core.identity import Identity, requires
from agentvault_registry.core.openapi import api_doc
from agentvault_registry.core.ratelimit import LOCAL, RateLimit, RateLimiter, rate_limit
from agentvault_registry.core.ratelimit.limiter import LocalCounters
from agentvault_registry.storage_backends.memory_cache import MemoryCache

LIMIT = 3
DAY = 86_400
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@api_doc("A limited test route", tags=["test"])
@rate_limit("test.limited")
async def limited(request):
    return web.json_response({"ok": True})


@rate_limit("test.limited")
async def limited_conflict(request):
    raise Conflict("Always in conflict.")


@api_doc("An unlimited test route", tags=["test"])
async def free(request):
    return web.json_response({"ok": True})


class LimitedRoutes:
    """Declares ``test.limited`` (3/day) and serves it; ``X-Test-User`` names the caller."""

    @hookimpl
    def register_rate_limits(self):
        return [RateLimit("test.limited", f"{LIMIT}/day", description="A test route.")]

    @hookimpl
    def register_routes(self, settings):
        return [
            web.post("/test/limited", limited),
            web.post("/test/conflict", limited_conflict),
            web.get("/test/free", free),
        ]

    @hookimpl
    def identity_from_request(self, request):
        user = request.headers.get("X-Test-User")
        if user == "bad":
            raise InvalidCredentials()
        return None if user is None else Identity(kind="user", subject=user, plugin="test")


def limited_app(make_app, overrides=None):
    return make_app(overrides, plugins=[("limited_routes", LimitedRoutes())])


def trusting_proxies(extra=None):
    """The test client connects from loopback: make loopback the registry's proxy."""
    return {"server": {"trusted_proxies": ["127.0.0.0/8", "::1/128"]}, **(extra or {})}


async def statuses(client, count, path="/test/limited", headers=None):
    async def one():
        async with client.post(path, headers=headers) as response:
            return response.status

    return await asyncio.gather(*(one() for _ in range(count)))


# ------------------------------------------------------------------------ over HTTP


async def test_the_limit_passes_then_answers_429_with_headers_and_the_error_shape(
    aiohttp_client, make_app
):
    client = await aiohttp_client(limited_app(make_app))
    for _ in range(LIMIT):
        assert (await client.post("/test/limited")).status == 200

    response = await client.post("/test/limited")
    assert response.status == 429
    body = await response.json()
    assert set(body) == {"error", "message", "details", "request_id"}
    assert body["error"] == "rate_limited"
    assert body["details"]["limit"] == "test.limited"
    assert body["request_id"] == response.headers["X-Request-ID"]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= DAY
    assert response.headers["X-RateLimit-Limit"] == str(LIMIT)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) in {retry_after, retry_after - 1}


async def test_answers_carry_the_rate_limit_headers(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app))
    remaining = []
    for _ in range(LIMIT):
        response = await client.post("/test/limited")
        assert response.headers["X-RateLimit-Limit"] == str(LIMIT)
        assert 0 < int(response.headers["X-RateLimit-Reset"]) <= DAY
        remaining.append(response.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]

    unlimited = await client.get("/test/free")
    assert not any(header in unlimited.headers for header in RATE_HEADERS)


async def test_errors_from_a_limited_view_carry_the_headers_too(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app))
    response = await client.post("/test/conflict")
    assert response.status == 409
    assert response.headers["X-RateLimit-Remaining"] == str(LIMIT - 1)


async def test_each_client_ip_has_its_own_counter(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app, trusting_proxies()))
    first = {"X-Forwarded-For": "10.0.0.1, 203.0.113.7"}
    second = {"X-Forwarded-For": "2001:db8::1"}
    assert await statuses(client, LIMIT + 1, headers=first) == [200] * LIMIT + [429]
    assert await statuses(client, LIMIT, headers=second) == [200] * LIMIT


async def test_a_client_cannot_pick_its_key_by_prepending_addresses(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app, trusting_proxies()))
    # The proxy appends the real client (198.51.100.9); what the client wrote comes first.
    for number in range(LIMIT):
        spoofed = {"X-Forwarded-For": f"203.0.113.{number}, 198.51.100.9"}
        assert (await client.post("/test/limited", headers=spoofed)).status == 200
    spoofed = {"X-Forwarded-For": "203.0.113.99, 198.51.100.9"}
    assert (await client.post("/test/limited", headers=spoofed)).status == 429


async def test_forwarded_for_is_ignored_unless_trusted(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app))
    for number in range(LIMIT):
        forwarded = {"X-Forwarded-For": f"203.0.113.{number}"}
        assert (await client.post("/test/limited", headers=forwarded)).status == 200
    forwarded = {"X-Forwarded-For": "203.0.113.99"}
    assert (await client.post("/test/limited", headers=forwarded)).status == 429


async def test_a_garbage_forwarded_for_falls_back_to_the_peer_address(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app, trusting_proxies()))
    for junk in ("not-an-ip", "", "1.2.3"):
        assert (await client.post("/test/limited", headers={"X-Forwarded-For": junk})).status == 200
    assert (await client.post("/test/limited")).status == 429


async def test_an_authenticated_caller_is_limited_whatever_its_ip(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app, trusting_proxies()))
    for number in range(LIMIT):
        headers = {"X-Test-User": "alice", "X-Forwarded-For": f"203.0.113.{number}"}
        assert (await client.post("/test/limited", headers=headers)).status == 200

    headers = {"X-Test-User": "alice", "X-Forwarded-For": "203.0.113.50"}
    response = await client.post("/test/limited", headers=headers)
    assert response.status == 429
    assert response.headers["X-RateLimit-Remaining"] == "0"
    other_user = {"X-Test-User": "bob", "X-Forwarded-For": "203.0.113.50"}
    assert (await client.post("/test/limited", headers=other_user)).status == 200


async def test_the_ip_counter_also_limits_authenticated_callers(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app))
    for user in ("alice", "bob", "carol"):
        assert (await client.post("/test/limited", headers={"X-Test-User": user})).status == 200
    assert (await client.post("/test/limited", headers={"X-Test-User": "dave"})).status == 429


async def test_the_tighter_counter_names_the_remaining_hits(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app, trusting_proxies()))
    alice = {"X-Test-User": "alice", "X-Forwarded-For": "203.0.113.1"}
    await client.post("/test/limited", headers=alice)
    await client.post("/test/limited", headers=alice)
    elsewhere = {"X-Test-User": "alice", "X-Forwarded-For": "203.0.113.2"}
    response = await client.post("/test/limited", headers=elsewhere)
    # The new IP has two hits left; alice herself has none.
    assert response.headers["X-RateLimit-Remaining"] == "0"


async def test_bad_credentials_count_against_the_ip(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app))
    for _ in range(LIMIT):
        assert (await client.post("/test/limited", headers={"X-Test-User": "bad"})).status == 401
    assert (await client.post("/test/limited")).status == 429


async def test_config_overrides_the_declared_rate(aiohttp_client, make_app):
    client = await aiohttp_client(
        limited_app(make_app, {"rate_limits": {"test.limited": "1 per day"}})
    )
    assert (await client.post("/test/limited")).headers["X-RateLimit-Limit"] == "1"
    assert (await client.post("/test/limited")).status == 429


async def test_requests_at_once_get_exactly_the_limit(aiohttp_client, make_app):
    client = await aiohttp_client(
        limited_app(make_app, {"rate_limits": {"test.limited": "10/day"}})
    )
    answers = await statuses(client, 15)
    assert answers.count(200) == 10
    assert answers.count(429) == 5


@pytest.mark.redis
async def test_requests_at_once_get_exactly_the_limit_on_redis(
    aiohttp_client, make_app, redis_server_url, redis_key_prefix
):
    cache = {"backend": "redis", "url": redis_server_url, "key_prefix": redis_key_prefix}
    overrides = {"storage": {"cache": cache}, "rate_limits": {"test.limited": "10/day"}}
    client = await aiohttp_client(limited_app(make_app, overrides))
    answers = await statuses(client, 15)
    assert answers.count(200) == 10
    assert answers.count(429) == 5


async def test_service_code_counts_through_the_app_limiter(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app))
    limiter = client.app[RATE_LIMITER]
    for _ in range(LIMIT):
        await limiter.check("test.limited", "account:alice")
    with pytest.raises(RateLimited):
        await limiter.check("test.limited", "account:alice")
    # Other scopes are other counters; the decorator's per-IP one is the same limiter's.
    assert (await client.post("/test/limited")).headers["X-RateLimit-Remaining"] == "2"
    await limiter.hit("test.limited", "ip:127.0.0.1")
    assert (await client.post("/test/limited")).headers["X-RateLimit-Remaining"] == "0"


async def test_openapi_documents_429_on_limited_routes_only(aiohttp_client, make_app):
    client = await aiohttp_client(limited_app(make_app))
    paths = (await (await client.get("/api/v1/openapi.json")).json())["paths"]
    responses = paths["/test/limited"]["post"]["responses"]
    assert "test.limited" in responses["429"]["description"]
    assert "429" not in paths["/test/free"]["get"]["responses"]


# ------------------------------------------------------------------------- config


def test_the_rate_is_read_from_the_file_env_and_command_line(tmp_path, make_settings):
    plugins = [("limited_routes", LimitedRoutes())]
    config_file = tmp_path / "registry.toml"
    config_file.write_text('[rate_limits]\ntest.limited = "7/hour"\n')
    settings, _ = make_settings(plugins=plugins, config_file=config_file)
    assert settings.rate_limits == {"test.limited": "7/hour"}

    environ = {"AVREG_RATE_LIMITS__TEST__LIMITED": "8/hour"}
    settings, _ = make_settings(plugins=plugins, config_file=config_file, environ=environ)
    assert settings.rate_limits == {"test.limited": "8/hour"}

    overrides = {"rate_limits": {"test.limited": "9/hour"}}
    settings, _ = make_settings(overrides, plugins=plugins, environ=environ)
    assert settings.rate_limits == {"test.limited": "9/hour"}
    assert settings.server.trusted_proxies == ()


@pytest.mark.parametrize("rate", ["fast", "5/fortnight", "0/minute", "5/minute;10/hour", 5])
def test_an_invalid_rate_is_one_problem_naming_the_key(make_settings, rate):
    with pytest.raises(ConfigError) as caught:
        make_settings(
            {"rate_limits": {"test.limited": rate}}, plugins=[("limited", LimitedRoutes())]
        )
    [problem] = caught.value.problems
    assert problem.startswith("rate_limits.test.limited (from command line): ")


def test_an_undeclared_limit_name_is_one_problem(tmp_path, make_settings):
    config_file = tmp_path / "registry.toml"
    config_file.write_text('[rate_limits]\n"auth.logn" = "5/minute"\n')
    with pytest.raises(ConfigError) as caught:
        make_settings(plugins=[("limited", LimitedRoutes())], config_file=config_file)
    [problem] = caught.value.problems
    assert problem.startswith(f"rate_limits.auth.logn (from file {config_file}): ")
    assert "no loaded plugin declares a rate limit named 'auth.logn'" in problem
    assert "test.limited" in problem.partition("declared: ")[2]


class BadDeclarations:
    @hookimpl
    def register_rate_limits(self):
        return [
            RateLimit("test.limited", "1/day"),
            RateLimit("Bad Name", "1/day"),
            RateLimit("test.bad_rate", "often"),
            RateLimit("test.bad_policy", "1/day", when_cache_down="open"),
            "test.not_a_declaration",
        ]


def test_bad_declarations_stop_startup_naming_the_plugin(make_settings):
    with pytest.raises(ConfigError) as caught:
        make_settings(plugins=[("limited", LimitedRoutes()), ("bad", BadDeclarations())])
    problems = caught.value.problems
    assert len(problems) == 5
    joined = "\n".join(problems)
    assert "declares rate limit 'test.limited', which plugin" in joined
    assert all(problem.startswith("plugin 'bad' declares a bad") for problem in problems[:4])
    assert "'Bad Name'" in joined and "'often' is not a rate" in joined
    assert "not 'open'" in joined and "'test.not_a_declaration' is not a RateLimit" in joined


class UndeclaredRoute:
    @hookimpl
    def register_routes(self, settings):
        return [web.get("/test/undeclared", rate_limit("test.nobody")(free))]


class CallerOnlyRoutes:
    """``test.limited`` per caller only: one route behind ``@requires``, one not."""

    def __init__(self, guarded: bool) -> None:
        self.guarded = guarded

    @hookimpl
    def register_rate_limits(self):
        return [RateLimit("test.limited", f"{LIMIT}/day")]

    @hookimpl
    def register_routes(self, settings):
        view = rate_limit("test.limited", per_ip=False)(free)
        return [web.get("/test/caller-only", requires()(view) if self.guarded else view)]

    @hookimpl
    def identity_from_request(self, request):
        user = request.headers.get("X-Test-User")
        kind = request.headers.get("X-Test-Kind", "user")
        return None if user is None else Identity(kind=kind, subject=user, plugin="test")


async def test_a_per_caller_limit_ignores_the_ip_and_joins_an_accounts_credentials(
    aiohttp_client, make_app
):
    client = await aiohttp_client(make_app(plugins=[("caller_only", CallerOnlyRoutes(True))]))
    # Many callers on one address do not share an allowance...
    for user in ("alice", "bob", "carol", "dave"):
        response = await client.get("/test/caller-only", headers={"X-Test-User": user})
        assert response.status == 200
    # ...while one account's session and API keys do.
    alice_key = {"X-Test-User": "alice", "X-Test-Kind": "api_key"}
    assert (await client.get("/test/caller-only", headers=alice_key)).status == 200
    assert (await client.get("/test/caller-only", headers={"X-Test-User": "alice"})).status == 200
    assert (await client.get("/test/caller-only", headers=alice_key)).status == 429
    # An agent whose id happened to equal an account's would still count on its own.
    agent = {"X-Test-User": "alice", "X-Test-Kind": "agent"}
    assert (await client.get("/test/caller-only", headers=agent)).status == 200


def test_a_per_caller_limit_on_an_open_route_stops_app_creation(make_app):
    with pytest.raises(ConfigError) as caught:
        make_app(plugins=[("caller_only", CallerOnlyRoutes(False))])
    [problem] = caught.value.problems
    assert "GET /test/caller-only is limited per caller only" in problem


def test_a_route_limited_by_an_undeclared_name_stops_app_creation(make_app):
    with pytest.raises(ConfigError) as caught:
        make_app(plugins=[("undeclared", UndeclaredRoute())])
    [problem] = caught.value.problems
    assert "GET /test/undeclared: 'test.nobody'" in problem


# ------------------------------------------------------------- the limiter directly


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def cache():
    backend = MemoryCache()
    await backend.open()
    yield backend
    await backend.close()


def make_limiter(cache, clock, overrides=None):
    declared = [
        RateLimit("test.closed", "2/minute"),
        RateLimit("test.local", "2/minute", when_cache_down=LOCAL),
    ]
    return RateLimiter(declared, overrides or {}, cache=lambda: cache, clock=clock)


async def test_hit_counts_per_scope_within_a_fixed_window(cache):
    clock = Clock(600.0 + 45)  # 45 s into a minute window
    limiter = make_limiter(cache, clock)

    first = await limiter.hit("test.closed", "account:a")
    assert (first.limit, first.remaining, first.allowed) == (2, 1, True)
    assert first.reset_after == pytest.approx(15)
    await limiter.hit("test.closed", "account:a")
    over = await limiter.hit("test.closed", "account:a")
    assert (over.remaining, over.allowed, over.retry_after) == (0, False, 15)
    assert (await limiter.hit("test.closed", "account:b")).allowed

    clock.now = 660.0  # the next window
    assert (await limiter.hit("test.closed", "account:a")).remaining == 1


async def test_check_raises_rate_limited_with_the_headers(cache):
    limiter = make_limiter(cache, Clock(600.0))
    await limiter.check("test.closed", "account:a")
    await limiter.check("test.closed", "account:a")
    with pytest.raises(RateLimited) as caught:
        await limiter.check("test.closed", "account:a")
    assert caught.value.headers["Retry-After"] == "60"
    assert caught.value.headers["X-RateLimit-Remaining"] == "0"
    assert caught.value.headers["X-RateLimit-Limit"] == "2"


async def test_peek_tells_without_counting(cache):
    limiter = make_limiter(cache, Clock(600.0))
    assert (await limiter.peek("test.closed", "account:a")).remaining == 2
    await limiter.hit("test.closed", "account:a")
    await limiter.hit("test.closed", "account:a")
    peeked = await limiter.peek("test.closed", "account:a")
    assert (peeked.remaining, peeked.allowed) == (0, False)
    assert (await limiter.peek("test.closed", "account:a")).remaining == 0


async def test_configured_rates_replace_the_defaults(cache):
    limiter = make_limiter(cache, Clock(600.0), {"test.closed": "5/hour"})
    assert (limiter.rate("test.closed").amount, limiter.rate("test.closed").get_expiry()) == (
        5,
        3600,
    )
    assert limiter.rate("test.local").amount == 2


async def test_an_undeclared_name_is_a_programming_error(cache):
    limiter = make_limiter(cache, Clock(600.0))
    with pytest.raises(KeyError, match=r"test\.nobody"):
        await limiter.hit("test.nobody", "account:a")


async def test_a_closed_limit_answers_503_while_the_cache_is_down(cache):
    limiter = make_limiter(cache, Clock(600.0))
    await cache.close()
    with pytest.raises(BackendError) as caught:
        await limiter.hit("test.closed", "account:a")
    assert caught.value.headers["Retry-After"]
    with pytest.raises(BackendError):
        await limiter.peek("test.closed", "account:a")


async def test_a_local_limit_counts_in_process_and_warns_once_a_minute(cache, caplog):
    clock = Clock(600.0)
    limiter = make_limiter(cache, clock)
    await cache.close()
    caplog.set_level(logging.WARNING, logger="agentvault_registry.core.ratelimit.limiter")

    assert [(await limiter.hit("test.local", "ip:a")).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert (await limiter.peek("test.local", "ip:a")).remaining == 0
    assert (await limiter.hit("test.local", "ip:b")).allowed
    assert len(caplog.records) == 1
    assert "cache backend is down" in caplog.records[0].getMessage()

    clock.now += 61
    assert (await limiter.hit("test.local", "ip:a")).allowed  # a new window, and a new warning
    assert len(caplog.records) == 2


def test_local_counters_stay_bounded():
    counters = LocalCounters(max_counters=3)
    for number in range(5):
        counters.incr(f"key:{number}")
    counters.incr("key:4")
    assert len(counters) == 3
    assert [counters.get(f"key:{number}") for number in range(5)] == [0, 0, 1, 1, 2]
