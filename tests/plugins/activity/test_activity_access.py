"""Who may read which feed, and what bad queries get."""

from __future__ import annotations

import base64

import pytest
from activity_helpers import ADMIN_FEED, OWN_FEED, STATS, entries_until, feed, register_agent


@pytest.mark.parametrize("path", [ADMIN_FEED, STATS])
async def test_admin_routes_refuse_a_developer_and_an_anonymous_caller(
    activity_client, alice, path
):
    forbidden = await activity_client.get(path, headers=alice[0])
    assert forbidden.status == 403
    assert (await forbidden.json())["error"] == "forbidden"
    anonymous = await activity_client.get(path)
    assert anonymous.status == 401
    assert "error" in await anonymous.json()


async def test_own_activity_needs_a_signed_in_caller(activity_client):
    response = await activity_client.get(OWN_FEED)
    assert response.status == 401


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": base64.urlsafe_b64encode(b'{"before": "x"}').decode()},
        {"cursor": base64.urlsafe_b64encode(b"[1]").decode()},
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "many"},
        {"since": "yesterday"},
        {"since": "2030-01-01T00:00:00"},
        {"until": "2030-13-01T00:00:00Z"},
        {"action": "Agent Created"},
        {"unknown": "1"},
    ],
    ids=[
        "cursor-garbage",
        "cursor-not-a-seq",
        "cursor-not-an-object",
        "limit-zero",
        "limit-too-big",
        "limit-not-a-number",
        "since-not-a-date",
        "since-without-zone",
        "until-bad-month",
        "action-malformed",
        "unknown-parameter",
    ],
)
async def test_a_bad_query_is_a_422_json_error(activity_client, admin, query):
    response = await activity_client.get(ADMIN_FEED, params=query, headers=admin[0])
    assert response.status == 422, await response.text()
    body = await response.json()
    assert body["error"] == "validation_failed"
    assert body["details"]


@pytest.mark.parametrize("days", ["0", "366", "week"])
async def test_stats_refuse_a_bad_window(activity_client, admin, days):
    response = await activity_client.get(STATS, params={"days": days}, headers=admin[0])
    assert response.status == 422


async def test_own_activity_lists_only_mine(activity_client, admin, alice, bob):
    alice_headers, alice_id = alice
    bob_headers, bob_id = bob
    mine = await register_agent(activity_client, alice_headers)
    theirs = await register_agent(activity_client, bob_headers)
    await entries_until(activity_client, admin[0], 2, action="agent.created")
    entries = (await feed(activity_client, alice_headers, OWN_FEED, limit=100))["activity"]
    assert {entry["action"] for entry in entries} == {
        "agent.created",
        "auth.login",
        "auth.registered",
    }
    assert all(alice_id in (entry["owner_id"], entry["actor_id"]) for entry in entries)
    subjects = {entry["subject_id"] for entry in entries}
    assert mine["id"] in subjects
    assert theirs["id"] not in subjects and bob_id not in subjects


async def test_own_activity_refuses_the_admin_only_filters(activity_client, alice, bob):
    response = await activity_client.get(OWN_FEED, params={"owner_id": bob[1]}, headers=alice[0])
    assert response.status == 422
