"""The outbound HTTP client: public addresses only, every redirect checked, body and time capped."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from contextlib import AsyncExitStack

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver
from yarl import URL

from agentvault_registry import __version__, hookimpl
from agentvault_registry.core.appkeys import HTTP_CLIENT
from agentvault_registry.core.errors import ConfigError, FetchFailed, FetchRefused, FetchTimedOut
from agentvault_registry.core.httpclient import SafeHttpClient, is_global_address
from agentvault_registry.core.httpclient import client as client_module
from agentvault_registry.core.httpclient.addresses import AddressPolicy
from agentvault_registry.core.httpclient.resolver import AddressRefused, GlobalOnlyResolver
from support import free_port

# ------------------------------------------------------------------------- addresses

NOT_GLOBAL = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.9",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fec0::1",
    "fc00::1",
    "fd12:3456::1",
    "ff0e::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::7f00:1",
    "64:ff9b::7f00:1",
    "64:ff9b::a00:1",
    "64:ff9b:1::808:808",
    "2002:7f00:1::",
    "2002:a9fe:a9fe::1",
    # Teredo: server 65.54.227.120, client 192.168.0.1 (obfuscated as 3f57:ff fe).
    "2001:0:4136:e378:8000:3f57:3fff:fffe",
]
GLOBAL = [
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize("address", NOT_GLOBAL)
def test_non_global_addresses_are_refused(address):
    assert not is_global_address(address)


@pytest.mark.parametrize("address", GLOBAL)
def test_global_addresses_are_allowed(address):
    assert is_global_address(address)


def test_a_non_address_is_a_value_error():
    with pytest.raises(ValueError):
        is_global_address("localhost")


# -------------------------------------------------------------------------- resolver


class FixedResolver(AbstractResolver):
    """Answers every name with the same addresses, as a rebinding DNS server might."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
            for address in self.addresses
        ]

    async def close(self):
        pass


async def test_resolver_drops_private_addresses_and_keeps_public_ones():
    resolver = GlobalOnlyResolver(resolver=FixedResolver("10.0.0.1", "8.8.8.8", "::1"))
    results = await resolver.resolve("mixed.example", 80)
    assert [result["host"] for result in results] == ["8.8.8.8"]


async def test_resolver_refuses_a_name_with_only_private_addresses():
    resolver = GlobalOnlyResolver(resolver=FixedResolver("127.0.0.1", "::ffff:10.0.0.1"))
    with pytest.raises(AddressRefused) as caught:
        await resolver.resolve("rebind.example", 80)
    assert caught.value.addresses == ["127.0.0.1", "::ffff:10.0.0.1"]


async def test_resolver_lets_private_addresses_through_when_allowed():
    resolver = GlobalOnlyResolver(
        AddressPolicy(allow_private=True), resolver=FixedResolver("127.0.0.1")
    )
    assert [result["host"] for result in await resolver.resolve("x.example", 80)] == ["127.0.0.1"]


# --------------------------------------------------------------------------- helpers


@pytest.fixture
async def exit_stack():
    async with AsyncExitStack() as stack:
        yield stack


@pytest.fixture
def open_client(make_settings, exit_stack):
    """A client configured by ``[outbound]`` overrides, closed after the test."""

    async def open_(**outbound) -> SafeHttpClient:
        settings, _ = make_settings({"outbound": outbound})
        return await exit_stack.enter_async_context(SafeHttpClient(settings.outbound))

    return open_


@pytest.fixture
def serve(exit_stack):
    """Serve aiohttp routes on a loopback port; returns the base URL."""

    async def serve_(*routes: web.RouteDef) -> str:
        app = web.Application()
        app.add_routes(routes)
        runner = web.AppRunner(app)
        await runner.setup()
        exit_stack.push_async_callback(runner.cleanup)
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}"

    return serve_


class Canary:
    """A TCP listener that counts the connections that reach it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.connections = 0
        self.servers: list[asyncio.Server] = []

    async def start(self) -> None:
        self.servers.append(await asyncio.start_server(self._accept, "127.0.0.1", self.port))
        # Without IPv6 loopback here, [::1] URLs are still checked for refusal.
        with contextlib.suppress(OSError):
            self.servers.append(await asyncio.start_server(self._accept, "::1", self.port))

    async def _accept(self, reader, writer) -> None:
        self.connections += 1
        writer.close()

    async def close(self) -> None:
        for server in self.servers:
            server.close()
            await server.wait_closed()


@pytest.fixture
async def canary():
    listener = Canary()
    await listener.start()
    yield listener
    await listener.close()


@pytest.fixture
def connect_attempts(monkeypatch):
    """Every outgoing socket connect in this process, recorded before it is made."""
    attempts = []
    original_connect = socket.socket.connect

    def recording_connect(sock, address):
        attempts.append(address)
        return original_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    return attempts


# ---------------------------------------------------------------- refused targets

SSRF_CORPUS = [
    "http://127.0.0.1:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://2130706433:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://0x7f.0.0.1:{port}/",
    "http://127.1:{port}/",
    "http://127.0.0.1.:{port}/",
    "http://localhost:{port}/",
    "http://[64:ff9b::7f00:1]:{port}/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "https://[fe80::1]/",
]


@pytest.mark.parametrize("template", SSRF_CORPUS)
async def test_non_public_targets_are_refused_without_connecting(
    template, open_client, canary, connect_attempts
):
    client = await open_client()
    url = template.format(port=canary.port)
    started = time.monotonic()
    with pytest.raises(FetchRefused) as caught:
        await client.get(url)
    assert time.monotonic() - started < 1.0
    error = caught.value
    assert (error.status, error.code) == (422, "fetch_refused")
    assert error.details["url"] == str(URL(url))  # as parsed: [::ffff:7f00:1], not as typed
    assert error.details["reason"]
    assert connect_attempts == []
    assert canary.connections == 0


async def test_the_canary_and_the_connect_record_do_see_connections(
    open_client, canary, connect_attempts
):
    """The control for the test above: with the allowance on, both notice the connection."""
    client = await open_client(allow_private_targets=True)
    with pytest.raises(FetchFailed):
        await client.get(f"http://127.0.0.1:{canary.port}/")
    assert ("127.0.0.1", canary.port) in connect_attempts
    assert canary.connections >= 1


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/file", "file:///etc/passwd", "gopher://example.org/", "/relative"],
)
async def test_only_http_and_https_are_fetched(url, open_client):
    client = await open_client(allow_private_targets=True)
    with pytest.raises(FetchRefused, match="only http and https"):
        await client.get(url)


async def test_urls_with_credentials_are_refused_and_not_echoed(open_client, serve):
    base = await serve(*chain(0))
    client = await open_client(allow_private_targets=True)
    with pytest.raises(FetchRefused) as caught:
        await client.get(base.replace("http://", "http://admin:hunter2@"))
    assert caught.value.details["reason"] == "URLs with credentials are not fetched"
    assert "hunter2" not in str(caught.value.to_dict())


@pytest.mark.parametrize("host", ["2130706433", "0x7f.0.0.1", "0177.0.0.1"])
async def test_non_canonical_ipv4_is_refused_even_when_private_targets_are_allowed(
    host, open_client, canary
):
    client = await open_client(allow_private_targets=True)
    with pytest.raises(FetchRefused, match="dotted-quad"):
        await client.get(f"http://{host}:{canary.port}/")
    assert canary.connections == 0


# ----------------------------------------------------------------------- redirects


def redirect_to(location: str):
    async def handler(request):
        raise web.HTTPFound(location)

    return handler


async def test_a_redirect_to_another_scheme_is_refused(open_client, serve):
    base = await serve(web.get("/", redirect_to("file:///etc/passwd")))
    client = await open_client(allow_private_targets=True)
    with pytest.raises(FetchRefused) as caught:
        await client.get(f"{base}/")
    assert caught.value.details["url"] == "file:///etc/passwd"


async def test_a_redirect_to_a_url_with_credentials_is_refused(open_client, serve):
    port = free_port()
    base = await serve(web.get("/", redirect_to(f"http://root:secret@127.0.0.1:{port}/")))
    client = await open_client(allow_private_targets=True)
    with pytest.raises(FetchRefused, match="credentials") as caught:
        await client.get(f"{base}/")
    assert caught.value.details["url"] == f"http://127.0.0.1:{port}/"


def chain(length: int) -> list[web.RouteDef]:
    """``/hop/0`` redirects (relatively) to ``/hop/1`` ... ``/hop/<length>`` answers JSON."""

    async def hop(request):
        number = int(request.match_info["number"])
        if number < length:
            raise web.HTTPFound(f"/hop/{number + 1}")
        return web.json_response({"hops": number, "agent": request.headers["User-Agent"]})

    return [web.get("/hop/{number}", hop)]


async def test_every_hop_goes_through_the_same_check(open_client, serve, monkeypatch):
    checked = []
    original_check = client_module.check_target

    def recording_check(url, policy):
        checked.append(url.path)
        original_check(url, policy)

    monkeypatch.setattr(client_module, "check_target", recording_check)
    base = await serve(*chain(3))
    client = await open_client(allow_private_targets=True)
    result = await client.get_json(f"{base}/hop/0")
    assert checked == ["/hop/0", "/hop/1", "/hop/2", "/hop/3"]
    assert result.json["hops"] == 3
    assert result.url == f"{base}/hop/3"


async def test_more_redirects_than_allowed_fail(open_client, serve):
    base = await serve(*chain(4))
    client = await open_client(allow_private_targets=True)
    with pytest.raises(FetchFailed) as caught:
        await client.get(f"{base}/hop/0")
    assert caught.value.code == "fetch_failed"
    assert caught.value.details["reason"] == "more than 3 redirects"


async def test_max_redirects_is_configurable(open_client, serve):
    base = await serve(*chain(1))
    client = await open_client(allow_private_targets=True, max_redirects=0)
    with pytest.raises(FetchFailed, match="more than 0 redirects"):
        await client.get(f"{base}/hop/0")


# ------------------------------------------------------------------- answers


async def test_get_json_from_a_loopback_server(open_client, serve):
    base = await serve(*chain(0))
    client = await open_client(allow_private_targets=True)
    result = await client.get_json(f"{base}/hop/0")
    assert result.status == 200
    assert result.headers["Content-Type"].startswith("application/json")
    assert result.url == f"{base}/hop/0"
    assert result.json["hops"] == 0
    assert result.json["agent"] == "AgentVault-Registry"


async def test_get_returns_any_status_with_its_body(open_client, serve):
    async def missing(request):
        return web.Response(status=404, text="no card here")

    base = await serve(web.get("/", missing))
    client = await open_client(allow_private_targets=True)
    result = await client.get(f"{base}/")
    assert (result.status, result.body, result.json) == (404, b"no card here", None)


async def test_get_json_fails_on_an_error_status(open_client, serve):
    async def missing(request):
        return web.json_response({"error": "not_found"}, status=404)

    base = await serve(web.get("/", missing))
    client = await open_client(allow_private_targets=True)
    with pytest.raises(FetchFailed, match="HTTP 404") as caught:
        await client.get_json(f"{base}/")
    assert caught.value.details["status"] == 404


@pytest.mark.parametrize("body", [b"<html>not json</html>", b"{", b"[" * 100_000])
async def test_get_json_fails_on_a_body_that_is_not_json(body, open_client, serve):
    async def answer(request):
        return web.Response(body=body, content_type="application/json")

    base = await serve(web.get("/", answer))
    client = await open_client(allow_private_targets=True)
    with pytest.raises(FetchFailed, match="not valid JSON") as caught:
        await client.get_json(f"{base}/")
    assert caught.value.code == "fetch_failed"


async def test_a_body_over_the_cap_fails(open_client, serve):
    async def large(request):
        return web.Response(body=b"x" * 2048)

    base = await serve(web.get("/", large))
    client = await open_client(allow_private_targets=True, max_response_bytes=1024)
    with pytest.raises(FetchFailed, match="larger than 1024 bytes"):
        await client.get(f"{base}/")
    assert (await client.get(f"{base}/", max_bytes=4096)).body == b"x" * 2048


async def test_a_streamed_body_is_cut_off_at_the_cap(open_client, serve):
    """No Content-Length to refuse up front: the body is counted as it arrives."""
    chunks_sent = 0

    async def endless(request):
        nonlocal chunks_sent
        response = web.StreamResponse()
        await response.prepare(request)
        try:
            for _ in range(10_000):
                await response.write(b"y" * 4096)
                chunks_sent += 1
        except (ConnectionError, OSError):
            pass  # the client hung up, as it should
        return response

    base = await serve(web.get("/", endless))
    client = await open_client(allow_private_targets=True, max_response_bytes=16384)
    with pytest.raises(FetchFailed, match="larger than 16384 bytes"):
        await client.get(f"{base}/")
    assert chunks_sent < 10_000


async def test_a_slow_server_fails_at_the_total_timeout(open_client, serve, exit_stack):
    release = asyncio.Event()

    async def slow(request):
        await release.wait()
        return web.json_response({})

    base = await serve(web.get("/", slow))
    # Registered after the server, so it runs before the server's cleanup waits for handlers.
    exit_stack.callback(release.set)
    client = await open_client(allow_private_targets=True, total_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(FetchFailed, match=r"no complete answer within 0\.3 seconds"):
        await client.get_json(f"{base}/")
    assert time.monotonic() - started < 2.0


async def test_a_refused_connection_fails(open_client):
    client = await open_client(allow_private_targets=True)
    port = free_port()
    with pytest.raises(FetchFailed, match="could not connect") as caught:
        await client.get(f"http://127.0.0.1:{port}/")
    assert caught.value.code == "fetch_failed"


# -------------------------------------------------------------------- in the app


class FetchPlugin:
    """A view that fetches a URL the caller gives, as the card import does."""

    @hookimpl
    def register_routes(self, settings):
        async def fetch(request):
            result = await request.app[HTTP_CLIENT].get_json(request.query["url"])
            return web.json_response(result.json)

        return [web.get("/api/v1/test/fetch", fetch)]


async def test_a_view_answers_422_with_the_reason(aiohttp_client, make_app, canary):
    client = await aiohttp_client(make_app(plugins=[("fetch", FetchPlugin())]))
    url = f"http://127.0.0.1:{canary.port}/"
    response = await client.get("/api/v1/test/fetch", params={"url": url})
    assert response.status == 422
    body = await response.json()
    assert body["error"] == "fetch_refused"
    assert body["details"] == {"url": url, "reason": "127.0.0.1 is not a public address"}
    assert canary.connections == 0


async def test_the_app_client_names_the_registry(aiohttp_client, make_app, serve):
    base = await serve(*chain(0))
    app = make_app(
        {"outbound": {"allow_private_targets": True}}, plugins=[("fetch", FetchPlugin())]
    )
    client = await aiohttp_client(app)
    response = await client.get("/api/v1/test/fetch", params={"url": f"{base}/hop/0"})
    assert response.status == 200
    assert (await response.json())["agent"] == f"AgentVault-Registry/{__version__}"


# -------------------------------------------------------------------------- config


def test_outbound_defaults(make_settings):
    settings, _ = make_settings()
    outbound = settings.outbound
    assert outbound.allow_private_targets is False
    assert outbound.max_response_bytes == 524288
    assert (outbound.connect_timeout, outbound.total_timeout) == (5.0, 10.0)
    assert outbound.max_redirects == 3


def test_outbound_values_are_type_checked(make_settings):
    with pytest.raises(ConfigError) as caught:
        make_settings(environ={"AVREG_OUTBOUND__MAX_RESPONSE_BYTES": "lots"})
    assert caught.value.problems == [
        "outbound.max_response_bytes (from env AVREG_OUTBOUND__MAX_RESPONSE_BYTES): "
        "Not a valid integer."
    ]


def test_outbound_values_are_range_checked(make_settings):
    with pytest.raises(ConfigError) as caught:
        make_settings({"outbound": {"total_timeout": 0, "max_redirects": 50}})
    assert sorted(line.split(" ")[0] for line in caught.value.problems) == [
        "outbound.max_redirects",
        "outbound.total_timeout",
    ]


async def serve_on(host: str, exit_stack, *routes: web.RouteDef) -> str:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    exit_stack.push_async_callback(runner.cleanup)
    port = free_port()
    await web.TCPSite(runner, host, port).start()
    return f"http://{host}:{port}"


async def test_an_allowed_private_network_is_reachable_and_nothing_else(
    open_client, exit_stack, canary
):
    async def hello(request):
        return web.json_response({"hello": "peer"})

    peer = await serve_on("127.0.0.2", exit_stack, web.get("/", hello))
    client = await open_client(allowed_private_networks=["127.0.0.2/32"])
    assert (await client.get_json(f"{peer}/")).json == {"hello": "peer"}
    with pytest.raises(FetchRefused):
        await client.get_json(f"http://127.0.0.1:{canary.port}/")
    assert canary.connections == 0


async def test_a_redirect_to_an_internal_address_is_refused(
    open_client, exit_stack, canary, connect_attempts
):
    """The first hop is allowed (a private peer network); the hop it redirects to is not."""

    async def bounce(request):
        raise web.HTTPFound(f"http://127.0.0.1:{canary.port}/latest/meta-data/")

    peer = await serve_on("127.0.0.2", exit_stack, web.get("/card", bounce))
    client = await open_client(allowed_private_networks=["127.0.0.2/32"])
    with pytest.raises(FetchRefused) as refused:
        await client.get_json(f"{peer}/card")
    assert refused.value.code == "fetch_refused"
    assert canary.connections == 0
    assert all(address[0] != "127.0.0.1" for address in connect_attempts)


def test_allowed_private_networks_must_be_cidr_blocks(make_settings):
    with pytest.raises(ConfigError, match=r"outbound\.allowed_private_networks"):
        make_settings({"outbound": {"allowed_private_networks": ["not-a-network"]}})


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "fe80::1", "0.0.0.0", "::", "224.0.0.1", "::ffff:169.254.1.1"]
)
def test_allowing_private_addresses_never_allows_link_local_unspecified_or_multicast(address):
    assert not AddressPolicy(allow_private=True).permits(address)
    assert AddressPolicy(allow_private=True).permits("10.1.2.3")
    assert AddressPolicy(networks=[address + ("/128" if ":" in address else "/32")]).permits(
        address
    )


async def test_json_with_nan_or_infinity_is_not_json(open_client, serve):
    async def constants(request):
        return web.Response(
            text='{"price": NaN, "limit": Infinity}', content_type="application/json"
        )

    base = await serve(web.get("/", constants))
    client = await open_client(allow_private_targets=True)
    with pytest.raises(FetchFailed, match="not valid JSON"):
        await client.get_json(f"{base}/")


async def test_post_json_sends_the_body_and_never_follows_a_redirect(open_client, serve):
    async def echo(request):
        return web.json_response({"got": await request.json()})

    async def moved(request):
        raise web.HTTPTemporaryRedirect("/echo")

    base = await serve(web.post("/echo", echo), web.post("/moved", moved))
    client = await open_client(allow_private_targets=True)
    assert (await client.post_json(f"{base}/echo", {"a": 1})).json == {"got": {"a": 1}}
    with pytest.raises(FetchRefused, match="redirect"):
        await client.post_json(f"{base}/moved", {"a": 1})


async def test_post_json_times_out_as_a_timeout(open_client, serve):
    async def slow(request):
        await asyncio.sleep(5)
        return web.json_response({})

    base = await serve(web.post("/", slow))
    client = await open_client(allow_private_targets=True)
    started = time.perf_counter()
    with pytest.raises(FetchTimedOut):
        await client.post_json(f"{base}/", {}, timeout=0.2)
    assert time.perf_counter() - started < 2
