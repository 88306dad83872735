"""The register-agent wizard in the browser: from a template, a pasted card and a card URL, with
the API's field errors mapped back to their step and field."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from developer_helpers import agent_card
from webui_harness import sign_in

from support import free_port

pytestmark = pytest.mark.browser

WIZARD = "/ui/developer/agents/new"
#: The registry fetches card URLs on loopback only when told it may.
LOOPBACK_CARDS = {"outbound": {"allow_private_targets": True}}


async def mine(registry, headers) -> list[dict]:
    return (await registry.json("GET", "/api/v1/agents?owner=me", headers=headers))["agents"]


async def landed_on_new_agent(probe, registry, name: str) -> str:
    """The portal after registering: the new agent's row highlighted; its id."""
    page = probe.page
    await page.wait_for_url(f"{registry.url}/ui/developer?highlight=*")
    row = page.locator("tr.row-highlight")
    await row.get_by_role("link", name=name).wait_for()
    return await row.get_attribute("data-agent-id")


@pytest.fixture
async def card_server() -> AsyncIterator[str]:
    """An agent on loopback publishing its card at the well-known path."""
    app = web.Application()

    async def card(request: web.Request) -> web.Response:
        return web.json_response(agent_card("Published Agent"))

    app.router.add_get("/.well-known/agent-card.json", card)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_template_becomes_an_agent(probe, ui_registry):
    headers = await ui_registry.account("ada")
    await sign_in(probe, ui_registry, "ada", WIZARD)
    page = probe.page
    await page.get_by_label("Conversational assistant").check()
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("heading", name="2. Details").wait_for()
    assert await page.get_by_label("Name", exact=True).input_value() == "My Assistant"
    await page.get_by_label("Name", exact=True).fill("Ada's Assistant")
    await page.get_by_label("Human-readable id").fill("adas-assistant")
    await page.get_by_role("textbox", name=re.compile("^Endpoint 1")).fill(
        "https://assistant.ada.example/a2a"
    )
    await probe.assert_accessible()
    await probe.screenshots("agent-wizard")
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("heading", name="3. Review").wait_for()
    await page.get_by_text("https://assistant.ada.example/a2a", exact=True).wait_for()
    await probe.assert_accessible()
    await page.get_by_role("button", name="Register agent").click()

    agent_id = await landed_on_new_agent(probe, ui_registry, "Ada's Assistant")
    stored = await ui_registry.json("GET", f"/api/v1/agents/{agent_id}")
    assert stored["humanReadableId"] == "adas-assistant"
    assert stored["agentType"] == "assistant"
    assert stored["apiEndpoints"] == ["https://assistant.ada.example/a2a"]
    assert stored["cardSource"] == "stored"
    assert [agent["id"] for agent in await mine(ui_registry, headers)] == [agent_id]


async def test_a_pasted_card_becomes_an_agent(probe, ui_registry):
    await ui_registry.account("bea")
    await sign_in(probe, ui_registry, "bea", WIZARD)
    page = probe.page
    await page.get_by_label("Paste an Agent Card").check()
    await page.get_by_label("A2A Agent Card (JSON)").fill(json.dumps(agent_card("Pasted Agent")))
    await page.get_by_role("button", name="Next").click()
    await page.get_by_label("Tags (comma-separated)").fill("pasted, demo")
    await page.get_by_label("Pricing").select_option("per_call")
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("button", name="Register agent").click()

    agent_id = await landed_on_new_agent(probe, ui_registry, "Pasted Agent")
    stored = await ui_registry.json("GET", f"/api/v1/agents/{agent_id}")
    assert stored["tags"] == ["pasted", "demo"]
    assert stored["pricing"] == {"model": "per_call"}
    assert stored["capabilities"] == ["answer", "qa"]


async def test_invalid_json_is_explained_before_anything_is_sent(probe, ui_registry):
    await ui_registry.account("cyd")
    await sign_in(probe, ui_registry, "cyd", WIZARD)
    page = probe.page
    await page.get_by_label("Paste an Agent Card").check()
    pasted = page.get_by_label("A2A Agent Card (JSON)")
    await pasted.fill('{"name": "Broken",')
    await page.get_by_role("button", name="Next").click()
    feedback = page.locator(f"#{await pasted.get_attribute('id')}-feedback")
    await feedback.get_by_text("This is not valid JSON").wait_for()
    assert await page.get_by_role("heading", name="1. Starting point").is_visible()

    await pasted.fill('["not", "a", "card"]')
    await page.get_by_role("button", name="Next").click()
    await feedback.get_by_text("not an array").wait_for()


async def test_card_errors_from_the_api_go_back_to_their_step_and_field(probe, ui_registry):
    probe.expect(422, r"/api/v1/agents$")
    headers = await ui_registry.account("dan")
    await sign_in(probe, ui_registry, "dan", WIZARD)
    page = probe.page
    card = agent_card("Nameless Skill")
    del card["skills"][0]["name"]
    await page.get_by_label("Paste an Agent Card").check()
    await page.get_by_label("A2A Agent Card (JSON)").fill(json.dumps(card))
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("button", name="Register agent").click()

    # Back on the details step, the card's JSON is marked with the path inside it.
    await page.get_by_role("heading", name="2. Details").wait_for()
    card_json = page.get_by_label("The whole card (JSON)")
    await page.locator("textarea[name=card].is-invalid").wait_for()
    feedback = page.locator(f"#{await card_json.get_attribute('id')}-feedback")
    assert "skills.0.name: Missing data for required field." in await feedback.inner_text()
    assert await card_json.evaluate("(area) => area === document.activeElement")
    assert "has errors" in await page.locator(".wizard-step.has-errors").inner_text()
    await probe.assert_accessible()
    assert await mine(ui_registry, headers) == []

    # Fixed in the JSON, the same wizard registers it.
    card["skills"][0]["name"] = "Answer"
    await card_json.fill(json.dumps(card))
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("button", name="Register agent").click()
    await landed_on_new_agent(probe, ui_registry, "Nameless Skill")


async def test_a_taken_id_is_marked_on_its_field(probe, ui_registry):
    probe.expect(409, r"/api/v1/agents$")
    headers = await ui_registry.account("eve")
    await ui_registry.add_agent(headers, "First", humanReadableId="taken-id")
    await sign_in(probe, ui_registry, "eve", WIZARD)
    page = probe.page
    await page.get_by_label("Paste an Agent Card").check()
    await page.get_by_label("A2A Agent Card (JSON)").fill(json.dumps(agent_card("Second")))
    await page.get_by_role("button", name="Next").click()
    await page.get_by_label("Human-readable id").fill("taken-id")
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("button", name="Register agent").click()
    await page.locator("input[name=humanReadableId].is-invalid").wait_for()
    await page.get_by_text("Another agent has this id already").wait_for()


async def test_a_card_url_is_fetched_by_the_registry(probe, start_ui_registry, card_server):
    registry = await start_ui_registry("Home", LOOPBACK_CARDS)
    await registry.account("fay")
    await sign_in(probe, registry, "fay", WIZARD)
    page = probe.page
    await page.get_by_label("From a card URL").check()
    await page.get_by_label("Card URL", exact=True).fill(card_server)
    await page.get_by_role("button", name="Next").click()
    await page.locator(".alert", has_text="The registry fetches the card from").wait_for()
    await page.get_by_label("Agent type").fill("published")
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("button", name="Register agent").click()

    agent_id = await landed_on_new_agent(probe, registry, "Published Agent")
    stored = await registry.json("GET", f"/api/v1/agents/{agent_id}")
    assert (stored["agentType"], stored["cardSource"]) == ("published", "stored")
    assert stored["apiEndpoints"] == ["https://card-agent.example.com/a2a"]


async def test_a_card_url_that_fails_is_marked_on_the_first_step(probe, start_ui_registry):
    probe.expect(422, r"/api/v1/agents$")
    registry = await start_ui_registry("Home", LOOPBACK_CARDS)
    await registry.account("gil")
    await sign_in(probe, registry, "gil", WIZARD)
    page = probe.page
    await page.get_by_label("From a card URL").check()
    await page.get_by_label("Card URL", exact=True).fill(
        f"http://127.0.0.1:{free_port()}/card.json"
    )
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("button", name="Register agent").click()
    await page.get_by_role("heading", name="1. Starting point").wait_for()
    await page.locator("input[name=cardUrl].is-invalid").wait_for()
    assert await page.get_by_label("Card URL", exact=True).evaluate(
        "(input) => input === document.activeElement"
    )
