"""Bootstrap tokens and federation peers in the activity log."""

from __future__ import annotations

import json

from activity_helpers import entries_until, feed

from support import self_onboarded, sign_up

PEERS = "/api/v1/admin/federation/peers"
OUTBOUND = "avf_the-token-the-peer-gave-us-0123456789"


async def test_a_bootstrap_token_issued_and_redeemed_is_recorded_without_the_token(
    activity_client, admin
):
    developer = await sign_up(activity_client, "carol")
    onboarded = await self_onboarded(
        activity_client,
        developer.headers,
        {
            "name": "Ledger Bot",
            "description": "Pays and gets paid.",
            "apiEndpoints": ["https://ledger.example.com/a2a"],
        },
    )
    agent_id = onboarded["credentials"]["agent_id"]
    entries = await entries_until(activity_client, admin[0], 2, action="bootstrap_token.")
    redeemed, issued = entries
    assert issued["action"] == "bootstrap_token.issued"
    assert issued["actor_id"] == developer.user_id
    assert issued["owner_id"] == developer.user_id
    assert redeemed["action"] == "bootstrap_token.redeemed"
    assert redeemed["subject_id"] == issued["subject_id"]
    assert (redeemed["actor_kind"], redeemed["actor_id"]) == ("agent", agent_id)
    assert redeemed["owner_id"] == developer.user_id
    created = await entries_until(activity_client, admin[0], 1, action="agent.created")
    assert (created[0]["actor_kind"], created[0]["subject_id"]) == ("agent", agent_id)
    whole_feed = json.dumps(await feed(activity_client, admin[0], limit=100))
    assert "BST_" not in whole_feed
    assert onboarded["credentials"]["api_key"] not in whole_feed


async def test_peers_added_changed_and_removed_by_an_admin_are_recorded(activity_client, admin):
    admin_headers, admin_id = admin
    added = await activity_client.post(
        PEERS,
        json={
            "name": "Peer One",
            "registry_url": "http://127.0.0.1:9/registry/",
            "admin_contact": "ops@peer.example.org",
            "federation_access_token": OUTBOUND,
        },
        headers=admin_headers,
    )
    assert added.status == 201, await added.text()
    peer = await added.json()
    changed = await activity_client.put(
        f"{PEERS}/{peer['id']}", json={"status": "disabled"}, headers=admin_headers
    )
    assert changed.status == 200, await changed.text()
    removed = await activity_client.delete(f"{PEERS}/{peer['id']}", headers=admin_headers)
    assert removed.status == 204
    entries = (await feed(activity_client, admin_headers, action="peer."))["activity"]
    assert [entry["action"] for entry in entries] == ["peer.removed", "peer.updated", "peer.added"]
    assert all(entry["actor_id"] == admin_id for entry in entries)
    assert all(entry["subject_id"] == peer["id"] for entry in entries)
    assert entries[1]["details"]["status"] == "disabled"
    whole_feed = json.dumps(await feed(activity_client, admin_headers, limit=100))
    assert OUTBOUND not in whole_feed
    assert peer["inbound_token"] not in whole_feed
