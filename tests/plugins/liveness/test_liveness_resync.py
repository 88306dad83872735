"""A card changed at its origin: the owner sees what changed (``GET .../card/origin``) and
re-syncs the registered card from it (``POST .../card/resync``), on SQLite and PostgreSQL."""

from __future__ import annotations

import jsonpatch
from liveness_helpers import AGENTS, CARD_PATH, card_at, check, developer, health, register

from agentvault_registry.plugins.agents.appkeys import AGENT_SERVICE

CHANGED = "Now translates poetry too."


async def changed_at_origin(client, origins):
    """A developer's agent whose origin serves its card with a new description and a second
    skill; (developer headers, agent, origin)."""
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register(client, ada, card=card_at(origin.url))
    served = card_at(origin.url, description=CHANGED)
    served["skills"] = [
        *served["skills"],
        {"id": "detect", "name": "Detect", "description": "Detect a language.", "tags": ["nlp"]},
    ]
    origin.card = served
    return ada, agent, origin


async def registered_card(client, agent_id: str) -> dict:
    """The card the agent is registered with, as stored (``GET .../card`` serves it with
    the registry's own signature added)."""
    agents = client.app[AGENT_SERVICE]
    return dict((await agents.card(await agents.get(agent_id))).card)


async def test_the_origin_card_comes_with_the_diff_from_the_registered_one(
    liveness_client, origins
):
    client = liveness_client
    ada, agent, origin = await changed_at_origin(client, origins)

    response = await client.get(f"{AGENTS}/{agent['id']}/card/origin", headers=ada)

    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["card_url"] == f"{origin.url}{CARD_PATH}"
    assert body["card_drift"] is True
    assert body["card"]["description"] == CHANGED
    assert len(body["card_hash"]) == 64
    assert {"op": "replace", "path": "/description", "value": CHANGED} in body["diff"]
    assert any(op["path"].startswith("/skills/") for op in body["diff"])
    # The diff is a JSON Patch: applied to the registered card it gives the served one.
    registered = await registered_card(client, agent["id"])
    assert jsonpatch.apply_patch(registered, body["diff"]) == body["card"]
    # Looking is no probe: the health is as it was.
    assert (await health(client, agent["id"]))["status"] == "unknown"


async def test_resync_stores_the_origin_card_and_the_drift_is_gone(liveness_client, origins):
    client = liveness_client
    ada, agent, _ = await changed_at_origin(client, origins)
    assert (await check(client, agent["id"], ada))["card_drift"] is True
    looked = await (await client.get(f"{AGENTS}/{agent['id']}/card/origin", headers=ada)).json()

    response = await client.post(
        f"{AGENTS}/{agent['id']}/card/resync",
        json={"card_hash": looked["card_hash"]},
        headers={**ada, "If-Match": f'"{agent["id"]}.1"'},
    )

    assert response.status == 200, await response.text()
    body = await response.json()
    assert response.headers["ETag"] == f'"{agent["id"]}.2"'
    assert body["changed"] is True
    assert body["diff"] == looked["diff"]
    assert body["agent"]["description"] == CHANGED
    assert "detect" in body["agent"]["capabilities"]
    assert await registered_card(client, agent["id"]) == looked["card"]
    # The resync's fetch was a probe of the card now registered; so is the next one.
    assert (await health(client, agent["id"]))["card_drift"] is False
    assert (await check(client, agent["id"], ada))["card_drift"] is False


async def test_resync_of_an_unchanged_card_changes_nothing(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register(client, ada, card=card_at(origin.url))
    origin.card = card_at(origin.url)

    response = await client.post(f"{AGENTS}/{agent['id']}/card/resync", headers=ada)

    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["changed"], body["diff"]) == (False, [])
    assert response.headers["ETag"] == f'"{agent["id"]}.1"'
    assert (await health(client, agent["id"]))["card_drift"] is False


async def test_resync_gives_a_derived_card_agent_the_origins_card(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register(
        client,
        ada,
        name="Plain",
        description="Registered without a card.",
        apiEndpoints=[f"{origin.url}/a2a"],
    )
    origin.card = card_at(origin.url)

    response = await client.post(f"{AGENTS}/{agent['id']}/card/resync", headers=ada)

    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["changed"] is True
    assert (body["agent"]["cardSource"], body["agent"]["name"]) == ("stored", "Translator")
    assert (await health(client, agent["id"]))["card_drift"] is False


async def test_resync_refuses_a_card_other_than_the_one_reviewed(liveness_client, origins):
    client = liveness_client
    ada, agent, origin = await changed_at_origin(client, origins)
    looked = await (await client.get(f"{AGENTS}/{agent['id']}/card/origin", headers=ada)).json()
    origin.card = card_at(origin.url, description="Changed once more.")

    response = await client.post(
        f"{AGENTS}/{agent['id']}/card/resync",
        json={"card_hash": looked["card_hash"]},
        headers=ada,
    )

    assert response.status == 409
    error = await response.json()
    assert error["error"] == "conflict"
    assert error["details"]["card_hash"] != looked["card_hash"]
    assert (await registered_card(client, agent["id"]))["description"] != "Changed once more."


async def test_an_origin_serving_no_card_is_a_422_fetch_failed(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins(status=500)
    agent = await register(client, ada, card=card_at(origin.url))

    for method, path in (("GET", "card/origin"), ("POST", "card/resync")):
        response = await client.request(method, f"{AGENTS}/{agent['id']}/{path}", headers=ada)
        assert response.status == 422
        error = await response.json()
        assert (error["error"], error["details"]["status"]) == ("fetch_failed", 500)


async def test_an_origin_serving_no_usable_card_is_a_422_with_field_paths(liveness_client, origins):
    client = liveness_client
    ada = await developer(client, "ada")
    origin = await origins()
    agent = await register(client, ada, card=card_at(origin.url))
    broken = card_at(origin.url)
    broken["skills"] = "none"
    origin.card = broken

    response = await client.post(f"{AGENTS}/{agent['id']}/card/resync", headers=ada)

    assert response.status == 422
    error = await response.json()
    assert error["error"] == "invalid_agent_card"
    assert "skills" in error["details"]
    assert (await client.get(f"{AGENTS}/{agent['id']}")).headers["ETag"] == f'"{agent["id"]}.1"'
