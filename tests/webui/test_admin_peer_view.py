"""A federation peer's own admin page: deep link and reload, health after a federated search,
the edit form with the API's field errors, its history, and deletion."""

from __future__ import annotations

import re

import pytest
from admin_portal_steps import PEERS, admin_on

from registry_harness import peer_with

pytestmark = pytest.mark.browser


async def test_the_peer_page_shows_health_and_saves_edits(probe, ui_registry, start_ui_registry):
    probe.expect(422, rf"{PEERS}/[0-9a-f-]+$")
    remote = await start_ui_registry("Remote")
    peer = await peer_with(ui_registry, remote)
    # A federated search, as any client makes one, records the peer's health.
    answer = await ui_registry.search("anything")
    assert answer["federation_status"]["peers_responded"] == 1
    path = f"/ui/admin/peers/{peer['id']}"
    await admin_on(probe, ui_registry, path)
    page = probe.page

    await page.get_by_role("heading", name="Remote", exact=True).wait_for()
    health = page.locator("[data-peer-health-card]")
    await health.get_by_text(re.compile(r"\d+ ms · answered")).wait_for()
    assert "Queried normally" in await health.inner_text()
    assert remote.url in await page.locator("[data-peer-config]").inner_text()
    await page.get_by_text("History of this peer").wait_for()
    await page.locator("[data-action='peer.added']").wait_for()

    await page.reload()
    await page.get_by_role("heading", name="Remote", exact=True).wait_for()
    assert await page.title() == "Remote · Federation peer · Home"

    form = page.locator("[data-edit-peer-form]")
    await form.get_by_label("SPIFFE ID (optional)").fill("not a spiffe id")
    await form.get_by_role("button", name="Save changes").click()
    await form.locator("input[name=spiffe_id].is-invalid").wait_for()

    await form.get_by_label("SPIFFE ID (optional)").fill("")
    await form.get_by_label("Name").fill("Remote West")
    await form.get_by_role("button", name="Save changes").click()
    await page.get_by_role("heading", name="Remote West", exact=True).wait_for()
    stored = await ui_registry.json("GET", f"{PEERS}/{peer['id']}", headers=ui_registry.admin)
    assert stored["name"] == "Remote West" and stored["spiffe_id"] is None
    await page.locator("[data-action='peer.updated']").wait_for()

    await page.get_by_role("button", name="Check now").click()
    await page.locator("[data-check-result]").get_by_text("Remote West: ok").wait_for()

    await probe.assert_accessible()
    await probe.screenshots("admin-peer")

    await page.get_by_role("button", name="Delete").click()
    await (
        page.get_by_role("dialog", name="Delete Remote West?")
        .get_by_role("button", name="Delete peer")
        .click()
    )
    await page.wait_for_url(f"{ui_registry.url}/ui/admin/peers")
    await page.get_by_text("No federation peers yet").wait_for()


async def test_an_unknown_peer_says_so(probe, ui_registry):
    probe.expect(404, rf"{PEERS}/[0-9a-f-]+$")
    await admin_on(probe, ui_registry, "/ui/admin/peers/00000000-0000-4000-8000-000000000000")
    await probe.page.get_by_text("No such peer").wait_for()
    await probe.page.get_by_role("link", name="All peers").click()
    await probe.page.wait_for_url(f"{ui_registry.url}/ui/admin/peers")
    await probe.page.get_by_text("No federation peers yet").wait_for()
