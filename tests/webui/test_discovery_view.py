"""Discovery in the browser: search and every kind of filter, kept in the URL; facet counts;
the agent detail modal with the A2A card; deep links; the federation toggle against a second
registry; empty and error states."""

from __future__ import annotations

import json

import pytest

from registry_harness import peer_with

pytestmark = pytest.mark.browser

BEARER = {"bearer": {"httpAuthSecurityScheme": {"scheme": "bearer", "description": "A JWT."}}}


def card(name: str, skill: str, binding: str = "JSONRPC", streaming: bool = False, **extra):
    return {
        "name": name,
        "description": f"{name} does {skill.lower()} for you.",
        "version": "1.0.0",
        "supportedInterfaces": [
            {
                "url": f"https://{name.lower().replace(' ', '-')}.example.net/a2a",
                "protocolBinding": binding,
                "protocolVersion": "1.0",
            }
        ],
        "capabilities": {"streaming": streaming},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["application/json"],
        "skills": [
            {
                "id": skill.lower(),
                "name": skill,
                "description": f"{skill} on demand.",
                "tags": [skill.lower()],
            }
        ],
    } | extra


@pytest.fixture
async def fleet(ui_registry):
    headers = await ui_registry.account("ada")
    agents = {}
    for name, skill, binding, streaming, extra in [
        ("Weather Oracle", "Forecast", "JSONRPC", True, {"securitySchemes": BEARER}),
        ("Tide Table", "Forecast", "HTTP+JSON", False, {}),
        ("Ledger Keeper", "Bookkeeping", "JSONRPC", False, {}),
    ]:
        body = {"card": card(name, skill, binding, streaming, **extra)}
        created = await ui_registry.json(
            "POST", "/api/v1/agents", expect=201, json=body, headers=headers
        )
        agents[name] = created
    return agents


async def wait_for_results(page, *names: str) -> None:
    await page.wait_for_function(
        """(names) => {
            const shown = [...document.querySelectorAll("[data-results] [data-agent-id] h2")]
                .map((node) => node.textContent.trim()).sort();
            return document.querySelector("[data-results]")?.getAttribute("aria-busy") === "false"
                && JSON.stringify(shown) === JSON.stringify(names);
        }""",
        arg=sorted(names),
    )


async def test_filters_narrow_the_results_and_live_in_the_url(probe, ui_registry, fleet):
    page = probe.page
    await page.goto(f"{ui_registry.url}/ui/discovery")
    await wait_for_results(page, "Weather Oracle", "Tide Table", "Ledger Keeper")
    binding = page.locator("label[for='filter-protocol_binding-JSONRPC']")
    assert "2" in await binding.inner_text(), "the facet counts the JSON-RPC agents"

    await page.get_by_label("forecast").first.check()
    await wait_for_results(page, "Weather Oracle", "Tide Table")
    assert "capabilities=forecast" in page.url
    await page.get_by_label("Streaming").select_option("true")
    await wait_for_results(page, "Weather Oracle")
    assert "streaming=true" in page.url

    await page.reload()
    await wait_for_results(page, "Weather Oracle")
    assert await page.get_by_label("Streaming").input_value() == "true"
    await probe.assert_accessible()
    await probe.screenshots("discovery")

    await page.get_by_role("button", name="Clear filters").first.click()
    await wait_for_results(page, "Weather Oracle", "Tide Table", "Ledger Keeper")
    await page.get_by_role("searchbox", name="Search agents").fill("bookkeeping")
    await page.get_by_role("searchbox", name="Search agents").press("Enter")
    await wait_for_results(page, "Ledger Keeper")
    assert "q=bookkeeping" in page.url


async def test_the_detail_modal_shows_the_card_and_copies_it(probe, ui_registry, fleet):
    await probe.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = probe.page
    await page.goto(f"{ui_registry.url}/ui/discovery?q=weather")
    await wait_for_results(page, "Weather Oracle")
    await page.get_by_role("link", name="Weather Oracle").click()
    dialog = page.get_by_role("dialog", name="Weather Oracle")
    await dialog.get_by_text("Forecast on demand.", exact=True).wait_for()
    agent_id = fleet["Weather Oracle"]["id"]
    assert page.url == f"{ui_registry.url}/ui/discovery/agents/{agent_id}?q=weather"
    text = await dialog.inner_text()
    assert "https://weather-oracle.example.net/a2a" in text
    assert "bearer" in text and "A JWT." in text
    assert "Streaming: yes" in text
    await probe.assert_accessible()
    await probe.screenshots("discovery-detail")

    await dialog.get_by_role("button", name="Copy as JSON").click()
    copied = json.loads(await page.evaluate("navigator.clipboard.readText()"))
    assert copied["name"] == "Weather Oracle"
    assert copied["skills"][0]["id"] == "forecast"

    await page.keyboard.press("Escape")
    await dialog.wait_for(state="detached")
    await page.wait_for_url(f"{ui_registry.url}/ui/discovery?q=weather")


async def test_a_deep_link_opens_the_agent_over_the_grid(probe, ui_registry, fleet):
    page = probe.page
    agent = fleet["Ledger Keeper"]
    await page.goto(f"{ui_registry.url}/ui/discovery/agents/{agent['humanReadableId']}")
    dialog = page.get_by_role("dialog", name="Ledger Keeper")
    await dialog.get_by_text("Bookkeeping on demand.", exact=True).wait_for()
    await dialog.get_by_role("button", name="Close").first.click()
    await dialog.wait_for(state="detached")
    await wait_for_results(page, "Weather Oracle", "Tide Table", "Ledger Keeper")
    await page.wait_for_url(f"{ui_registry.url}/ui/discovery")


async def test_the_federation_toggle_brings_in_a_peer_and_says_who_answered(
    probe, ui_registry, start_ui_registry, fleet
):
    remote = await start_ui_registry("Remote")
    await remote.add_agent(await remote.account("far"), "Far Forecaster", capabilities=["forecast"])
    await peer_with(ui_registry, remote)
    page = probe.page
    await page.goto(f"{ui_registry.url}/ui/discovery?q=forecast")
    await wait_for_results(page, "Weather Oracle", "Tide Table")
    await page.get_by_label("Include federated registries").check()
    await wait_for_results(page, "Weather Oracle", "Tide Table", "Far Forecaster")
    assert "include_federated=true" in page.url
    peer = page.locator("[data-federation-status] [data-peer=Remote]")
    assert await peer.get_attribute("data-peer-status") == "ok"
    assert "answered" in await peer.inner_text()
    remote_card = page.locator("[data-results] [data-agent-id]", has_text="Far Forecaster")
    assert await remote_card.locator("[data-origin]").get_attribute("data-origin") == "Remote"

    await remote_card.get_by_role("link", name="Far Forecaster").click()
    dialog = page.get_by_role("dialog", name="Far Forecaster")
    await dialog.get_by_text("from Remote").wait_for()
    await dialog.get_by_role("link", name=remote.url).wait_for()
    await probe.screenshots("discovery-federated")


async def test_no_match_shows_the_empty_state_with_a_way_back(probe, ui_registry, fleet):
    page = probe.page
    await page.goto(f"{ui_registry.url}/ui/discovery?q=submarine")
    await page.get_by_text("No agents match").wait_for()
    await page.get_by_role("button", name="Clear filters").last.click()
    await wait_for_results(page, "Weather Oracle", "Tide Table", "Ledger Keeper")


async def test_a_filter_the_api_refuses_shows_its_message(probe, ui_registry, fleet):
    probe.expect(422, r"/api/v1/discovery/agents\?")
    page = probe.page
    await page.goto(f"{ui_registry.url}/ui/discovery?security_scheme=carrier-pigeon")
    error = page.locator("[data-results] [data-state=error]")
    await error.wait_for()
    assert "security_scheme: Not a security scheme type" in await error.inner_text()
    await page.get_by_role("button", name="Clear filters").first.click()
    await wait_for_results(page, "Weather Oracle", "Tide Table", "Ledger Keeper")


async def test_the_list_layout_is_remembered(probe, ui_registry, fleet):
    page = probe.page
    await page.goto(f"{ui_registry.url}/ui/discovery")
    await wait_for_results(page, "Weather Oracle", "Tide Table", "Ledger Keeper")
    await page.get_by_role("button", name="Show as a list").click()
    await page.locator("[data-results] .list-group [data-agent-id]").first.wait_for()
    await page.reload()
    await page.locator("[data-results] .list-group [data-agent-id]").first.wait_for()
    assert (
        await page.get_by_role("button", name="Show as a list").get_attribute("aria-pressed")
        == "true"
    )
