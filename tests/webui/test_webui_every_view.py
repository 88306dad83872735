"""Every page of the web UI, as the visitor it is meant for: it loads (also from a deep link)
with no console error, failed request or CSP violation, axe-core finds no serious or critical
accessibility problem, and a screenshot at desktop and phone width goes to test-output/webui/
for a person to look at (named route-<visit>)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from webui_harness import sign_in, verified_account

from agentvault_registry.webui.builtin_views import BUILTIN_VIEWS
from registry_harness import peer_with

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Visit:
    name: str
    path: str
    #: "anonymous", "developer" or "admin"
    visitor: str = "developer"


VISITS = [
    Visit("home", "/", "anonymous"),
    Visit("home-signed-in", "/"),
    Visit("login", "/ui/login", "anonymous"),
    Visit("register", "/ui/register", "anonymous"),
    Visit("recover", "/ui/recover", "anonymous"),
    Visit("verify-email", "/verify-email", "anonymous"),
    Visit("reset-password", "/reset-password", "anonymous"),
    Visit("discovery", "/ui/discovery", "anonymous"),
    Visit("discovery-agent", "/ui/discovery/agents/{agent_id}"),
    Visit("galactic-map", "/ui/discovery/map"),
    Visit("dashboard", "/ui/dashboard"),
    Visit("mission-control", "/ui/dashboard/mission-control"),
    Visit("developer-agents", "/ui/developer"),
    Visit("developer-tokens", "/ui/developer/tokens"),
    Visit("developer-keys", "/ui/developer/keys"),
    Visit("developer-usage", "/ui/developer/usage"),
    Visit("agent-wizard", "/ui/developer/agents/new"),
    Visit("settings", "/ui/settings"),
    Visit("admin-overview", "/ui/admin", "admin"),
    Visit("admin-peers", "/ui/admin/peers", "admin"),
    Visit("admin-users", "/ui/admin/users", "admin"),
    Visit("admin-analytics", "/ui/admin/analytics", "admin"),
    Visit("admin-peer", "/ui/admin/peers/{peer_id}", "admin"),
]


def pattern_of(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path)) + "$")


def test_every_built_in_view_is_visited():
    visited = [pattern_of(visit.path) for visit in VISITS]
    for view in BUILTIN_VIEWS:
        example = re.sub(r":[a-z_]+", "x", view.path)
        if view.path.endswith("/:section"):
            continue  # each section is a visit of its own above
        assert any(p.match(example) for p in visited), f"no visit covers {view.path}"


@pytest.fixture
async def populated(start_ui_registry, inbox):
    """A home registry peered with a remote one, with a developer who has an agent, a
    bootstrap token and an API key, and an admin."""
    home = await start_ui_registry("Home")
    remote = await start_ui_registry("Remote")
    developer = await verified_account(home, inbox, "dev")
    await home.account("root", role="admin")
    agent = await home.add_agent(
        developer, "Weather Oracle", tags=["weather", "forecast"], capabilities=["forecast"]
    )
    await remote.add_agent(await remote.account("far"), "Far Translator", tags=["translation"])
    await home.json(
        "POST", "/api/v1/onboard/bootstrap/request-token", expect=201, json={}, headers=developer
    )
    await home.json(
        "POST",
        "/api/v1/auth/api-keys",
        expect=201,
        json={"name": "ci", "scopes": ["agents:read"]},
        headers=developer,
    )
    peer = await peer_with(home, remote)
    return home, {"agent_id": agent["id"], "peer_id": peer["id"]}


@pytest.mark.parametrize("visit", VISITS, ids=[visit.name for visit in VISITS])
async def test_the_view_loads_cleanly_is_accessible_and_is_photographed(probe, populated, visit):
    home, ids = populated
    path = visit.path.format(**ids)
    if visit.visitor != "anonymous":
        username = "root" if visit.visitor == "admin" else "dev"
        await sign_in(probe, home, username)
    page = probe.page
    response = await page.goto(f"{home.url}{path}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    await page.locator("main[aria-busy=false] h1").first.wait_for()
    # Sections load on their own; a live page never goes network-idle (its event stream).
    # A function, not a bare expression: Playwright re-polls an expression through eval(),
    # which this page's CSP blocks, while a function is evaluated once and then called.
    await page.wait_for_function(
        "() => document.querySelectorAll('[data-state=loading]').length === 0"
    )
    assert await page.locator("[data-state=error]").count() == 0
    await probe.assert_accessible()
    await probe.screenshots(f"route-{visit.name}")
    # A deep link survives a reload.
    await page.reload()
    await page.locator("main[aria-busy=false] h1").first.wait_for()
    assert page.url == f"{home.url}{path}"
