"""Which address is the client: X-Forwarded-For only from trusted proxies, read from the right."""

from __future__ import annotations

import pytest
from aiohttp import web

from agentvault_registry.config.settings import Settings
from agentvault_registry.core.appkeys import SETTINGS
from agentvault_registry.core.client_ip import client_address, client_ip
from agentvault_registry.core.errors import ConfigError

PROXIES = ("10.0.0.0/8", "2001:db8:ffff::/48")


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says():
    assert client_address("198.51.100.7", "203.0.113.1", ()) == "198.51.100.7"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored():
    assert client_address("198.51.100.7", "10.0.0.5, 203.0.113.1", PROXIES) == "198.51.100.7"


def test_from_a_trusted_proxy_the_address_it_appended_is_the_client():
    assert client_address("10.0.0.2", "203.0.113.1", PROXIES) == "203.0.113.1"


def test_a_chain_of_proxies_is_skipped_right_to_left():
    chain = "203.0.113.1, 10.1.0.9, 10.2.0.3"
    assert client_address("10.0.0.2", chain, PROXIES) == "203.0.113.1"


def test_addresses_the_client_prepended_are_not_believed():
    # The client wrote 192.0.2.66 itself; the first untrusted hop from the right is the client.
    chain = "192.0.2.66, 203.0.113.1, 10.1.0.9"
    assert client_address("10.0.0.2", chain, PROXIES) == "203.0.113.1"


def test_a_chain_of_only_trusted_proxies_gives_the_left_most():
    assert client_address("10.0.0.2", "10.3.0.1, 10.1.0.9", PROXIES) == "10.3.0.1"


def test_ipv6_proxies_and_clients():
    chain = "2001:db8:1::7, 2001:db8:ffff::1"
    assert client_address("2001:db8:ffff::2", chain, PROXIES) == "2001:db8:1::7"


def test_an_ipv4_mapped_peer_counts_as_its_ipv4_address():
    assert client_address("::ffff:10.0.0.2", "203.0.113.1", PROXIES) == "203.0.113.1"


@pytest.mark.parametrize("junk", ["not-an-ip", "1.2.3", "203.0.113.1, ???"])
def test_garbage_in_the_chain_stops_at_the_last_trusted_hop(junk):
    assert client_address("10.0.0.2", junk, PROXIES) == "10.0.0.2"


def test_no_header_from_a_trusted_proxy_is_the_proxy():
    assert client_address("10.0.0.2", "", PROXIES) == "10.0.0.2"


async def test_every_x_forwarded_for_header_line_is_one_chain(aiohttp_client, make_settings):
    settings, _ = make_settings({"server": {"trusted_proxies": ["127.0.0.0/8", "::1/128"]}})
    app = web.Application()
    app[SETTINGS] = settings

    async def whoami(request):
        return web.json_response({"ip": client_ip(request)})

    app.router.add_get("/ip", whoami)
    client = await aiohttp_client(app)
    # Two header lines: the proxy's own line comes last.
    headers = [("X-Forwarded-For", "192.0.2.66"), ("X-Forwarded-For", "203.0.113.1")]
    async with client.get("/ip", headers=headers) as response:
        assert await response.json() == {"ip": "203.0.113.1"}


def test_trusted_proxies_are_cidr_blocks_from_the_environment(make_settings):
    environ = {"AVREG_SERVER__TRUSTED_PROXIES": '["10.0.0.0/8", "fd00::/8"]'}
    settings: Settings = make_settings(environ=environ)[0]
    assert settings.server.trusted_proxies == ("10.0.0.0/8", "fd00::/8")


@pytest.mark.parametrize("value", ['["10.0.0.0/33"]', '["proxy.internal"]', "true"])
def test_a_bad_trusted_proxy_entry_is_a_config_problem(make_settings, value):
    with pytest.raises(ConfigError) as caught:
        make_settings(environ={"AVREG_SERVER__TRUSTED_PROXIES": value})
    assert any("server.trusted_proxies" in problem for problem in caught.value.problems)


def test_the_old_boolean_switch_is_refused_with_a_clear_line(make_settings):
    with pytest.raises(ConfigError) as caught:
        make_settings({"server": {"trust_forwarded_for": True}})
    assert any("trust_forwarded_for" in problem for problem in caught.value.problems)
