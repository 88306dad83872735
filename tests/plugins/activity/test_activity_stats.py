"""Usage and statistics after a scripted workload."""

from __future__ import annotations

import datetime as dt

from activity_helpers import OWN_FEED, STATS, entries_until, feed, register_agent

from agentvault_registry.plugins.activity import flush_usage


async def test_stats_count_a_scripted_workload(activity_client, admin, alice):
    alice_headers, _ = alice
    agents = [
        await register_agent(
            activity_client,
            alice_headers,
            name=f"X{n}",
            agentType="x-type",
            capabilities=["translate", "summarize"],
        )
        for n in range(3)
    ] + [
        await register_agent(
            activity_client,
            alice_headers,
            name=f"Y{n}",
            agentType="y-type",
            capabilities=["translate"],
        )
        for n in range(2)
    ]
    deleted = await activity_client.delete(
        f"/api/v1/agents/{agents[0]['id']}", headers=alice_headers
    )
    assert deleted.status == 204
    for _ in range(4):
        search = await activity_client.get("/api/v1/discovery/agents", params={"q": "echoes"})
        assert search.status == 200, await search.text()
    await entries_until(activity_client, admin[0], 6, action="agent.")
    await flush_usage(activity_client.app)

    response = await activity_client.get(STATS, params={"days": 7}, headers=admin[0])
    assert response.status == 200, await response.text()
    stats = await response.json()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert stats["days"] == 7
    assert stats["agents_by_type"] == {"x-type": 2, "y-type": 2}
    assert stats["agents_by_status"] == {"active": 4}
    assert stats["agents_created"] == [{"day": today, "count": 5}]
    assert stats["agents_deleted"] == [{"day": today, "count": 1}]
    assert stats["searches"] == [{"day": today, "count": 4}]
    assert stats["top_capabilities"] == [
        {"capability": "translate", "agents": 4},
        {"capability": "summarize", "agents": 2},
    ]
    assert stats["federation"] == []


async def test_own_usage_counts_my_api_requests_per_day(activity_client, alice, bob):
    alice_headers, _ = alice
    for _ in range(3):
        me = await activity_client.get("/api/v1/auth/me", headers=alice_headers)
        assert me.status == 200
    await activity_client.get("/api/v1/auth/me", headers=bob[0])
    await flush_usage(activity_client.app)
    usage = (await feed(activity_client, alice_headers, OWN_FEED))["usage"]
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert usage["days"] == 30
    # The three calls above; this feed request itself is counted after the flush.
    assert usage["api_requests"] == [{"day": today, "count": 3}]
    assert usage["api_requests_total"] == 3


async def test_own_usage_counts_my_searches_per_day(activity_client, admin, alice, bob):
    alice_headers, _ = alice
    for params, headers in [
        ({"q": "echoes"}, alice_headers),
        ({"q": "anything"}, alice_headers),
        ({"q": "bob's"}, bob[0]),
        ({"q": "nobody's"}, {}),
    ]:
        search = await activity_client.get(
            "/api/v1/discovery/agents", params=params, headers=headers
        )
        assert search.status == 200, await search.text()
    by_body = await activity_client.post(
        "/api/v1/discovery/search", json={"q": "by body"}, headers=alice_headers
    )
    assert by_body.status == 200, await by_body.text()
    await flush_usage(activity_client.app)

    usage = (await feed(activity_client, alice_headers, OWN_FEED))["usage"]
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert usage["searches"] == [{"day": today, "count": 3}]
    assert usage["searches_total"] == 3
    stats = await feed(activity_client, admin[0], STATS)
    assert stats["searches"] == [{"day": today, "count": 5}], "every search, anyone's"
