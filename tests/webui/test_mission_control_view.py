"""Mission Control: agents registered over the API (by a developer, and by an agent with a
bootstrap token) appear in the live feed without a reload; the admin sees the federation
peers' health; a dropped stream reconnects and resumes with Last-Event-ID, without
duplicates; pausing holds the feed."""

from __future__ import annotations

import json

import pytest
from dashboard_helpers import LIVE_MS, drop_event_streams, self_register
from playwright.async_api import expect
from webui_harness import sign_in, verified_account

from registry_harness import peer_with
from support import free_port

pytestmark = pytest.mark.browser

STREAM = "/api/v1/events/stream"


async def open_mission_control(probe, registry, username: str):
    await sign_in(probe, registry, username)
    page = probe.page
    await page.goto(f"{registry.url}/ui/dashboard/mission-control")
    await page.locator("[data-connection=live]").wait_for(timeout=LIVE_MS)
    return page


def feed_item(page, text: str):
    return page.locator("[data-feed] li", has_text=text)


async def test_registrations_appear_live_in_the_feed(probe, ui_registry, inbox):
    ada = await verified_account(ui_registry, inbox, "ada")
    page = await open_mission_control(probe, ui_registry, "ada")
    await page.get_by_text("Waiting for the next event").wait_for()
    assert "for admins" in await page.locator("[data-note=non-admin]").inner_text()
    assert await page.locator("[data-section=peers]").count() == 0

    await ui_registry.add_agent(ada, "Echo")
    await feed_item(page, "You registered agent Echo").wait_for(timeout=LIVE_MS)
    await self_register(ui_registry, ada, "Scout")
    await feed_item(page, "Agent Scout registered itself with a bootstrap token").wait_for(
        timeout=LIVE_MS
    )
    # Newest first, each highlighted as it arrives.
    first = page.locator("[data-feed] li").first
    assert "Scout" in await first.inner_text()
    assert "live-feed-item-new" in await first.get_attribute("class")
    # Another developer's agents are public events too.
    bob = await ui_registry.account("bob")
    await ui_registry.add_agent(bob, "Bobs Bot")
    await feed_item(page, "Agent Bobs Bot was registered").wait_for(timeout=LIVE_MS)

    await expect(page.locator("[data-counter=registrations]")).to_have_text("3")
    await expect(page.locator("[data-counter=agents]")).to_have_text("3")
    summary = await page.locator("[data-chart-summary]").inner_text()
    assert summary.startswith("Last 30 minutes: 3 agents registered")

    await probe.assert_accessible()
    await probe.screenshots("mission-control")


async def test_pausing_holds_new_events_until_resumed(probe, ui_registry):
    cyd = await ui_registry.account("cyd")
    page = await open_mission_control(probe, ui_registry, "cyd")
    pause = page.get_by_role("button", name="Pause")
    await pause.click()
    assert await page.get_by_role("button", name="Resume").get_attribute("aria-pressed") == "true"
    await ui_registry.add_agent(cyd, "Held")
    await page.get_by_text("Paused: 1 new event waits").wait_for(timeout=LIVE_MS)
    assert await feed_item(page, "Held").count() == 0
    await page.get_by_role("button", name="Resume").click()
    await feed_item(page, "You registered agent Held").wait_for()

    await page.get_by_label("Show events").select_option("registrations")
    await ui_registry.json(
        "POST",
        "/api/v1/auth/api-keys",
        expect=201,
        json={"name": "k", "scopes": ["agents:read"]},
        headers=cyd,
    )
    await page.locator("[data-feed] li[data-action='api_key.created']").wait_for(state="hidden")
    assert await feed_item(page, "Held").is_visible()


async def test_the_admin_sees_federation_peer_health(probe, ui_registry, start_ui_registry):
    remote = await start_ui_registry("Remote")
    await peer_with(ui_registry, remote)
    await ui_registry.add_peer("Ghost", f"http://127.0.0.1:{free_port()}", "avf_ghost_token")
    # A federated search asks both: one answers, the other cannot be reached.
    await ui_registry.search("anything")
    await ui_registry.account("root", role="admin")

    page = await open_mission_control(probe, ui_registry, "root")
    peers = page.locator("[data-section=peers]")
    remote_row = peers.locator("tr", has_text="Remote")
    await remote_row.wait_for()
    assert await remote_row.get_attribute("data-peer-health") == "answering"
    assert " ms" in await remote_row.inner_text()
    ghost_row = peers.locator("tr", has_text="Ghost")
    assert await ghost_row.get_attribute("data-peer-health") == "failing"
    assert "1 failed in a row" in await ghost_row.inner_text()
    assert "none" not in await ghost_row.locator("td").last.inner_text()
    assert await page.locator("[data-note=non-admin]").count() == 0
    assert (
        "daily search counter" in await page.locator("[data-note=searches-measured]").inner_text()
    )

    # A peer added while the page is open arrives as a peer.added event and refreshes the table.
    await ui_registry.add_peer("Late", f"http://127.0.0.1:{free_port()}", "avf_late_token")
    await feed_item(page, "added federation peer Late").wait_for(timeout=LIVE_MS)
    await peers.locator("tr", has_text="Late").wait_for(timeout=LIVE_MS)
    await expect(page.locator("[data-counter=peers]")).to_have_text("1 / 3")

    await probe.assert_accessible()
    await probe.screenshots("mission-control-admin")


async def test_a_dropped_stream_resumes_where_it_left_off(probe, ui_registry):
    dee = await ui_registry.account("dee")
    resumes: list[str | None] = []
    probe.page.on(
        "request",
        lambda request: (
            STREAM in request.url and resumes.append(request.headers.get("last-event-id"))
        ),
    )
    page = await open_mission_control(probe, ui_registry, "dee")
    await ui_registry.add_agent(dee, "Before")
    await feed_item(page, "Before").wait_for(timeout=LIVE_MS)

    assert drop_event_streams(ui_registry) == 1
    # Registered while the browser has no stream: only the resumed one can deliver it.
    await ui_registry.add_agent(dee, "During")
    await page.locator("[data-connection=reconnecting]").wait_for(timeout=LIVE_MS)
    await page.locator("[data-connection=live]").wait_for(timeout=LIVE_MS)
    await feed_item(page, "During").wait_for(timeout=LIVE_MS)
    await ui_registry.add_agent(dee, "After")
    await feed_item(page, "After").wait_for(timeout=LIVE_MS)

    assert resumes[0] is None
    assert resumes[-1] is not None and int(resumes[-1]) >= 1
    for name in ("Before", "During", "After"):
        assert await feed_item(page, f"agent {name}").count() == 1, name
    seqs = await page.locator("[data-feed] li").evaluate_all(
        "(items) => items.map((item) => Number(item.dataset.seq))"
    )
    assert seqs == sorted(set(seqs), reverse=True)


async def test_a_refused_stream_backs_off_and_retries(probe, ui_registry):
    probe.expect(503, STREAM)
    await ui_registry.account("eve")
    refusals = {"left": 1}

    async def stream(route):
        if refusals["left"]:
            refusals["left"] -= 1
            body = {"error": "service_unavailable", "message": "Too many event streams."}
            await route.fulfill(
                status=503,
                content_type="application/json",
                headers={"Retry-After": "1"},
                body=json.dumps(body),
            )
        else:
            await route.continue_()

    await probe.page.route(f"**{STREAM}*", stream)
    await sign_in(probe, ui_registry, "eve")
    page = probe.page
    await page.goto(f"{ui_registry.url}/ui/dashboard/mission-control")
    await page.locator("[data-connection=reconnecting]").wait_for(timeout=LIVE_MS)
    assert "next try in" in await page.locator("[data-connection-panel]").inner_text()
    await page.locator("[data-connection=live]").wait_for(timeout=LIVE_MS)


async def test_a_stream_answering_401_refreshes_the_session_and_reconnects(probe, ui_registry):
    probe.expect(401, STREAM)
    await ui_registry.account("fay")
    sent: list[str] = []

    async def stream(route):
        sent.append(route.request.headers["authorization"])
        if len(sent) == 1:
            body = {"error": "invalid_credentials", "message": "The token has expired."}
            await route.fulfill(status=401, content_type="application/json", body=json.dumps(body))
        else:
            await route.continue_()

    await sign_in(probe, ui_registry, "fay")
    await probe.page.route(f"**{STREAM}*", stream)
    page = probe.page
    await page.goto(f"{ui_registry.url}/ui/dashboard/mission-control")
    await page.locator("[data-connection=live]").wait_for(timeout=LIVE_MS)
    # Only a refresh after the 401 gives the retry another access token.
    assert len(sent) == 2 and sent[0] != sent[1]


PARSE_CHUNKS = """
async (chunks) => {
  const base = JSON.parse(document.getElementById("webui-config").textContent).asset_base;
  const { SseParser } = await import(`${base}/js/core/event_stream.js`);
  const seen = { events: [], ids: [], retries: [] };
  const parser = new SseParser({
    dispatch: (event) => seen.events.push(event),
    onId: (id) => seen.ids.push(id),
    onRetry: (ms) => seen.retries.push(ms),
  });
  for (const chunk of chunks) parser.feed(chunk);
  return seen;
}
"""


async def test_the_stream_parser_reads_events_split_anywhere(probe, ui_registry):
    await probe.page.goto(f"{ui_registry.url}/")
    chunks = [
        'retry: 3000\n\n: heartbeat\n\nid: 7\nevent: agent.created\ndata: {"a":',
        "1}\r",
        "\n\r\nid: 8\ndata: line one\ndata:line two\n\n",
        "id: 9\n\nevent: ignored\n",
    ]
    seen = await probe.page.evaluate(PARSE_CHUNKS, chunks)
    assert seen["events"] == [
        {"id": "7", "event": "agent.created", "data": '{"a":1}'},
        {"id": "8", "event": "message", "data": "line one\nline two"},
    ]
    # An id without data still moves Last-Event-ID on; an unfinished event dispatches nothing.
    assert seen["ids"] == ["7", "8", "9"]
    assert seen["retries"] == [3000]
