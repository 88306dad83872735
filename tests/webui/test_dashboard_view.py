"""The dashboard: my agents, bootstrap tokens, API keys and activity, as the API holds them;
the first steps for a brand-new account; a failing section says so and recovers."""

from __future__ import annotations

import json

import pytest
from dashboard_helpers import mint_token
from webui_harness import sign_in, verified_account

pytestmark = pytest.mark.browser


async def test_the_dashboard_shows_my_agents_tokens_keys_and_activity(probe, ui_registry, inbox):
    ada = await verified_account(ui_registry, inbox, "ada")
    echo = await ui_registry.add_agent(ada, "Echo")
    scout = await ui_registry.add_agent(ada, "Scout")
    await ui_registry.json(
        "PATCH", f"/api/v1/agents/{scout['id']}", json={"status": "inactive"}, headers=ada
    )
    token = await mint_token(ui_registry, ada)
    await ui_registry.json(
        "POST",
        "/api/v1/auth/api-keys",
        expect=201,
        json={"name": "ci pipeline", "scopes": ["agents:read"]},
        headers=ada,
    )
    bob = await ui_registry.account("bob")
    await ui_registry.add_agent(bob, "Not Mine")

    await sign_in(probe, ui_registry, "ada")
    page = probe.page
    await page.get_by_role("heading", level=1, name="ada").wait_for()

    agents = page.locator("[data-section=agents]")
    await agents.get_by_role("link", name="Echo").wait_for()
    assert await agents.get_by_role("link", name="Scout").count() == 1
    assert await agents.get_by_text("Not Mine").count() == 0
    counts = {
        label: await agents.locator(f"[data-count={label}] [data-value]").inner_text()
        for label in ("total", "active", "inactive", "deprecated")
    }
    assert counts == {"total": "2", "active": "1", "inactive": "1", "deprecated": "0"}
    href = await agents.get_by_role("link", name="Echo").get_attribute("href")
    assert href == f"/ui/developer?agent={echo['id']}"

    tokens = page.locator("[data-section=tokens]")
    await tokens.locator(f"[data-token-id='{token['id']}']").wait_for()
    summary = await tokens.locator("[data-token-summary]").inner_text()
    assert summary.startswith("1 active token · 0 used"), summary
    assert "expires in" in await tokens.locator(f"[data-token-id='{token['id']}']").inner_text()

    keys = page.locator("[data-section=api-keys]")
    await keys.get_by_text("ci pipeline").wait_for()
    assert await keys.get_by_text("agents:read").count() == 1

    activity = page.locator("[data-section=activity]")
    await activity.get_by_text("You registered agent Echo").wait_for()
    for sentence in (
        "You registered agent Scout",
        "You updated agent Scout",
        "You generated a bootstrap token",
        "You created API key ci pipeline",
        "You verified your email address",
    ):
        assert await activity.get_by_text(sentence).count() == 1, sentence
    assert await activity.get_by_text("Not Mine").count() == 0
    newest = activity.locator("time").first
    assert await newest.get_attribute("datetime")
    assert (await newest.inner_text()) == "now" or "ago" in await newest.inner_text()
    assert await page.locator("[data-notice=unverified]").count() == 0
    assert await page.locator("[data-section=getting-started] section").count() == 0

    await probe.assert_accessible()
    await probe.screenshots("dashboard")


async def test_a_brand_new_account_is_told_what_to_do_first(probe, ui_registry):
    await ui_registry.account("newbie")
    await sign_in(probe, ui_registry, "newbie")
    page = probe.page
    notice = page.locator("[data-notice=unverified]")
    await notice.wait_for()
    assert "newbie@example.org" in await notice.inner_text()

    steps = page.locator("[data-section=getting-started]")
    await steps.get_by_role("heading", name="Get started").wait_for()
    assert await steps.get_by_role("link", name="Register an agent").get_attribute("href") == (
        "/ui/developer/agents/new"
    )
    await page.get_by_text("You have no agents yet").wait_for()
    await page.get_by_text("No bootstrap tokens yet").wait_for()
    assert (
        "Verify your email address first"
        in await page.locator("[data-section=tokens]").inner_text()
    )
    await page.get_by_text("No API keys yet").wait_for()
    # Signing up and in are the account's first activity.
    activity = page.locator("[data-section=activity]")
    await activity.get_by_text("You created your account").wait_for()

    quick = page.get_by_role("navigation", name="Quick actions")
    assert await quick.get_by_role("link", name="Mission Control").get_attribute("href") == (
        "/ui/dashboard/mission-control"
    )
    await probe.assert_accessible()
    await probe.screenshots("dashboard-empty")


async def test_a_section_that_fails_says_why_and_loads_on_retry(probe, ui_registry):
    probe.expect(503, r"/api/v1/me/activity")
    await ui_registry.account("cyd")
    page = probe.page
    failing = {"on": True}

    async def activity(route):
        if failing["on"]:
            body = {"error": "backend_unavailable", "message": "The records backend is down."}
            await route.fulfill(status=503, content_type="application/json", body=json.dumps(body))
        else:
            await route.continue_()

    await page.route("**/api/v1/me/activity*", activity)
    await sign_in(probe, ui_registry, "cyd")
    section = page.locator("[data-section=activity]")
    await section.get_by_text("The records backend is down.").wait_for()
    # The other sections load regardless.
    await page.get_by_text("You have no agents yet").wait_for()

    failing["on"] = False
    await section.get_by_role("button", name="Try again").click()
    await section.get_by_text("You created your account").wait_for()
