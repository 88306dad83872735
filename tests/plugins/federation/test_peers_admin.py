"""The admin API of peers: adding, listing, changing, removing; tokens shown once, never
again; every bad input refused with a 4xx and nothing stored."""

from __future__ import annotations

import pytest

from agentvault_registry.core.appkeys import STORAGE
from agentvault_registry.plugins.federation.appkeys import PEER_SERVICE
from registry_harness import PEERS, QUERY, big_json

OUTBOUND = "avf_the-token-the-peer-gave-us-0123456789"


def body(**extra):
    return {
        "name": "Peer One",
        "registry_url": "http://127.0.0.1:9/registry/",
        "admin_contact": "ops@peer.example.org",
        "federation_access_token": OUTBOUND,
    } | extra


@pytest.fixture
async def home(registry_factory, records_overrides):
    return await registry_factory("Home", {"storage": records_overrides})


async def test_adding_a_peer_shows_its_inbound_token_once_and_never_a_token_again(home):
    response = await home.request("POST", PEERS, json=body(), headers=home.admin)
    assert response.status == 201
    assert response.headers["Cache-Control"] == "no-store"
    created = await response.json()
    assert response.headers["Location"] == f"{PEERS}/{created['id']}"
    assert created["inbound_token"].startswith("avf_") and len(created["inbound_token"]) > 40
    assert created["registry_url"] == "http://127.0.0.1:9/registry"
    assert created["status"] == "active" and created["consecutive_failures"] == 0
    assert "federation_access_token" not in created

    shown = await home.request("GET", f"{PEERS}/{created['id']}", headers=home.admin)
    listed = await home.request("GET", PEERS, headers=home.admin)
    status = await home.request("GET", "/api/v1/admin/federation/status", headers=home.admin)
    for response in (shown, listed, status):
        text = await response.text()
        assert response.status == 200
        assert OUTBOUND not in text and created["inbound_token"] not in text


async def test_the_outbound_token_is_stored_encrypted(home):
    created = await home.add_peer("Peer One", "http://127.0.0.1:9", OUTBOUND)
    stored = await home.app[STORAGE].records.get_peer(created["id"])
    assert OUTBOUND not in stored.outbound_token
    assert home.app[PEER_SERVICE].cipher.decrypt(stored.outbound_token) == OUTBOUND
    assert created["inbound_token"] not in repr(stored)


async def test_peers_are_listed_oldest_first_with_pagination(home):
    for index in range(3):
        await home.add_peer(f"Peer {index}", f"http://127.0.0.1:{9000 + index}", OUTBOUND)
    first = await home.json("GET", PEERS, params={"per_page": 2}, headers=home.admin)
    assert [peer["name"] for peer in first["peers"]] == ["Peer 0", "Peer 1"]
    assert first["pagination"] | {} == {
        "total": 3,
        "page": 1,
        "per_page": 2,
        "pages": 2,
        "next_cursor": None,
    }
    second = await home.json("GET", PEERS, params={"per_page": 2, "page": 2}, headers=home.admin)
    assert [peer["name"] for peer in second["peers"]] == ["Peer 2"]


async def test_put_changes_only_the_settings_given(home):
    created = await home.add_peer("Peer One", "http://127.0.0.1:9", OUTBOUND)
    changed = await home.json(
        "PUT",
        f"{PEERS}/{created['id']}",
        json={"admin_contact": "new@peer.example.org", "status": "disabled"},
        headers=home.admin,
    )
    assert changed["admin_contact"] == "new@peer.example.org"
    assert changed["status"] == "disabled"
    assert changed["name"] == "Peer One" and changed["registry_url"] == "http://127.0.0.1:9"


async def test_a_new_outbound_token_replaces_the_stored_one(home):
    created = await home.add_peer("Peer One", "http://127.0.0.1:9", OUTBOUND)
    await home.json(
        "PUT",
        f"{PEERS}/{created['id']}",
        json={"federation_access_token": "avf_replacement"},
        headers=home.admin,
    )
    stored = await home.app[STORAGE].records.get_peer(created["id"])
    assert home.app[PEER_SERVICE].cipher.decrypt(stored.outbound_token) == "avf_replacement"


async def test_rotating_the_inbound_token_retires_the_old_one_at_once(home):
    created = await home.add_peer("Peer One", "http://127.0.0.1:9", OUTBOUND)
    old = {"Authorization": f"Bearer {created['inbound_token']}"}
    assert (await home.request("POST", QUERY, json={}, headers=old)).status == 200
    rotated = await home.json("POST", f"{PEERS}/{created['id']}/rotate-token", headers=home.admin)
    assert rotated["inbound_token"] != created["inbound_token"]
    assert (await home.request("POST", QUERY, json={}, headers=old)).status == 401
    new = {"Authorization": f"Bearer {rotated['inbound_token']}"}
    assert (await home.request("POST", QUERY, json={}, headers=new)).status == 200


async def test_a_deleted_peer_is_gone_and_its_token_with_it(home):
    created = await home.add_peer("Peer One", "http://127.0.0.1:9", OUTBOUND)
    await home.json("DELETE", f"{PEERS}/{created['id']}", expect=204, headers=home.admin)
    await home.json("GET", f"{PEERS}/{created['id']}", expect=404, headers=home.admin)
    await home.json("DELETE", f"{PEERS}/{created['id']}", expect=404, headers=home.admin)
    token = {"Authorization": f"Bearer {created['inbound_token']}"}
    assert (await home.request("POST", QUERY, json={}, headers=token)).status == 401


@pytest.mark.parametrize("path", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
async def test_an_unknown_peer_is_404(home, path):
    for method in ("GET", "PUT", "DELETE"):
        response = await home.request(
            method, f"{PEERS}/{path}", json={"name": "x"}, headers=home.admin
        )
        assert response.status == 404
        assert (await response.json())["error"] == "not_found"
    rotate = await home.request("POST", f"{PEERS}/{path}/rotate-token", headers=home.admin)
    assert rotate.status == 404


async def test_names_and_urls_are_unique(home):
    await home.add_peer("Peer One", "http://127.0.0.1:9", OUTBOUND)
    same_name = await home.request(
        "POST",
        PEERS,
        json=body(name="PEER ONE", registry_url="http://127.0.0.1:10"),
        headers=home.admin,
    )
    assert same_name.status == 409
    assert (await same_name.json())["details"] == {"field": "name"}
    same_url = await home.request(
        "POST",
        PEERS,
        json=body(name="Other", registry_url="http://127.0.0.1:9/"),
        headers=home.admin,
    )
    assert same_url.status == 409
    assert (await same_url.json())["details"] == {"field": "registry_url"}
    assert len((await home.json("GET", PEERS, headers=home.admin))["peers"]) == 1


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": 7}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "bell\x07"}, "name"),
        ({"name": "   "}, "name"),
        ({"admin_contact": " \t "}, "admin_contact"),
        ({"registry_url": "ftp://peer.example.org"}, "registry_url"),
        ({"registry_url": "http://user:pw@127.0.0.1:9"}, "registry_url"),
        ({"registry_url": "http://127.0.0.1:9/?q=1"}, "registry_url"),
        ({"registry_url": "not a url"}, "registry_url"),
        ({"registry_url": ["http://127.0.0.1:9"]}, "registry_url"),
        ({"federation_access_token": "has spaces in it"}, "federation_access_token"),
        ({"federation_access_token": ""}, "federation_access_token"),
        ({"status": "unhealthy"}, "status"),
        ({"spiffe_id": "https://not-spiffe"}, "spiffe_id"),
        ({"id": "00000000-0000-0000-0000-000000000000"}, "id"),
        ({"inbound_token": "avf_chosen_by_me"}, "inbound_token"),
    ],
)
async def test_bad_fields_are_refused_and_nothing_is_stored(home, sent, field):
    response = await home.request("POST", PEERS, json=body(**sent), headers=home.admin)
    assert response.status == 422, await response.text()
    error = await response.json()
    assert error["error"] == "validation_failed" and field in error["details"]
    assert (await home.json("GET", PEERS, headers=home.admin))["peers"] == []


@pytest.mark.parametrize(
    "missing", ["name", "registry_url", "admin_contact", "federation_access_token"]
)
async def test_each_required_field_is_required(home, missing):
    sent = body()
    del sent[missing]
    response = await home.request("POST", PEERS, json=sent, headers=home.admin)
    assert response.status == 422
    assert missing in (await response.json())["details"]


async def test_malformed_oversized_and_non_json_bodies(home):
    malformed = await home.request(
        "POST", PEERS, data=b'{"name": ', headers=home.admin | {"Content-Type": "application/json"}
    )
    assert malformed.status == 400
    assert (await malformed.json())["error"] == "malformed_json"
    big = big_json(body(name="x" * 2_000_000))
    huge = await home.request("POST", PEERS, data=big["data"], headers=home.admin | big["headers"])
    assert huge.status == 413
    text = await home.request(
        "POST", PEERS, data=b"name=x", headers=home.admin | {"Content-Type": "text/plain"}
    )
    assert text.status == 415
    not_object = await home.request("POST", PEERS, json=[body()], headers=home.admin)
    assert not_object.status == 422
    empty_put = await home.request(
        "PUT",
        f"{PEERS}/{(await home.add_peer('P', 'http://127.0.0.1:9', OUTBOUND))['id']}",
        json={},
        headers=home.admin,
    )
    assert empty_put.status == 422


async def test_https_only_unless_http_is_allowed(registry_factory):
    strict = await registry_factory(
        "Strict", {"plugins": {"federation": {"allow_http": False, "allow_private_peers": True}}}
    )
    response = await strict.request("POST", PEERS, json=body(), headers=strict.admin)
    assert response.status == 422
    assert "https" in (await response.json())["details"]["registry_url"][0]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1",
        "https://10.1.2.3:8443",
        "https://[::1]/",
        "https://169.254.169.254",
        "https://localhost",
        "https://0x7f.1",
    ],
)
async def test_private_addresses_are_refused_unless_allowed(registry_factory, url):
    strict = await registry_factory(
        "Strict", {"plugins": {"federation": {"allow_http": False, "allow_private_peers": False}}}
    )
    response = await strict.request(
        "POST", PEERS, json=body(registry_url=url), headers=strict.admin
    )
    assert response.status == 422, await response.text()
    assert "registry_url" in (await response.json())["details"]


async def test_only_admins_manage_peers(home):
    created = await home.add_peer("Peer One", "http://127.0.0.1:9", OUTBOUND)
    developer = await home.account("dev")
    peer_token = {"Authorization": f"Bearer {created['inbound_token']}"}
    item = f"{PEERS}/{created['id']}"
    calls = [
        ("GET", PEERS),
        ("POST", PEERS),
        ("GET", item),
        ("PUT", item),
        ("DELETE", item),
        ("POST", f"{item}/rotate-token"),
        ("GET", "/api/v1/admin/federation/status"),
    ]
    for method, path in calls:
        anonymous = await home.request(method, path, json=body())
        assert anonymous.status == 401, (method, path)
        for headers in (developer, peer_token):
            refused = await home.request(method, path, json=body(), headers=headers)
            assert refused.status == 403, (method, path)
    assert (await home.json("GET", item, headers=home.admin))["name"] == "Peer One"


async def test_status_reports_each_peers_health(home):
    created = await home.add_peer("Peer One", "http://127.0.0.1:9", OUTBOUND)
    await home.add_peer("Peer Two", "http://127.0.0.1:10", OUTBOUND, status="disabled")
    report = await home.json("GET", "/api/v1/admin/federation/status", headers=home.admin)
    assert report["counts"] == {"active": 1, "disabled": 1, "unhealthy": 0}
    first = report["peers"][0]
    assert first["id"] == created["id"] and first["circuit"] == "closed"
    assert first["last_seen_at"] is None and first["last_error"] is None


async def test_a_new_registry_url_needs_the_token_that_registry_issued(home):
    created = await home.add_peer("Peer One", "http://127.0.0.1:9", OUTBOUND)
    item = f"{PEERS}/{created['id']}"
    alone = await home.request(
        "PUT", item, json={"registry_url": "http://127.0.0.1:10"}, headers=home.admin
    )
    assert alone.status == 422
    assert "federation_access_token" in (await alone.json())["details"]
    assert (await home.json("GET", item, headers=home.admin))["registry_url"].endswith(":9")
    moved = await home.json(
        "PUT",
        item,
        json={"registry_url": "http://127.0.0.1:10", "federation_access_token": "avf_new_one"},
        headers=home.admin,
    )
    assert moved["registry_url"] == "http://127.0.0.1:10"
