"""Admins list and change the registry's accounts: GET/PATCH /api/v1/admin/users."""

from __future__ import annotations

import json
import uuid

import pytest
from auth_helpers import PASSWORD

from support import sign_up

USERS = "/api/v1/admin/users"


@pytest.fixture
async def root(accounts_client):
    return await sign_up(accounts_client, "root", verified=False, role="admin")


@pytest.fixture
async def alice(accounts_client):
    return await sign_up(accounts_client, "alice", verified=False)


async def error_of(response, status: int) -> dict:
    assert response.status == status, await response.text()
    return await response.json()


async def listed(client, headers, **query) -> dict:
    response = await client.get(USERS, params=query, headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    return await response.json()


async def patched(client, headers, user_id: str, body) -> dict:
    response = await client.patch(f"{USERS}/{user_id}", json=body, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def log_in(client, username: str):
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )


# ------------------------------------------------------------------------ listing


async def test_the_list_shows_accounts_newest_first_without_secrets(accounts_client, root, alice):
    body = await listed(accounts_client, root.headers)
    assert [user["username"] for user in body["users"]] == ["alice", "root"]
    assert set(body["users"][0]) == {
        "id",
        "email",
        "username",
        "role",
        "is_active",
        "is_verified",
        "created_at",
        "updated_at",
    }
    assert body["users"][0]["id"] == alice.user_id
    assert body["users"][1]["role"] == "admin"
    assert body["pagination"] == {
        "total": 2,
        "page": 1,
        "per_page": 20,
        "pages": 1,
        "next_cursor": None,
    }
    assert "hash" not in json.dumps(body)


async def test_the_list_pages_with_its_cursor(accounts_client, root):
    for number in range(4):
        await sign_up(accounts_client, f"user{number}", verified=False)
    seen, cursor = [], None
    while True:
        query = {"per_page": 2} | ({"cursor": cursor} if cursor else {})
        body = await listed(accounts_client, root.headers, **query)
        assert body["pagination"]["total"] == 5
        assert body["pagination"]["pages"] == 3
        seen += [user["username"] for user in body["users"]]
        cursor = body["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert seen == ["user3", "user2", "user1", "user0", "root"]


async def test_the_list_can_jump_to_a_page(accounts_client, root, alice):
    body = await listed(accounts_client, root.headers, per_page=1, page=2)
    assert [user["username"] for user in body["users"]] == ["root"]
    assert body["pagination"]["page"] == 2


async def test_the_list_filters_by_text_role_and_state(accounts_client, root, alice):
    bob = await sign_up(accounts_client, "bob", verified=False)
    await patched(accounts_client, root.headers, bob.user_id, {"is_active": False})

    async def names(**query) -> list[str]:
        body = await listed(accounts_client, root.headers, **query)
        assert body["pagination"]["total"] == len(body["users"])
        return [user["username"] for user in body["users"]]

    assert await names(q="ALI") == ["alice"]
    assert await names(q="bob@EXAMPLE") == ["bob"]
    assert await names(q="example.org") == ["bob", "alice", "root"]
    assert await names(role="admin") == ["root"]
    assert await names(is_active="false") == ["bob"]
    assert await names(is_active="true", role="developer") == ["alice"]
    assert await names(q="nobody") == []


@pytest.mark.parametrize(
    "query",
    [
        {"per_page": "101"},
        {"per_page": "0"},
        {"page": "x"},
        {"role": "owner"},
        {"is_active": "yes"},
        {"q": ""},
        {"q": "a\x00b"},
        {"q": "x" * 3000},
        {"sort": "email"},
    ],
    ids=[
        "per_page-over-100",
        "per_page-0",
        "page-not-a-number",
        "role",
        "is_active",
        "q",
        "q-nul",
        "q-huge",
        "unknown",
    ],
)
async def test_a_bad_list_query_is_422(accounts_client, root, query):
    response = await accounts_client.get(USERS, params=query, headers=root.headers)
    assert (await error_of(response, 422))["error"] == "validation_failed"


async def test_a_cursor_the_registry_never_gave_is_400(accounts_client, root):
    response = await accounts_client.get(USERS, params={"cursor": "bm9wZQ=="}, headers=root.headers)
    assert (await error_of(response, 400))["error"] == "bad_request"


# ------------------------------------------------------------------------ access


async def test_developers_are_403_and_anonymous_callers_401(accounts_client, root, alice):
    target = f"{USERS}/{root.user_id}"
    forbidden = [
        await accounts_client.get(USERS, headers=alice.headers),
        await accounts_client.patch(target, json={"role": "developer"}, headers=alice.headers),
    ]
    for response in forbidden:
        assert (await error_of(response, 403))["error"] == "forbidden"
    anonymous = [
        await accounts_client.get(USERS),
        await accounts_client.patch(target, json={"role": "developer"}),
    ]
    for response in anonymous:
        assert (await error_of(response, 401))["error"] == "authentication_required"


# ------------------------------------------------------------------------ changes


async def test_an_admin_promotes_a_developer_and_the_change_is_recorded(
    accounts_client, root, alice
):
    user = await patched(accounts_client, root.headers, alice.user_id, {"role": "admin"})
    assert user["role"] == "admin"
    assert user["id"] == alice.user_id
    assert user["updated_at"] > user["created_at"]
    # The promoted account's current session carries the new role at once.
    assert (await accounts_client.get(USERS, headers=alice.headers)).status == 200
    feed = await accounts_client.get(
        "/api/v1/admin/activity", params={"action": "user.updated"}, headers=root.headers
    )
    (entry,) = (await feed.json())["activity"]
    assert entry["actor_id"] == root.user_id
    assert entry["subject_id"] == entry["owner_id"] == alice.user_id
    assert entry["details"] == {"role": {"from": "developer", "to": "admin"}}


async def test_deactivation_ends_sessions_and_api_keys_and_reactivation_allows_login(
    accounts_client, root, alice
):
    minted = await accounts_client.post(
        "/api/v1/auth/api-keys",
        json={"name": "ci", "scopes": ["agents:read"]},
        headers=alice.headers,
    )
    key = (await minted.json())["key"]
    other_session = await (await log_in(accounts_client, "alice")).json()
    user = await patched(accounts_client, root.headers, alice.user_id, {"is_active": False})
    assert user["is_active"] is False
    me = "/api/v1/auth/me"
    assert (await accounts_client.get(me, headers=alice.headers)).status == 401
    assert (await accounts_client.get(me, headers={"X-API-Key": key})).status == 401
    refreshed = await accounts_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other_session["refresh_token"]}
    )
    assert refreshed.status == 401
    assert (await log_in(accounts_client, "alice")).status == 401

    await patched(accounts_client, root.headers, alice.user_id, {"is_active": True})
    assert (await log_in(accounts_client, "alice")).status == 200
    # The ended sessions stay ended.
    assert (await accounts_client.get(me, headers=alice.headers)).status == 401


async def test_an_admin_can_demote_another_while_one_admin_stays(accounts_client, root, alice):
    await patched(accounts_client, root.headers, alice.user_id, {"role": "admin"})
    user = await patched(
        accounts_client, alice.headers, root.user_id, {"role": "developer", "is_active": True}
    )
    assert user["role"] == "developer"
    assert (await accounts_client.get(USERS, headers=root.headers)).status == 403


async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(accounts_client, root, alice):
    await patched(accounts_client, root.headers, alice.user_id, {"role": "admin"})
    await patched(accounts_client, root.headers, alice.user_id, {"is_active": False})
    refused = await accounts_client.patch(
        f"{USERS}/{root.user_id}", json={"role": "developer"}, headers=root.headers
    )
    assert (await error_of(refused, 409))["error"] == "last_active_admin"
    me = await accounts_client.get("/api/v1/auth/me", headers=root.headers)
    assert (await me.json())["role"] == "admin"


async def test_an_admin_cannot_deactivate_themselves(accounts_client, root, alice):
    # Even with another admin left: locking oneself out is never what was meant.
    await patched(accounts_client, root.headers, alice.user_id, {"role": "admin"})
    refused = await accounts_client.patch(
        f"{USERS}/{root.user_id}", json={"is_active": False}, headers=root.headers
    )
    assert (await error_of(refused, 409))["error"] == "self_deactivation"
    assert (await accounts_client.get(USERS, headers=root.headers)).status == 200


@pytest.mark.parametrize(
    "user_id", [str(uuid.uuid4()), "not-a-uuid"], ids=["unknown-uuid", "not-a-uuid"]
)
async def test_an_unknown_user_is_404(accounts_client, root, user_id):
    response = await accounts_client.patch(
        f"{USERS}/{user_id}", json={"role": "admin"}, headers=root.headers
    )
    assert (await error_of(response, 404))["error"] == "not_found"


async def test_a_malformed_body_is_400(accounts_client, root, alice):
    response = await accounts_client.patch(
        f"{USERS}/{alice.user_id}",
        data=b'{"role": ',
        headers=root.headers | {"Content-Type": "application/json"},
    )
    assert (await error_of(response, 400))["error"] == "malformed_json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_active": "false"}, "is_active"),
        ({"is_active": 0}, "is_active"),
        ({"role": 5}, "role"),
        ({"role": "owner"}, "role"),
        ({"role": "admin", "email": "x@example.org"}, "email"),
        ({}, "_schema"),
        (["role"], "_schema"),
    ],
    ids=[
        "bool-as-string",
        "bool-as-number",
        "role-number",
        "role-unknown",
        "unknown",
        "empty",
        "array",
    ],
)
async def test_a_bad_body_is_422_and_changes_nothing(accounts_client, root, alice, body, field):
    response = await accounts_client.patch(
        f"{USERS}/{alice.user_id}", json=body, headers=root.headers
    )
    assert field in (await error_of(response, 422))["details"]
    body = await listed(accounts_client, root.headers, q="alice")
    assert body["users"][0]["role"] == "developer"
    assert body["users"][0]["is_active"] is True


async def test_an_admins_api_key_with_the_admin_scope_manages_users(accounts_client, root, alice):
    minted = await accounts_client.post(
        "/api/v1/auth/api-keys", json={"name": "ops", "scopes": ["admin"]}, headers=root.headers
    )
    key = {"X-API-Key": (await minted.json())["key"]}
    assert (await listed(accounts_client, key))["pagination"]["total"] == 2
    assert (await patched(accounts_client, key, alice.user_id, {"role": "admin"}))[
        "role"
    ] == "admin"


async def test_openapi_documents_the_admin_user_routes(accounts_client):
    spec = await (await accounts_client.get("/api/v1/openapi.json")).json()
    listing = spec["paths"][USERS]["get"]
    assert {"200", "401", "403", "422"} <= set(listing["responses"])
    change = spec["paths"][f"{USERS}/{{user_id}}"]["patch"]
    assert {"200", "400", "401", "403", "404", "409", "422"} <= set(change["responses"])
    assert change["requestBody"]["required"] is True
    assert {"UserList", "UserUpdate"} <= set(spec["components"]["schemas"])
