"""The whole way through the web UI in one browser, as the issue walks it: a developer signs
up, verifies the address from the mail, signs in, registers an agent with the wizard, edits
it in place, meets a conflict on a stale edit, generates a bootstrap token with which an agent
registers itself over the API, watches that arrive live on Mission Control, searches with
filters and the federation toggle against a second registry; then an admin adds a peer, and
signs out."""

from __future__ import annotations

import re

import pytest
from webui_harness import sign_in, wait_for_link

from registry_harness import PASSWORD, peer_with

pytestmark = pytest.mark.browser

LIVE_MS = 5_000


async def sign_up_and_verify(probe, home, inbox, username: str) -> None:
    page = probe.page
    await page.goto(f"{home.url}/")
    await page.get_by_role("link", name="Create an account").first.click()
    await page.get_by_label("Email").fill(f"{username}@example.org")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_role("heading", name="Check your mail").wait_for()
    link = await wait_for_link(inbox, "verify-email", f"{username}@example.org")
    await page.goto(link)
    await page.get_by_text("your email address is verified").wait_for()


async def register_with_the_wizard(probe, home, name: str) -> str:
    page = probe.page
    await page.get_by_role("link", name="Register an agent").first.click()
    await page.wait_for_url(f"{home.url}/ui/developer/agents/new")
    await page.get_by_label("Conversational assistant").check()
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("heading", name="2. Details").wait_for()
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_role("textbox", name=re.compile("^Endpoint 1")).fill(
        "https://nova-helper.example.net/a2a"
    )
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("heading", name="3. Review").wait_for()
    await page.get_by_role("button", name="Register agent").click()
    await page.wait_for_url(f"{home.url}/ui/developer?highlight=*")
    row = page.locator("tr.row-highlight")
    await row.get_by_role("link", name=name).wait_for()
    return await row.get_attribute("data-agent-id")


async def edit_in_place(probe, home, agent_id: str, old_name: str, new_name: str) -> None:
    page = probe.page
    await page.get_by_role("button", name=f"Edit {old_name}").click()
    await page.get_by_label("Name").fill(new_name)
    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("link", name=new_name).wait_for()
    assert (await home.json("GET", f"/api/v1/agents/{agent_id}"))["name"] == new_name


async def stale_edit_conflicts(probe, home, agent_id: str, name: str, headers) -> None:
    page = probe.page
    probe.expect(412, r"/api/v1/agents/[0-9a-f-]+$")
    await page.get_by_role("button", name=f"Edit {name}").click()
    await page.get_by_label("Name").fill(f"{name} (mine)")
    await home.json(
        "PATCH", f"/api/v1/agents/{agent_id}", json={"name": f"{name} (theirs)"}, headers=headers
    )
    await page.get_by_role("button", name="Save").click()
    conflict = page.locator(f"[data-conflict-for='{agent_id}']")
    await conflict.get_by_text("Someone changed this agent").wait_for()
    assert (await home.json("GET", f"/api/v1/agents/{agent_id}"))["name"] == f"{name} (theirs)"
    await conflict.get_by_role("button", name="Use theirs").click()
    await page.get_by_role("link", name=f"{name} (theirs)").wait_for()


async def generate_a_bootstrap_token(probe) -> str:
    page = probe.page
    await page.get_by_role("tab", name="Bootstrap tokens").click()
    await page.get_by_role("button", name="Generate token").click()
    token = await page.get_by_label("Bootstrap token", exact=True).input_value()
    assert re.fullmatch(r"BST_[A-Za-z0-9]{32}", token)
    await page.locator("[data-countdown]").wait_for()
    return token


async def a_self_registration_arrives_live(probe, home, token: str) -> None:
    page = probe.page
    await page.get_by_role("link", name="Mission Control").first.click()
    await page.get_by_text("Waiting for the next event").wait_for()
    await home.json(
        "POST",
        "/api/v1/onboard/register",
        expect=201,
        json={
            "name": "Night Watch",
            "description": "Watches the night sky and reports comets.",
            "apiEndpoints": ["https://night-watch.example.net/a2a"],
            "tags": ["astronomy"],
        },
        headers={"Bootstrap-Token": token},
    )
    item = page.locator("[data-feed] li", has_text="Agent Night Watch registered itself")
    await item.wait_for(timeout=LIVE_MS)


async def discover_with_filters_and_federation(probe, home) -> None:
    page = probe.page
    await page.get_by_role("link", name="Discover").first.click()
    await page.wait_for_url(f"{home.url}/ui/discovery")
    results = page.locator("[data-results] [data-agent-id]")
    await results.filter(has_text="Night Watch").wait_for()
    await page.get_by_text("More filters").click()
    await page.get_by_label("Tags").fill("astronomy")
    await page.wait_for_url(re.compile(r".*tags=astronomy"))
    await page.wait_for_function(
        "() => document.querySelectorAll('[data-results] [data-agent-id]').length === 1"
    )
    assert "Night Watch" in await results.first.inner_text()

    await page.get_by_role("button", name="Clear filters").first.click()
    await page.get_by_role("searchbox", name="Search agents").fill("translator")
    await page.get_by_role("searchbox", name="Search agents").press("Enter")
    await page.get_by_text("No agents match").wait_for()
    await page.get_by_label("Include federated registries").check()
    far = results.filter(has_text="Far Translator")
    await far.wait_for()
    assert await far.locator("[data-origin]").get_attribute("data-origin") == "Remote"
    peer = page.locator("[data-federation-status] [data-peer=Remote]")
    assert await peer.get_attribute("data-peer-status") == "ok"


async def an_admin_adds_a_peer(probe, home, partner) -> None:
    on_partner = await partner.add_peer("Home", home.url, "avf_placeholder_for_home")
    await sign_in(probe, home, "root", "/ui/admin/peers")
    page = probe.page
    form = page.locator("[data-add-peer-form]")
    await form.get_by_label("Name").fill("Partner")
    await form.get_by_label("Registry URL").fill(partner.url)
    await form.get_by_label("Admin contact").fill("ops@partner.example.org")
    await form.get_by_label("Federation access token").fill(on_partner["inbound_token"])
    await form.get_by_role("button", name="Add peer").click()
    dialog = page.get_by_role("dialog", name="Partner is added")
    await dialog.get_by_role("button", name="I have stored it").click()
    await dialog.wait_for(state="detached")
    await page.locator("tr[data-peer-name=Partner]").wait_for()
    peers = await home.json("GET", "/api/v1/admin/federation/peers", headers=home.admin)
    assert sorted(peer["name"] for peer in peers["peers"]) == ["Partner", "Remote"]


async def sign_out(probe, home, username: str) -> None:
    page = probe.page
    await page.get_by_role("button", name=username).click()
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{home.url}/")
    await page.get_by_role("link", name="Sign in").wait_for()


async def test_the_whole_way_through_the_web_ui(probe, start_ui_registry, inbox):
    home = await start_ui_registry("Home")
    remote = await start_ui_registry("Remote")
    partner = await start_ui_registry("Partner")
    await peer_with(home, remote)
    await remote.add_agent(await remote.account("far"), "Far Translator", tags=["translation"])
    await home.account("root", role="admin")

    await sign_up_and_verify(probe, home, inbox, "nova")
    await sign_in(probe, home, "nova")
    login = await home.json(
        "POST", "/api/v1/auth/login", json={"username": "nova", "password": PASSWORD}
    )
    nova = {"Authorization": f"Bearer {login['access_token']}"}

    agent_id = await register_with_the_wizard(probe, home, "Nova Helper")
    await edit_in_place(probe, home, agent_id, "Nova Helper", "Nova Helper Prime")
    await stale_edit_conflicts(probe, home, agent_id, "Nova Helper Prime", nova)
    token = await generate_a_bootstrap_token(probe)
    await a_self_registration_arrives_live(probe, home, token)
    await discover_with_filters_and_federation(probe, home)
    await sign_out(probe, home, "nova")

    await an_admin_adds_a_peer(probe, home, partner)
    await sign_out(probe, home, "root")
    await probe.page.goto(f"{home.url}/ui/dashboard")
    await probe.page.wait_for_url(f"{home.url}/ui/login?next=%2Fui%2Fdashboard")
