"""What the registry records in its activity log, seen through the admin feed."""

from __future__ import annotations

import json

from activity_helpers import ADMIN_FEED, entries_until, feed, register_agent

from support import PASSWORD


async def test_an_agents_life_is_recorded_with_its_actor_owner_and_summary(
    activity_client, admin, alice
):
    alice_headers, alice_id = alice
    agent = await register_agent(
        activity_client, alice_headers, agentType="tool", capabilities=["translate"]
    )
    changed = await activity_client.patch(
        f"/api/v1/agents/{agent['id']}", json={"name": "Echo 2"}, headers=alice_headers
    )
    assert changed.status == 200, await changed.text()
    deleted = await activity_client.delete(f"/api/v1/agents/{agent['id']}", headers=alice_headers)
    assert deleted.status == 204
    entries = await entries_until(activity_client, admin[0], 3, action="agent.")
    assert [entry["action"] for entry in entries] == [
        "agent.deleted",
        "agent.updated",
        "agent.created",
    ]
    for entry in entries:
        assert entry["actor_kind"] == "user"
        assert entry["actor_id"] == alice_id
        assert entry["owner_id"] == alice_id
        assert entry["subject_type"] == "agent"
        assert entry["subject_id"] == agent["id"]
        assert entry["request_id"]
    created = entries[-1]["details"]
    assert created["name"] == "Echo"
    assert created["agent_type"] == "tool"
    assert created["capabilities"] == ["translate"]
    assert created["did"] == agent["did"]
    assert entries[1]["details"]["name"] == "Echo 2"
    assert entries[0]["details"]["status"] == "deleted"


async def test_account_events_are_recorded(activity_client, admin, alice):
    _, alice_id = alice
    entries = await entries_until(activity_client, admin[0], 1, owner_id=alice_id)
    assert [entry["action"] for entry in entries] == ["auth.login", "auth.registered"]
    assert all(entry["actor_id"] == alice_id for entry in entries)
    assert all(entry["subject_id"] == alice_id for entry in entries)


async def test_a_failed_login_names_the_account_but_no_actor(activity_client, admin, alice):
    _, alice_id = alice
    refused = await activity_client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": "not the password"}
    )
    assert refused.status == 401
    (entry,) = (await feed(activity_client, admin[0], action="auth.login_failed"))["activity"]
    assert entry["actor_kind"] == "system"
    assert entry["actor_id"] is None
    assert entry["subject_id"] == alice_id
    assert "not the password" not in json.dumps(entry)


async def test_api_keys_and_logout_are_recorded_without_secrets(activity_client, admin, alice):
    alice_headers, alice_id = alice
    created = await activity_client.post(
        "/api/v1/auth/api-keys",
        json={"name": "ci", "scopes": ["agents:read"]},
        headers=alice_headers,
    )
    assert created.status == 201, await created.text()
    key = await created.json()
    revoked = await activity_client.delete(
        f"/api/v1/auth/api-keys/{key['id']}", headers=alice_headers
    )
    assert revoked.status == 204
    logout = await activity_client.post("/api/v1/auth/logout", headers=alice_headers)
    assert logout.status == 204
    entries = (await feed(activity_client, admin[0], owner_id=alice_id))["activity"]
    assert [entry["action"] for entry in entries[:3]] == [
        "auth.logout",
        "api_key.revoked",
        "api_key.created",
    ]
    assert entries[2]["subject_type"] == "api_key"
    assert entries[2]["subject_id"] == key["id"]
    assert entries[2]["details"]["name"] == "ci"
    whole_feed = json.dumps(await feed(activity_client, admin[0], limit=100))
    assert key["key"] not in whole_feed
    assert PASSWORD not in whole_feed
    assert alice_headers["Authorization"].removeprefix("Bearer ") not in whole_feed


async def test_the_feed_pages_with_cursors_without_duplicates_or_gaps(
    activity_client, admin, alice
):
    alice_headers, _ = alice
    for number in range(7):
        await register_agent(activity_client, alice_headers, name=f"Agent {number}")
    every = await entries_until(activity_client, admin[0], 7, action="agent.created")
    seen, cursor = [], None
    while True:
        query = {"limit": 3, "action": "agent.created"} | ({"cursor": cursor} if cursor else {})
        page = await feed(activity_client, admin[0], **query)
        seen += [entry["seq"] for entry in page["activity"]]
        cursor = page["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert seen == [entry["seq"] for entry in every]
    assert len(seen) == len(set(seen)) == 7


async def test_filters_narrow_the_feed(activity_client, admin, alice, bob):
    alice_headers, alice_id = alice
    bob_headers, bob_id = bob
    agent = await register_agent(activity_client, alice_headers)
    await register_agent(activity_client, bob_headers)
    await entries_until(activity_client, admin[0], 2, action="agent.created")
    by_actor = (await feed(activity_client, admin[0], actor_id=bob_id))["activity"]
    assert by_actor and all(entry["actor_id"] == bob_id for entry in by_actor)
    by_subject = await feed(activity_client, admin[0], subject_type="agent", subject_id=agent["id"])
    assert [entry["action"] for entry in by_subject["activity"]] == ["agent.created"]
    response = await activity_client.get(
        ADMIN_FEED,
        params=[("action", "auth.registered"), ("action", "agent."), ("owner_id", alice_id)],
        headers=admin[0],
    )
    actions = [entry["action"] for entry in (await response.json())["activity"]]
    assert actions == ["agent.created", "auth.registered"]
    future = await feed(activity_client, admin[0], since="2999-01-01T00:00:00+00:00")
    assert future["activity"] == []
    past = await feed(activity_client, admin[0], until="2000-01-01T00:00:00Z")
    assert past["activity"] == []
