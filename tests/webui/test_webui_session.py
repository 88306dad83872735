"""The browser side of a session: who may open which page, token refresh (one at a time, and
before expiry), sign-in surviving a reload, sign-out reaching every tab, and a plugin's page
plugged in through register_webui_views."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web
from webui_harness import new_probed_page, sign_in

from agentvault_registry import hookimpl
from agentvault_registry.webui.extensions import WebUIView

pytestmark = pytest.mark.browser

PLUGIN_STATIC = Path(__file__).parent / "plugin_view"


class ReportsPlugin:
    """A third-party plugin adding one page and its navigation entry."""

    @hookimpl
    def register_routes(self, settings):
        return [web.static("/static/reports-plugin", PLUGIN_STATIC)]

    @hookimpl
    def register_webui_views(self, settings):
        module = "/static/reports-plugin/reports.js"
        return [
            WebUIView("/ui/reports", module, "Reports", nav_label="Reports", icon="bar-chart"),
            WebUIView("/ui/reports/:section", module, "Reports"),
        ]


@pytest.fixture
async def registry(start_ui_registry):
    registry = await start_ui_registry("Home", plugins=[("reports_plugin", ReportsPlugin())])
    await registry.account("ada")
    return registry


async def test_a_plugin_page_is_routed_with_its_parameters_and_survives_a_reload(probe, registry):
    await sign_in(probe, registry, "ada", landing="/ui/reports/weekly")
    page = probe.page
    report = page.locator("[data-report-for=ada]")
    await report.wait_for()
    assert "section weekly" in await report.inner_text()
    await page.reload()
    await report.wait_for()
    assert await page.title() == "Reports · Home"
    await page.get_by_role("link", name="Reports").click()
    await page.wait_for_url(f"{registry.url}/ui/reports")
    assert "section all" in await page.locator("[data-report-for=ada]").inner_text()


async def test_a_member_page_sends_visitors_to_sign_in_and_back(probe, registry):
    page = probe.page
    await page.goto(f"{registry.url}/ui/reports/monthly")
    await page.wait_for_url(f"{registry.url}/ui/login?next=%2Fui%2Freports%2Fmonthly")
    await page.get_by_label("Username or email").fill("ada")
    await page.get_by_label("Password").fill("correct horse battery staple 42")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{registry.url}/ui/reports/monthly")
    await page.locator("[data-report-for=ada]").wait_for()


async def test_a_signed_in_visitor_skips_the_login_page(probe, registry):
    await sign_in(probe, registry, "ada", landing="/ui/reports/a")
    await probe.page.goto(f"{registry.url}/ui/login?next=/ui/reports/b")
    await probe.page.wait_for_url(f"{registry.url}/ui/reports/b")


async def test_an_admin_page_tells_a_developer_it_is_for_admins(probe, registry):
    await sign_in(probe, registry, "ada", landing="/ui/reports/a")
    await probe.page.goto(f"{registry.url}/ui/admin")
    await probe.page.get_by_role("heading", name="Admins only").wait_for()


async def test_parallel_requests_with_a_stale_token_share_one_refresh(probe, registry):
    await sign_in(probe, registry, "ada", landing="/ui/reports/a")
    page = probe.page
    await page.locator("[data-report-for=ada]").wait_for()
    refreshes = []
    page.on("request", lambda r: r.url.endswith("/auth/refresh") and refreshes.append(r))
    refused: list[str] = []

    async def refuse_the_current_token_once(route):
        """The token the page holds now is refused everywhere (as if it expired); the one
        the refresh brings is accepted."""
        token = route.request.headers.get("authorization")
        if token and (not refused or token == refused[0]):
            refused.append(token)
            await route.fulfill(status=401, json={"error": "invalid_token", "message": "stale"})
        else:
            await route.continue_()

    probe.expect(401, r"/api/v1/(auth/me|auth/api-keys|onboard/bootstrap/tokens)$")
    for path in ("auth/me", "auth/api-keys", "onboard/bootstrap/tokens"):
        await page.route(f"**/api/v1/{path}", refuse_the_current_token_once)
    await page.get_by_role("link", name="Reports").click()
    report = page.locator("[data-report-for=ada]")
    await report.wait_for()
    assert "section all" in await report.inner_text()
    assert len(refused) == 3 and len(set(refused)) == 1, "three requests, one stale token"
    assert len(refreshes) == 1


async def test_the_access_token_is_refreshed_before_it_expires(probe, registry):
    page = probe.page
    await page.clock.install()
    await sign_in(probe, registry, "ada", landing="/ui/reports/a")
    refreshed = asyncio.get_running_loop().create_future()
    page.on(
        "requestfinished",
        lambda r: refreshed.done() or (r.url.endswith("/auth/refresh") and refreshed.set_result(r)),
    )
    # access_token_ttl is 900 s; the session refreshes 30 s before that.
    await page.clock.fast_forward("14:40")
    request = await asyncio.wait_for(refreshed, 10)
    assert (await request.response()).status == 200
    await page.reload()
    await page.locator("[data-report-for=ada]").wait_for()


async def test_signing_in_survives_a_reload_but_the_token_stays_out_of_storage(probe, registry):
    await sign_in(probe, registry, "ada", landing="/ui/reports/a")
    await probe.page.reload()
    await probe.page.locator("[data-report-for=ada]").wait_for()
    stored = await probe.page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert "refresh_token" in stored
    assert "access_token" not in stored
    assert "eyJ" not in stored.split("avreg.refresh_token")[0]


async def test_signing_out_in_one_tab_signs_out_every_tab(probe, registry, chromium):
    await sign_in(probe, registry, "ada", landing="/ui/reports/a")
    other = await probe.page.context.new_page()
    await other.goto(f"{registry.url}/ui/reports/b")
    await other.locator("[data-report-for=ada]").wait_for()

    await probe.page.get_by_role("button", name="ada").click()
    await probe.page.get_by_role("button", name="Sign out").click()
    await probe.page.wait_for_url(f"{registry.url}/")
    await other.wait_for_url(f"{registry.url}/ui/login?next=%2Fui%2Freports%2Fb")
    fresh = await new_probed_page(chromium)
    try:
        await fresh.page.goto(f"{registry.url}/ui/reports/c")
        await fresh.page.wait_for_url(f"{registry.url}/ui/login?next=%2Fui%2Freports%2Fc")
    finally:
        await fresh.page.context.close()
