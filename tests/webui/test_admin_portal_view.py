"""The admin portal in the browser: monitoring with the activity log, federation peers against
a second real registry, users, and analytics; only admins get in."""

from __future__ import annotations

import re

import pytest
from admin_portal_steps import PEERS, admin_on
from webui_harness import sign_in

pytestmark = pytest.mark.browser

USERS = "/api/v1/admin/users"


async def test_a_developer_gets_the_admins_only_page(probe, ui_registry):
    await ui_registry.account("dev")
    await sign_in(probe, ui_registry, "dev", "/ui/admin/peers")
    page = probe.page
    await page.get_by_role("heading", name="Admins only").wait_for()
    assert await page.get_by_role("link", name="Admin", exact=True).count() == 0
    assert await page.get_by_role("button", name="Add peer").count() == 0


async def test_monitoring_shows_health_counts_and_pages_the_activity_log(probe, ui_registry):
    probe.expect(422, r"/api/v1/admin/activity\?")
    headers = await ui_registry.account("ada")
    for number in range(22):
        await ui_registry.add_agent(headers, f"Agent {number}", agentType="assistant")
    await admin_on(probe, ui_registry, "/ui/admin")
    page = probe.page

    await page.locator("[data-ready=true]").wait_for()
    for check in ("records", "cache", "blobs"):
        assert "ok" in await page.locator(f"[data-check={check}]").inner_text()
    agents = page.locator("[data-card=agents]")
    await agents.get_by_text("assistant").wait_for()
    assert "22" in await agents.inner_text()
    users = page.locator("[data-card=users]")
    await users.get_by_text("Admins").wait_for()
    # The harness's admin, ada and root.
    assert (await users.locator(".stat-value").inner_text()) == "3"

    entries = page.locator("[data-activity-list] [data-activity-seq]")
    await entries.nth(19).wait_for()
    assert await entries.count() == 20
    await page.get_by_role("button", name="Load older entries").click()
    await entries.nth(20).wait_for()
    seqs = [
        int(value)
        for value in await entries.evaluate_all(
            "(rows) => rows.map((row) => row.dataset.activitySeq)"
        )
    ]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)

    await page.get_by_label("Action or prefix").fill("agent.")
    await page.get_by_label("Actor").fill("ada")
    await page.get_by_role("button", name="Apply filters").click()
    await page.wait_for_function(
        """() => {
            const rows = [...document.querySelectorAll("[data-activity-list] [data-action]")];
            const created = rows.filter((row) => row.dataset.action === "agent.created");
            return rows.length === 20 && created.length === 20;
        }"""
    )
    assert "by user ada" in await entries.first.inner_text()

    await page.get_by_label("Actor").fill("nobody-here")
    await page.get_by_role("button", name="Apply filters").click()
    await page.get_by_text("No account is called nobody-here.").wait_for()

    await page.get_by_label("Actor").fill("")
    await page.get_by_label("Action or prefix").fill("Not An Action!")
    await page.get_by_role("button", name="Apply filters").click()
    await page.locator("input[name=action].is-invalid").wait_for()

    await page.get_by_role("button", name="Clear").click()
    await entries.nth(19).wait_for()
    await probe.assert_accessible()
    await probe.screenshots("admin-overview")


async def test_an_admin_adds_a_peer_that_answers_and_sees_its_health(
    probe, ui_registry, start_ui_registry
):
    probe.expect(422, rf"{PEERS}$")
    remote = await start_ui_registry("Remote")
    # Remote's admin issues the token Home presents to it.
    on_remote = await remote.add_peer("Home", ui_registry.url, "avf_placeholder_for_home")
    await probe.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await admin_on(probe, ui_registry, "/ui/admin/peers")
    page = probe.page
    await page.get_by_text("No federation peers yet").wait_for()

    form = page.locator("[data-add-peer-form]")
    await form.get_by_label("Name").fill("Remote")
    await form.get_by_label("Registry URL").fill("ftp://remote.example.org")
    await form.get_by_label("Admin contact").fill("ops@remote.example.org")
    await form.get_by_label("Federation access token").fill(on_remote["inbound_token"])
    await form.get_by_role("button", name="Add peer").click()
    url_field = form.locator("input[name=registry_url].is-invalid")
    await url_field.wait_for()
    feedback = page.locator(f"#{await url_field.get_attribute('id')}-feedback")
    assert "http(s) URL" in await feedback.inner_text()

    await form.get_by_label("Registry URL").fill(remote.url)
    await form.get_by_role("button", name="Add peer").click()
    dialog = page.get_by_role("dialog", name="Remote is added")
    await dialog.wait_for()
    issued = await dialog.get_by_label("Inbound token").input_value()
    assert "must store it" in await dialog.inner_text()
    await dialog.get_by_role("button", name="Copy").click()
    assert await page.evaluate("navigator.clipboard.readText()") == issued
    await dialog.get_by_role("button", name="I have stored it").click()
    await dialog.wait_for(state="detached")
    # Shown once: nothing on the page holds it any more.
    assert issued not in await page.content()

    # The token Home issued lets Remote query Home.
    answer = await ui_registry.json(
        "POST",
        "/api/v1/internal/federation/query",
        json={"search": "x"},
        headers={"Authorization": f"Bearer {issued}"},
    )
    assert answer["registry"]["name"] == "Home"

    row = page.locator("tr[data-peer-name=Remote]")
    await row.get_by_text("Not contacted yet").wait_for()
    assert "Active" in await row.locator("[data-peer-status]").inner_text()
    await page.get_by_role("button", name="Check now").click()
    await page.locator("[data-check-result]").get_by_text("Every active peer answered.").wait_for()
    await row.locator("[data-peer-health]").get_by_text(re.compile(r"\d+ ms · answered")).wait_for()
    (stored,) = (await ui_registry.json("GET", PEERS, headers=ui_registry.admin))["peers"]
    assert stored["registry_url"] == remote.url and stored["last_seen_at"] is not None

    await probe.assert_accessible()
    await probe.screenshots("admin-peers")


async def test_rotate_disable_enable_and_delete_a_peer(probe, ui_registry):
    peer = await ui_registry.add_peer("Faraway", "http://127.0.0.1:9", "avf_never_used_token")
    await admin_on(probe, ui_registry, "/ui/admin/peers")
    page = probe.page
    row = page.locator(f"tr[data-peer-id='{peer['id']}']")
    await row.wait_for()

    await row.get_by_role("button", name="Rotate token").click()
    confirm = page.get_by_role("dialog", name="Rotate Faraway's token?")
    await confirm.get_by_role("button", name="Rotate token").click()
    shown = page.get_by_role("dialog", name="New token for Faraway")
    new_token = await shown.get_by_label("Inbound token").input_value()
    assert new_token and new_token != peer["inbound_token"]
    await shown.get_by_role("button", name="I have stored it").click()
    await shown.wait_for(state="detached")
    query = {"json": {"search": "x"}}
    old = await ui_registry.request(
        "POST",
        "/api/v1/internal/federation/query",
        headers={"Authorization": f"Bearer {peer['inbound_token']}"},
        **query,
    )
    assert old.status == 401
    await ui_registry.json(
        "POST",
        "/api/v1/internal/federation/query",
        headers={"Authorization": f"Bearer {new_token}"},
        **query,
    )

    await row.get_by_role("button", name="Disable").click()
    await row.locator("[data-peer-status=disabled]").wait_for()
    stored = await ui_registry.json("GET", f"{PEERS}/{peer['id']}", headers=ui_registry.admin)
    assert stored["status"] == "disabled"
    await row.get_by_role("button", name="Enable").click()
    await row.locator("[data-peer-status=active]").wait_for()
    stored = await ui_registry.json("GET", f"{PEERS}/{peer['id']}", headers=ui_registry.admin)
    assert stored["status"] == "active"

    await row.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog", name="Delete Faraway?")
    await confirm.get_by_role("button", name="Delete peer").wait_for()
    await page.keyboard.press("Escape")
    await confirm.wait_for(state="detached")
    assert await row.count() == 1, "Esc cancels"
    await row.get_by_role("button", name="Delete").click()
    await (
        page.get_by_role("dialog", name="Delete Faraway?")
        .get_by_role("button", name="Delete peer")
        .click()
    )
    await page.get_by_text("No federation peers yet").wait_for()
    assert (await ui_registry.json("GET", PEERS, headers=ui_registry.admin))["peers"] == []


async def test_users_search_promote_deactivate_and_the_last_admin_refusal(probe, ui_registry):
    await ui_registry.account("ada")
    bob = await ui_registry.account("bob")
    root = await admin_on(probe, ui_registry, "/ui/admin/users")
    page = probe.page
    await page.locator("tr[data-username=bob]").wait_for()

    await page.get_by_label("Search", exact=True).fill("ada")
    await page.get_by_role("button", name="Search").click()
    await page.locator("tr[data-username=bob]").wait_for(state="detached")
    await page.locator("tr[data-username=ada]").wait_for()
    assert await page.locator("tbody tr").count() == 1
    assert page.url.endswith("/ui/admin/users?q=ada")

    ada = page.locator("tr[data-username=ada]")
    await ada.get_by_role("button", name="Make admin").click()
    await ada.locator("[data-role=admin]").wait_for()
    (stored,) = (await ui_registry.json("GET", f"{USERS}?q=ada", headers=root))["users"]
    assert stored["role"] == "admin"

    await page.get_by_label("Search", exact=True).fill("")
    await page.get_by_role("button", name="Search").click()
    row = page.locator("tr[data-username=bob]")
    await row.get_by_role("button", name="Deactivate").click()
    await (
        page.get_by_role("dialog", name="Deactivate bob?")
        .get_by_role("button", name="Deactivate")
        .click()
    )
    await row.get_by_text("Deactivated").wait_for()
    refused = await ui_registry.request("GET", "/api/v1/auth/me", headers=bob)
    assert refused.status == 401

    probe.expect(409, r"/api/v1/admin/users/[0-9a-f-]+$")
    mine = page.locator("tr[data-username=root]")
    await mine.get_by_role("button", name="Deactivate").click()
    await (
        page.get_by_role("dialog", name="Deactivate root?")
        .get_by_role("button", name="Deactivate")
        .click()
    )
    notice = page.locator("[data-outcome=danger]")
    await notice.get_by_text("Admins cannot deactivate their own account.").wait_for()

    # Leave root the one active admin (ada and the harness's admin step down), then let root
    # try to step down too.
    admins = (await ui_registry.json("GET", f"{USERS}?role=admin", headers=root))["users"]
    for user in admins:
        if user["username"] != "root":
            await ui_registry.json(
                "PATCH", f"{USERS}/{user['id']}", json={"role": "developer"}, headers=root
            )
    await mine.get_by_role("button", name="Make developer").click()
    await notice.get_by_text("The registry would be left without an active admin.").wait_for()
    assert await notice.get_attribute("data-code") == "last_active_admin"
    await probe.assert_accessible()
    await probe.screenshots("admin-users")


async def test_analytics_charts_follow_the_period(probe, ui_registry):
    headers = await ui_registry.account("ada")
    await ui_registry.add_agent(
        headers, "Weather", agentType="assistant", capabilities=["weather", "maps"]
    )
    await ui_registry.add_agent(headers, "Router", agentType="tool", capabilities=["maps"])
    gone = await ui_registry.add_agent(headers, "Old", agentType="tool")
    await ui_registry.json("DELETE", f"/api/v1/agents/{gone['id']}", expect=204, headers=headers)
    await ui_registry.search("weather")
    await admin_on(probe, ui_registry, "/ui/admin/analytics")
    page = probe.page

    for key in (
        "agents-per-day",
        "searches-per-day",
        "top-capabilities",
        "agents-by-type",
        "agents-by-status",
    ):
        await page.locator(f"[data-chart={key}] canvas").wait_for()
    drawn = await page.locator("[data-analytics] canvas").evaluate_all(
        "(canvases) => canvases.map((canvas) => Boolean(window.Chart.getChart(canvas)))"
    )
    assert drawn == [True] * 5
    changes = page.get_by_role("img", name=re.compile("Agents created and deleted per day"))
    assert "3 created, 1 deleted in the last 30 days" in await changes.get_attribute("aria-label")
    top = page.get_by_role("img", name=re.compile("Top capabilities"))
    assert "maps 2, weather 1" in await top.get_attribute("aria-label")

    await page.get_by_text("7 days").click()
    await page.get_by_text("in the last 7 days", exact=False).first.wait_for()
    assert page.url.endswith("/ui/admin/analytics?days=7")
    await page.reload()
    await page.get_by_text("in the last 7 days", exact=False).first.wait_for()
    assert await page.locator("#admin-days-7").is_checked()
    await probe.assert_accessible()
    await probe.screenshots("admin-analytics")
