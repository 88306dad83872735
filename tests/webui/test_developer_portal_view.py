"""The developer portal in the browser: my agents edited in place (a stale edit shows the
conflict and overwrites nothing), bootstrap tokens, API keys and usage charts."""

from __future__ import annotations

import re

import pytest
from webui_harness import sign_in, verified_account

from agentvault_registry.plugins.activity import flush_usage

pytestmark = pytest.mark.browser

PORTAL = "/ui/developer"


def agent_path(agent: dict) -> str:
    return f"/api/v1/agents/{agent['id']}"


async def test_an_inline_edit_saves_what_the_row_shows(probe, ui_registry):
    headers = await ui_registry.account("ada")
    agent = await ui_registry.add_agent(headers, "Echo", tags=["demo"])
    await sign_in(probe, ui_registry, "ada", PORTAL)
    page = probe.page
    row = page.locator(f"tr[data-agent-id='{agent['id']}']")
    await row.get_by_text("Unsigned").wait_for()
    await row.get_by_text("Not probed yet").wait_for()
    await probe.assert_accessible()
    await probe.screenshots("developer-agents")

    await page.get_by_role("button", name="Edit Echo").click()
    await page.get_by_label("Name").fill("Echo Prime")
    await page.get_by_label("Status").select_option("deprecated")
    await page.get_by_label("Tags (comma-separated)").fill("demo, prime")
    await probe.assert_accessible()
    await page.get_by_role("button", name="Save").click()

    await page.get_by_role("link", name="Echo Prime").wait_for()
    shown = page.locator(f"tr[data-agent-id='{agent['id']}']")
    assert await shown.locator("[data-agent-status]").inner_text() == "Deprecated"
    stored = await ui_registry.json("GET", agent_path(agent))
    assert (stored["name"], stored["status"], stored["tags"]) == (
        "Echo Prime",
        "deprecated",
        ["demo", "prime"],
    )


async def test_a_field_the_api_refuses_is_marked_in_the_row(probe, ui_registry):
    probe.expect(422, r"/api/v1/agents/[0-9a-f-]+$")
    headers = await ui_registry.account("bea")
    agent = await ui_registry.add_agent(headers, "Relay")
    await sign_in(probe, ui_registry, "bea", PORTAL)
    page = probe.page
    await page.get_by_role("button", name="Edit Relay").click()
    tags = page.get_by_label("Tags (comma-separated)")
    await tags.fill("x" * 101)
    await page.get_by_role("button", name="Save").click()
    await page.locator("input[name=tags].is-invalid").wait_for()
    feedback = page.locator(f"#{await tags.get_attribute('id')}-feedback")
    assert "Length must be between 1 and 100" in await feedback.inner_text()
    assert (await ui_registry.json("GET", agent_path(agent)))["tags"] == []


async def test_a_stale_edit_shows_the_conflict_and_overwrites_nothing(probe, ui_registry):
    probe.expect(412, r"/api/v1/agents/[0-9a-f-]+$")
    headers = await ui_registry.account("cyd")
    agent = await ui_registry.add_agent(headers, "Ledger")
    await sign_in(probe, ui_registry, "cyd", PORTAL)
    page = probe.page
    await page.get_by_role("button", name="Edit Ledger").click()
    await page.get_by_label("Name").fill("Ledger (mine)")

    # Another writer saves first, through the API.
    await ui_registry.json(
        "PATCH",
        agent_path(agent),
        json={"description": "Changed by someone else.", "name": "Ledger (theirs)"},
        headers=headers,
    )
    await page.get_by_role("button", name="Save").click()
    conflict = page.locator(f"[data-conflict-for='{agent['id']}']")
    await conflict.get_by_text("Someone changed this agent").wait_for()
    name_row = conflict.locator("tr[data-field=name]")
    assert await name_row.locator("[data-theirs]").inner_text() == "Ledger (theirs)"
    assert await name_row.locator("[data-mine]").inner_text() == "Ledger (mine)"
    stored = await ui_registry.json("GET", agent_path(agent))
    assert stored["name"] == "Ledger (theirs)", "the stale edit must not overwrite"
    await probe.assert_accessible()
    await probe.screenshots("agent-conflict")

    await conflict.get_by_role("button", name="Re-apply mine on top").click()
    await page.get_by_role("link", name="Ledger (mine)").wait_for()
    stored = await ui_registry.json("GET", agent_path(agent))
    assert stored["name"] == "Ledger (mine)"
    assert stored["description"] == "Changed by someone else.", "their other change stays"


async def test_use_theirs_discards_the_stale_edit(probe, ui_registry):
    probe.expect(412, r"/api/v1/agents/[0-9a-f-]+$")
    headers = await ui_registry.account("dan")
    agent = await ui_registry.add_agent(headers, "Scribe")
    await sign_in(probe, ui_registry, "dan", PORTAL)
    page = probe.page
    await page.get_by_role("button", name="Edit Scribe").click()
    await page.get_by_label("Status").select_option("inactive")
    await ui_registry.json("PATCH", agent_path(agent), json={"name": "Scribe 2"}, headers=headers)
    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("button", name="Use theirs").click()
    await page.get_by_role("link", name="Scribe 2").wait_for()
    assert await page.locator("[data-conflict-for]").count() == 0
    stored = await ui_registry.json("GET", agent_path(agent))
    assert (stored["name"], stored["status"]) == ("Scribe 2", "active")


async def test_deleting_asks_first_and_leaves_the_empty_state(probe, ui_registry):
    headers = await ui_registry.account("eve")
    agent = await ui_registry.add_agent(headers, "Courier")
    await sign_in(probe, ui_registry, "eve", PORTAL)
    page = probe.page
    await page.get_by_role("button", name="Delete Courier").click()
    dialog = page.get_by_role("dialog", name="Delete Courier?")
    await dialog.get_by_role("button", name="Cancel").click()
    await dialog.wait_for(state="detached")
    assert (await ui_registry.json("GET", agent_path(agent)))["name"] == "Courier"

    await page.get_by_role("button", name="Delete Courier").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete agent").click()
    await page.get_by_text("You have no agents yet").wait_for()
    wizard = page.get_by_role("link", name="Open the registration wizard")
    assert await wizard.get_attribute("href") == "/ui/developer/agents/new"
    await ui_registry.json("GET", agent_path(agent), expect=404)


async def test_the_sections_are_tabs_that_are_routes(probe, ui_registry):
    await ui_registry.account("fay")
    await sign_in(probe, ui_registry, "fay", PORTAL)
    page = probe.page
    agents_tab = page.get_by_role("tab", name="Agents")
    assert await agents_tab.get_attribute("aria-selected") == "true"
    await agents_tab.focus()
    await page.keyboard.press("ArrowRight")
    tokens_tab = page.get_by_role("tab", name="Bootstrap tokens")
    assert await tokens_tab.evaluate("(tab) => tab === document.activeElement")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{ui_registry.url}{PORTAL}/tokens")
    await page.get_by_role("heading", name="Bootstrap tokens").wait_for()
    assert await tokens_tab.get_attribute("aria-selected") == "true"
    assert await tokens_tab.evaluate("(tab) => tab === document.activeElement"), "focus stays"

    await page.keyboard.press("End")
    await page.keyboard.press(" ")
    await page.wait_for_url(f"{ui_registry.url}{PORTAL}/usage")
    await page.reload()
    await page.get_by_role("heading", name="Usage", exact=True).wait_for()
    assert await page.get_by_role("tab", name="Usage").get_attribute("aria-selected") == "true"
    await page.go_back()
    await page.get_by_role("heading", name="Bootstrap tokens").wait_for()


async def test_a_bootstrap_token_is_shown_once_counts_down_and_registers_an_agent(
    probe, ui_registry, inbox
):
    await verified_account(ui_registry, inbox, "gil")
    await sign_in(probe, ui_registry, "gil", f"{PORTAL}/tokens")
    page = probe.page
    await page.get_by_text("No bootstrap tokens yet").wait_for()
    await page.get_by_label("Lifetime").select_option("900")
    await page.get_by_label("Agent type (optional)").fill("assistant")
    await page.get_by_role("button", name="Generate token").click()
    token = await page.get_by_label("Bootstrap token", exact=True).input_value()
    assert re.fullmatch(r"BST_[A-Za-z0-9]{32}", token)
    countdown = page.locator("[data-countdown]")
    assert re.fullmatch(r"1[45]:\d\d", await countdown.inner_text())
    history = page.locator("[data-token-history]")
    await history.get_by_text("Active").wait_for()
    await probe.assert_accessible()
    await probe.screenshots("developer-tokens")

    registered = await ui_registry.json(
        "POST",
        "/api/v1/onboard/register",
        expect=201,
        json={
            "name": "Self Starter",
            "description": "Registered itself.",
            "apiEndpoints": ["https://self-starter.example.com/a2a"],
        },
        headers={"Bootstrap-Token": token},
    )
    assert registered["agent"]["name"] == "Self Starter"
    await page.reload()
    await history.get_by_text("Used", exact=True).wait_for()
    assert await page.get_by_label("Bootstrap token", exact=True).count() == 0, "shown once"


async def test_a_revoked_bootstrap_token_is_refused(probe, ui_registry, inbox):
    await verified_account(ui_registry, inbox, "hal")
    await sign_in(probe, ui_registry, "hal", f"{PORTAL}/tokens")
    page = probe.page
    await page.get_by_role("button", name="Generate token").click()
    token = await page.get_by_label("Bootstrap token", exact=True).input_value()
    history = page.locator("[data-token-history]")
    await history.get_by_role("button", name=re.compile("^Revoke the token")).click()
    await page.get_by_role("dialog").get_by_role("button", name="Revoke token").click()
    await history.get_by_text("Revoked", exact=True).wait_for()
    refused = await ui_registry.request(
        "POST",
        "/api/v1/onboard/register",
        json={"name": "Late", "description": "Too late.", "apiEndpoints": ["https://l.example"]},
        headers={"Bootstrap-Token": token},
    )
    assert refused.status == 401


async def test_the_countdown_says_when_the_token_expired(probe, ui_registry, inbox):
    await verified_account(ui_registry, inbox, "ivy")
    await probe.page.clock.install()
    await sign_in(probe, ui_registry, "ivy", f"{PORTAL}/tokens")
    page = probe.page
    await page.get_by_role("button", name="Generate token").click()
    await page.locator("[data-countdown]").wait_for()
    await page.clock.run_for("05:01")
    issued = page.locator("[data-issued-token][data-expired]")
    await issued.get_by_text("Expired.", exact=True).wait_for()
    assert await page.get_by_label("Bootstrap token", exact=True).is_disabled()


async def test_an_unverified_developer_is_told_to_verify_first(probe, ui_registry):
    probe.expect(403, r"/api/v1/onboard/bootstrap/request-token$")
    await ui_registry.account("joe")
    await sign_in(probe, ui_registry, "joe", f"{PORTAL}/tokens")
    await probe.page.get_by_role("button", name="Generate token").click()
    await probe.page.get_by_text("Verify your email address first").wait_for()


async def test_an_api_key_is_shown_once_works_and_stops_when_revoked(probe, ui_registry):
    headers = await ui_registry.account("kim")
    await ui_registry.add_agent(headers, "Keyed")
    await sign_in(probe, ui_registry, "kim", f"{PORTAL}/keys")
    page = probe.page
    await page.get_by_text("No API keys yet").wait_for()
    assert await page.get_by_label(re.compile("^Administer the registry")).count() == 0
    await page.get_by_label("Name").fill("CI deploys")
    await page.get_by_label(re.compile("^Manage agents")).check()
    await page.get_by_role("button", name="Create key").click()
    key = await page.get_by_label("New API key").input_value()
    assert key.startswith("avk_")
    listed = page.locator("[data-api-key-list] tr", has_text="CI deploys")
    await listed.get_by_text("agents:write").wait_for()
    await probe.assert_accessible()
    await probe.screenshots("developer-keys")

    with_key = {"X-API-Key": key}
    mine = await ui_registry.json("GET", "/api/v1/agents?owner=me", headers=with_key)
    assert [agent["name"] for agent in mine["agents"]] == ["Keyed"]
    await ui_registry.add_agent(with_key, "Made By Key")

    await page.get_by_role("button", name="I have stored it").click()
    assert await page.get_by_label("New API key").count() == 0
    await listed.get_by_role("button", name="Revoke CI deploys").click()
    await page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    await page.get_by_text("No API keys yet").wait_for()
    refused = await ui_registry.request("GET", "/api/v1/agents?owner=me", headers=with_key)
    assert refused.status == 401


async def test_an_api_key_needs_a_scope(probe, ui_registry):
    headers = await ui_registry.account("lee")
    await sign_in(probe, ui_registry, "lee", f"{PORTAL}/keys")
    page = probe.page
    await page.get_by_label("Name").fill("Nothing")
    await page.get_by_label(re.compile("^Read agents")).uncheck()
    await page.get_by_role("button", name="Create key").click()
    await page.get_by_text("Choose at least one scope.").wait_for()
    assert (await ui_registry.json("GET", "/api/v1/auth/api-keys", headers=headers))[
        "api_keys"
    ] == []


async def test_usage_charts_draw_my_requests_searches_and_agent_changes(probe, ui_registry):
    headers = await ui_registry.account("max")
    agent = await ui_registry.add_agent(headers, "Counted")
    await ui_registry.json("PATCH", agent_path(agent), json={"tags": ["x"]}, headers=headers)
    for query in ("counted", "anything"):
        await ui_registry.json(
            "GET", "/api/v1/discovery/agents", params={"q": query}, headers=headers
        )
    await flush_usage(ui_registry.app)

    await sign_in(probe, ui_registry, "max", f"{PORTAL}/usage")
    page = probe.page
    for chart in ("requests", "searches", "changes"):
        await page.locator(f"canvas[data-chart={chart}]").wait_for()
    assert await page.locator("[data-stat=searches]").inner_text() == "2"
    assert await page.locator("[data-stat=changes]").inner_text() == "2"
    label = await page.locator("canvas[data-chart=changes]").get_attribute("aria-label")
    assert "Registered: 1, Updated: 1, Deleted: 0" in label
    await probe.assert_accessible()
    await probe.screenshots("developer-usage")


async def test_usage_without_any_use_says_so(probe, start_ui_registry):
    # No flush while the test runs: the page's own requests are not counted yet.
    registry = await start_ui_registry("Quiet", {"plugins": {"activity": {"flush_interval": 3600}}})
    await registry.account("ned")
    await sign_in(probe, registry, "ned", f"{PORTAL}/usage")
    await probe.page.get_by_text("No usage in the last 30 days").wait_for()
    assert await probe.page.locator("canvas").count() == 0
    await probe.assert_accessible()
