"""The Galactic Map in the browser: one star per agent in constellations of a shared
capability, a galaxy per registry (peers' too, with the federation toggle), zoom and pan by
buttons, mouse and keyboard, the detail modal from a star or from the text list, a
deterministic layout, and the loading, empty and error states."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from registry_harness import peer_with
from support import free_port

pytestmark = pytest.mark.browser

MAP = "[data-galactic-map]"
VIEWPORT = "[data-map-viewport]"
SEARCH = re.compile(r"/api/v1/discovery/agents\?")
IDENTITY = "translate(0.00 0.00) scale(1.0000)"
STAR_PLACES = "(stars) => stars.map((s) => [s.dataset.agentId, s.getAttribute('transform')])"
TRANSFORMED = """(identity) =>
    document.querySelector('[data-map-viewport]').getAttribute('transform') !== identity"""

FLEET = [
    ("Weather Oracle", ["forecast", "weather"], []),
    ("Tide Table", ["forecast"], ["ocean"]),
    ("Storm Watch", ["forecast", "alerts"], []),
    ("Ledger Keeper", ["bookkeeping"], []),
    ("Tax Helper", ["bookkeeping", "tax"], []),
    ("Mystery Box", [], []),
]


@pytest.fixture
async def fleet(ui_registry):
    headers = await ui_registry.account("ada")
    return {
        name: await ui_registry.add_agent(headers, name, capabilities=capabilities, tags=tags)
        for name, capabilities, tags in FLEET
    }


async def open_map(page, registry, query: str = "") -> None:
    await page.goto(f"{registry.url}/ui/discovery/map{query}")
    await page.locator(MAP).wait_for()


async def constellations(page) -> dict[str, list[str]]:
    """Each constellation's label and the names of its stars, per galaxy."""
    return await page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("[data-constellation]")].map(
            (group) => [
                `${group.closest("[data-galaxy]").dataset.galaxy}/` +
                    group.querySelector("[data-constellation-label]").textContent,
                [...group.querySelectorAll("[data-star]")]
                    .map((star) => star.getAttribute("aria-label").split(":")[0]).sort(),
            ]))"""
    )


async def transform(page) -> str:
    return await page.locator(VIEWPORT).get_attribute("transform")


async def test_each_agent_is_a_star_in_the_constellation_of_its_capability(
    probe, ui_registry, fleet
):
    page = probe.page
    await open_map(page, ui_registry)
    assert await page.locator("[data-star]").count() == len(FLEET)
    assert await constellations(page) == {
        "Home/forecast · 3": ["Storm Watch", "Tide Table", "Weather Oracle"],
        "Home/bookkeeping · 2": ["Ledger Keeper", "Tax Helper"],
        "Home/uncharted · 1": ["Mystery Box"],
    }
    label = page.locator("[data-galaxy=Home] [data-galaxy-label]")
    assert await label.text_content() == "Home  6 agents"
    summary = await page.locator("[data-map-summary]").inner_text()
    assert summary == "6 agents in 3 constellations across 1 registry."
    star = page.get_by_role("button", name=re.compile("^Ledger Keeper: bookkeeping"))
    assert await star.get_attribute("tabindex") == "0"
    assert "this registry" in await star.get_attribute("aria-label")

    # The same data gives the same map.
    positions = await page.eval_on_selector_all("[data-star]", STAR_PLACES)
    await page.reload()
    await page.locator(MAP).wait_for()
    again = await page.eval_on_selector_all("[data-star]", STAR_PLACES)
    assert sorted(again) == sorted(positions)

    await probe.assert_accessible()
    await probe.screenshots("galactic-map")


async def test_the_buttons_zoom_and_reset_restores_the_view(probe, ui_registry, fleet):
    page = probe.page
    await open_map(page, ui_registry)
    assert await transform(page) == IDENTITY
    await page.get_by_role("button", name="Zoom in").click()
    zoomed = await transform(page)
    assert "scale(1.4000)" in zoomed
    await page.get_by_role("button", name="Zoom in").click()
    assert "scale(1.9600)" in await transform(page)
    await page.get_by_role("button", name="Zoom out").click()
    assert await transform(page) == zoomed
    await page.get_by_role("button", name="Reset view").click()
    assert await transform(page) == IDENTITY

    # The mouse: the wheel zooms, a drag pans, and a drag is no click on a star.
    box = await page.locator(MAP).bounding_box()
    await page.mouse.move(box["x"] + 40, box["y"] + 40)
    await page.mouse.wheel(0, -300)
    await page.wait_for_function(TRANSFORMED, arg=IDENTITY)
    assert float(re.search(r"scale\(([\d.]+)\)", await transform(page)).group(1)) > 1
    before = await transform(page)
    await page.mouse.down()
    await page.mouse.move(box["x"] + 140, box["y"] + 90, steps=5)
    await page.mouse.up()
    assert await transform(page) != before
    assert await page.locator(".modal").count() == 0

    # A click on a star opens its agent.
    await page.get_by_role("button", name="Reset view").click()
    await page.get_by_role("button", name=re.compile("^Tax Helper:")).click()
    dialog = page.get_by_role("dialog", name="Tax Helper")
    await dialog.wait_for()
    await dialog.get_by_role("button", name="Close").first.click()
    await dialog.wait_for(state="detached")


async def test_a_keyboard_user_pans_zooms_and_opens_a_star(probe, ui_registry, fleet):
    page = probe.page
    await open_map(page, ui_registry)
    await page.locator(MAP).focus()
    await page.keyboard.press("ArrowLeft")
    assert await transform(page) != IDENTITY
    await page.keyboard.press("+")
    assert "scale(1.4000)" in await transform(page)
    await page.keyboard.press("0")
    assert await transform(page) == IDENTITY

    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.getAttribute('aria-label')")
    name = focused.split(":")[0]
    assert name in {agent for agent, _, _ in FLEET}
    tooltip = page.locator(".map-tooltip")
    assert name in await tooltip.inner_text()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=name)
    await dialog.wait_for()
    await probe.assert_accessible()
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="detached")
    await page.wait_for_function(
        "(label) => document.activeElement.getAttribute('aria-label') === label", arg=focused
    )

    # The text alternative: registry → capability → agents, each opening the same modal.
    await page.get_by_text("Clusters: the map as a list").click()
    group = page.locator("[data-map-list] [data-list-galaxy=Home] li", has_text="bookkeeping (2)")
    await group.get_by_role("button", name="Ledger Keeper").press("Space")
    await page.get_by_role("dialog", name="Ledger Keeper").wait_for()


async def test_the_federation_toggle_adds_a_galaxy_per_peer_and_says_who_answered(
    probe, ui_registry, start_ui_registry
):
    remote = await start_ui_registry("Remote")
    far = await remote.account("far")
    await remote.add_agent(far, "Far Translator", capabilities=["translation"])
    await peer_with(ui_registry, remote)
    await ui_registry.add_peer("Gone", f"http://127.0.0.1:{free_port()}", "avf_nobody_home")
    headers = await ui_registry.account("ada")
    await ui_registry.add_agent(headers, "Weather Oracle", capabilities=["forecast"])
    page = probe.page
    await open_map(page, ui_registry)
    assert await page.locator("[data-galaxy]").count() == 1
    assert await page.locator("[data-federation-status]").inner_text() == ""

    await page.get_by_label("Include federated registries").check()
    await page.locator("[data-galaxy=Remote]").wait_for()
    assert page.url.endswith("/ui/discovery/map?include_federated=true")
    assert await constellations(page) == {
        "Home/forecast · 1": ["Weather Oracle"],
        "Remote/translation · 1": ["Far Translator"],
    }
    assert await page.locator("[data-galaxy=Remote] [data-galaxy-label]").text_content() == (
        "Remote  1 agent"
    )
    answered = page.locator("[data-federation-status] [data-peer=Remote]")
    assert await answered.get_attribute("data-peer-status") == "ok"
    assert "answered" in await answered.inner_text()
    silent = page.locator("[data-federation-status] [data-peer=Gone]")
    assert await silent.get_attribute("data-peer-status") in {"error", "timeout"}
    assert "did not answer" in await silent.inner_text()
    await probe.screenshots("galactic-map-federated")
    star = page.get_by_role("button", name=re.compile("^Far Translator: translation, Remote"))
    await star.click()
    dialog = page.get_by_role("dialog", name="Far Translator")
    await dialog.get_by_text("from Remote").wait_for()
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="detached")
    await probe.assert_accessible()

    await page.reload()
    await page.locator("[data-galaxy=Remote]").wait_for()
    assert await page.get_by_label("Include federated registries").is_checked()


async def test_an_empty_registry_invites_to_register_an_agent(probe, ui_registry):
    page = probe.page
    await page.goto(f"{ui_registry.url}/ui/discovery/map")
    empty = page.locator(".map-stage [data-state=empty]")
    await empty.wait_for()
    assert "The sky is still empty" in await empty.inner_text()
    link = empty.get_by_role("link", name="Register an agent")
    assert await link.get_attribute("href") == "/ui/developer/agents/new"
    assert await page.get_by_role("button", name="Zoom in").count() == 0
    assert await page.locator("[data-map-list]").is_hidden()
    await probe.assert_accessible()
    await probe.screenshots("galactic-map-empty")


async def test_a_failed_search_shows_the_error_and_try_again_charts_the_map(
    probe, ui_registry, fleet
):
    probe.expect(503, r"/api/v1/discovery/agents\?")
    page = probe.page
    error = {"error": "unavailable", "message": "Discovery is resting.", "request_id": "req-42"}

    async def unavailable(route):
        await route.fulfill(status=503, content_type="application/json", body=json.dumps(error))

    await page.route(SEARCH, unavailable)
    await page.goto(f"{ui_registry.url}/ui/discovery/map")
    state = page.locator(".map-stage [data-state=error]")
    await state.wait_for()
    text = await state.inner_text()
    assert "Discovery is resting." in text and "req-42" in text
    await probe.assert_accessible()

    await page.unroute(SEARCH, unavailable)
    await state.get_by_role("button", name="Try again").click()
    await page.locator(MAP).wait_for()
    assert await page.locator("[data-star]").count() == len(FLEET)


async def test_two_hundred_agents_are_charted_page_by_page_without_overlapping(probe, ui_registry):
    headers = await ui_registry.account("ada")
    topics = ["forecast", "translation", "bookkeeping", "search", "vision", "speech", "code"]

    async def add(index: int) -> None:
        capabilities = [topics[index % len(topics)], topics[(index * 3) % len(topics)]]
        await ui_registry.add_agent(headers, f"Agent {index:03}", capabilities=capabilities)

    for start in range(0, 200, 25):
        await asyncio.gather(*(add(index) for index in range(start, start + 25)))

    page = probe.page
    second_page = asyncio.Event()
    seen_progress = asyncio.Event()

    async def hold_second_page(route):
        second_page.set()
        await seen_progress.wait()
        await route.continue_()

    await page.route(re.compile(r"/api/v1/discovery/agents\?.*cursor="), hold_second_page)
    await page.goto(f"{ui_registry.url}/ui/discovery/map")
    await second_page.wait()
    progress = page.locator(".map-stage [data-state=loading]")
    await progress.get_by_text("Charting 100 of 200 agents…").wait_for()
    assert await progress.get_by_role("progressbar").get_attribute("aria-valuenow") == "50"
    seen_progress.set()

    await page.locator(MAP).wait_for()
    assert await page.locator("[data-star]").count() == 200
    assert (await page.locator("[data-map-summary]").inner_text()).startswith("200 agents in ")
    overlaps = await page.evaluate(
        """() => {
            const stars = [...document.querySelectorAll("[data-star]")].map((star) => {
                const [x, y] = star.getAttribute("transform").match(/-?[\\d.]+/g).map(Number);
                return { x, y, r: Number(star.querySelector(".star-core").getAttribute("r")) };
            });
            let count = 0;
            stars.forEach((a, i) => stars.slice(i + 1).forEach((b) => {
                if (Math.hypot(a.x - b.x, a.y - b.y) < a.r + b.r) count++;
            }));
            return count;
        }"""
    )
    assert overlaps == 0
    await probe.assert_accessible()
    await probe.screenshots("galactic-map-crowded")
