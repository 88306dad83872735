"""Registering, reading, changing and deleting agents over HTTP."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from agents_helpers import account, app_overrides, register_agent

from agentvault_registry.core.identity import Identity
from agentvault_registry.plugins.agents.appkeys import AGENT_SERVICE
from sample_cards import V03_CARD, V1_CARD

AGENTS = "/api/v1/agents"


async def test_the_crud_flow_on_every_backend(
    aiohttp_client, make_app, records_overrides, blobs_overrides
):
    storage = {**records_overrides, **blobs_overrides}
    client = await aiohttp_client(make_app(app_overrides(storage=storage)))
    ada = await account(client, "ada")

    created = await client.post(AGENTS, json={"card": V03_CARD, "tags": ["docs"]}, headers=ada)
    assert created.status == 201, await created.text()
    agent = await created.json()
    assert agent["name"] == "Summarizer"
    assert agent["did"] == f"did:agentvault:{agent['id']}"
    assert agent["apiEndpoints"] == ["https://summarizer.example.com/a2a"]
    assert "summarize" in agent["capabilities"]
    assert agent["cardWarnings"], "the v0.3 upgrade must say what changed"
    assert created.headers["Location"] == f"{AGENTS}/{agent['id']}"

    card = await (await client.get(f"{AGENTS}/{agent['id']}/card")).json()
    assert card["supportedInterfaces"][0]["url"] == "https://summarizer.example.com/a2a"
    assert "url" not in card and "preferredTransport" not in card

    for reference in (agent["id"], agent["did"], agent["humanReadableId"].upper()):
        response = await client.get(f"{AGENTS}/{reference}")
        assert response.status == 200
        assert (await response.json())["id"] == agent["id"]

    etag = created.headers["ETag"]
    patched = await client.patch(
        f"{AGENTS}/{agent['id']}",
        json={"description": "Shorter summaries."},
        headers={**ada, "If-Match": etag},
    )
    assert patched.status == 200
    assert patched.headers["ETag"] != etag
    stale = await client.patch(
        f"{AGENTS}/{agent['id']}",
        json={"description": "Lost update"},
        headers={**ada, "If-Match": etag},
    )
    assert stale.status == 412

    replaced = await client.put(
        f"{AGENTS}/{agent['id']}",
        json={"card": V1_CARD, "name": "Translator", "description": "New."},
        headers=ada,
    )
    assert replaced.status == 200
    assert (await replaced.json())["capabilities"][:1] == ["translate"]

    deleted = await client.delete(f"{AGENTS}/{agent['id']}", headers=ada)
    assert deleted.status == 204
    assert (await client.get(f"{AGENTS}/{agent['id']}")).status == 404
    listing = await (await client.get(AGENTS)).json()
    assert listing["agents"] == []


async def test_an_agent_without_a_card_serves_a_derived_one(agents_client):
    ada = await account(agents_client, "ada")
    agent = await register_agent(
        agents_client, ada, apiEndpoints=["https://echo.example.com/a2a"], capabilities=["echo"]
    )
    response = await agents_client.get(f"{AGENTS}/{agent['id']}/card")
    assert response.status == 200
    card = await response.json()
    assert card["name"] == "Echo"
    assert card["supportedInterfaces"][0]["url"] == "https://echo.example.com/a2a"
    assert [skill["id"] for skill in card["skills"]] == ["echo"]
    again = await agents_client.get(
        f"{AGENTS}/{agent['id']}/card", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status == 304


async def test_conditional_get_by_etag(agents_client):
    ada = await account(agents_client, "ada")
    agent = await register_agent(agents_client, ada)
    first = await agents_client.get(f"{AGENTS}/{agent['id']}")
    again = await agents_client.get(
        f"{AGENTS}/{agent['id']}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304


async def test_two_puts_with_the_same_if_match_one_wins(agents_client):
    ada = await account(agents_client, "ada")
    agent = await register_agent(agents_client, ada)
    etag = (await agents_client.get(f"{AGENTS}/{agent['id']}")).headers["ETag"]
    responses = await asyncio.gather(
        *(
            agents_client.put(
                f"{AGENTS}/{agent['id']}",
                json={
                    "name": f"Editor {i}",
                    "description": "Edited.",
                    "apiEndpoints": ["https://e.example.com/"],
                },
                headers={**ada, "If-Match": etag},
            )
            for i in range(2)
        )
    )
    assert sorted(response.status for response in responses) == [200, 412]


@pytest.mark.parametrize(
    "field",
    [
        {"id": "00000000-0000-0000-0000-000000000000"},
        {"did": "did:agentvault:mine"},
        {"developerId": "someone-else"},
        {"verified": True},
        {"verifiedAt": "2026-01-01T00:00:00+00:00"},
        {"createdAt": "2020-01-01T00:00:00+00:00"},
        {"status": "deleted"},
    ],
)
async def test_server_controlled_fields_are_refused(agents_client, field):
    ada = await account(agents_client, "ada")
    body = {"name": "Sneaky", "description": "Tries.", "apiEndpoints": ["https://s.example.com/"]}
    response = await agents_client.post(AGENTS, json={**body, **field}, headers=ada)
    assert response.status == 422
    listing = await (await agents_client.get(AGENTS)).json()
    assert listing["agents"] == []


async def test_a_taken_slug_is_409(agents_client):
    ada = await account(agents_client, "ada")
    await register_agent(agents_client, ada, humanReadableId="echo-bot")
    response = await agents_client.post(
        AGENTS,
        json={
            "name": "Other",
            "description": "d",
            "apiEndpoints": ["https://o.example.com/"],
            "humanReadableId": "echo-bot",
        },
        headers=ada,
    )
    assert response.status == 409
    assert (await response.json())["details"] == {"field": "human_readable_id"}


async def test_an_invalid_card_is_422_with_the_field_path(agents_client):
    ada = await account(agents_client, "ada")
    broken = {
        **V1_CARD,
        "supportedInterfaces": [
            {"url": "/relative", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
        ],
    }
    response = await agents_client.post(AGENTS, json={"card": broken}, headers=ada)
    assert response.status == 422
    details = (await response.json())["details"]
    assert any("supportedInterfaces" in key for key in details), details


async def test_listing_paginates_with_cursors_and_filters(agents_client):
    ada = await account(agents_client, "ada")
    grace = await account(agents_client, "grace")
    for number in range(5):
        await register_agent(agents_client, ada, name=f"Ada {number}", capabilities=["search"])
    await register_agent(agents_client, grace, name="Grace", agentType="tool")

    first = await (await agents_client.get(AGENTS, params={"per_page": "2"})).json()
    assert first["pagination"]["total"] == 6 and len(first["agents"]) == 2
    seen = [agent["id"] for agent in first["agents"]]
    cursor = first["pagination"]["next_cursor"]
    while cursor:
        page = await (
            await agents_client.get(AGENTS, params={"per_page": "2", "cursor": cursor})
        ).json()
        seen += [agent["id"] for agent in page["agents"]]
        cursor = page["pagination"]["next_cursor"]
    assert len(seen) == len(set(seen)) == 6

    mine = await (await agents_client.get(AGENTS, params={"owner": "me"}, headers=grace)).json()
    assert [agent["name"] for agent in mine["agents"]] == ["Grace"]
    tools = await (await agents_client.get(AGENTS, params={"agent_type": "tool"})).json()
    assert [agent["name"] for agent in tools["agents"]] == ["Grace"]
    searchers = await (await agents_client.get(AGENTS, params={"capability": "search"})).json()
    assert searchers["pagination"]["total"] == 5
    slim = await (await agents_client.get(AGENTS, params={"fields": "id,name"})).json()
    assert all(set(agent) == {"id", "name"} for agent in slim["agents"])


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": "0"},
        {"per_page": "101"},
        {"page": "x"},
        {"status": "gone"},
        {"owner": "you"},
        {"cursor": "!!"},
    ],
)
async def test_bad_listing_parameters_are_4xx(agents_client, params):
    response = await agents_client.get(AGENTS, params=params)
    assert response.status in {400, 422}
    assert "error" in await response.json()


async def test_the_change_feed_lists_changes_in_order_with_tombstones(agents_client):
    ada = await account(agents_client, "ada")
    agent = await register_agent(agents_client, ada)
    await agents_client.patch(f"{AGENTS}/{agent['id']}", json={"description": "v2"}, headers=ada)
    await agents_client.delete(f"{AGENTS}/{agent['id']}", headers=ada)
    feed = await (await agents_client.get(f"{AGENTS}/changes")).json()
    assert [change["type"] for change in feed["changes"]] == ["created", "updated", "deleted"]
    assert feed["changes"][-1]["agent"]["status"] == "deleted"
    later = await (
        await agents_client.get(f"{AGENTS}/changes", params={"since": feed["changes"][0]["seq"]})
    ).json()
    assert [change["type"] for change in later["changes"]] == ["updated", "deleted"]


async def test_a_cardless_agent_cannot_drop_its_last_endpoint(agents_client):
    ada = await account(agents_client, "ada")
    agent = await register_agent(agents_client, ada)
    response = await agents_client.patch(
        f"{AGENTS}/{agent['id']}", json={"apiEndpoints": []}, headers=ada
    )
    assert response.status == 422
    assert "apiEndpoints" in (await response.json())["details"]
    assert (await agents_client.get(f"{AGENTS}/{agent['id']}/card")).status == 200


async def test_an_agent_with_its_own_card_may_list_no_endpoints(agents_client):
    ada = await account(agents_client, "ada")
    agent = await register_agent(agents_client, ada, card=V1_CARD)
    response = await agents_client.patch(
        f"{AGENTS}/{agent['id']}", json={"apiEndpoints": []}, headers=ada
    )
    assert response.status == 200
    card = await (await agents_client.get(f"{AGENTS}/{agent['id']}/card")).json()
    assert card["name"] == "Translator"


async def test_changing_endpoints_voids_the_ownership_proof(agents_client):
    ada = await account(agents_client, "ada")
    agent = await register_agent(agents_client, ada)
    service = agents_client.app[AGENT_SERVICE]
    record = await service.get(agent["id"])
    await service.mark_verified(
        record, Identity(kind="user", subject=record.developer_id, plugin="t")
    )
    assert (await (await agents_client.get(f"{AGENTS}/{agent['id']}")).json())["verified"] is True
    await agents_client.patch(
        f"{AGENTS}/{agent['id']}",
        json={"apiEndpoints": ["https://elsewhere.example.com/"]},
        headers=ada,
    )
    after = await (await agents_client.get(f"{AGENTS}/{agent['id']}")).json()
    assert after["verified"] is False and after["verifiedAt"] is None


async def test_deleted_agents_cannot_be_listed_by_status(agents_client):
    ada = await account(agents_client, "ada")
    agent = await register_agent(agents_client, ada)
    await agents_client.delete(f"{AGENTS}/{agent['id']}", headers=ada)
    response = await agents_client.get(AGENTS, params={"status": "deleted"})
    assert response.status == 422


@pytest.mark.parametrize(
    "if_match", ['"x.\\u00b2"', '"{id}.99999999999999999999"', '"{id}.-1"', "garbage"]
)
async def test_odd_if_match_values_are_412(agents_client, if_match):
    ada = await account(agents_client, "ada")
    agent = await register_agent(agents_client, ada)
    header = if_match.replace("{id}", agent["id"]).encode().decode("unicode_escape")
    response = await agents_client.patch(
        f"{AGENTS}/{agent['id']}", json={"name": "x"}, headers={**ada, "If-Match": header}
    )
    assert response.status == 412


async def test_a_cursor_with_a_naive_timestamp_is_400(agents_client):
    cursor = base64.urlsafe_b64encode(json.dumps(["2020-01-01T00:00:00", "x"]).encode()).decode()
    assert (await agents_client.get(AGENTS, params={"cursor": cursor})).status == 400


@pytest.mark.parametrize("reference", ["%00", "x%00y", "a" * 300])
async def test_odd_references_are_404(agents_client, reference):
    assert (await agents_client.get(f"{AGENTS}/{reference}")).status == 404


async def test_nul_in_free_form_json_is_422(agents_client):
    ada = await account(agents_client, "ada")
    response = await agents_client.post(
        AGENTS,
        json={
            "name": "n",
            "description": "d",
            "apiEndpoints": ["https://n.example.com/"],
            "metadata": {"k": "a\u0000b"},
        },
        headers=ada,
    )
    assert response.status == 422


async def test_deep_metadata_is_refused(agents_client):
    ada = await account(agents_client, "ada")
    deep: dict = {}
    for _ in range(500):
        deep = {"d": deep}
    response = await agents_client.post(
        AGENTS,
        json={
            "name": "n",
            "description": "d",
            "apiEndpoints": ["https://n.example.com/"],
            "metadata": deep,
        },
        headers=ada,
    )
    assert response.status == 400


@pytest.mark.parametrize("slug", ["changes", "0b3a1c6e-1111-4222-8333-944455556666"])
async def test_reserved_or_id_shaped_slugs_are_refused(agents_client, slug):
    ada = await account(agents_client, "ada")
    response = await agents_client.post(
        AGENTS,
        json={
            "name": "n",
            "description": "d",
            "apiEndpoints": ["https://n.example.com/"],
            "humanReadableId": slug,
        },
        headers=ada,
    )
    assert response.status == 422


async def test_card_fields_are_held_to_the_record_limits(agents_client):
    ada = await account(agents_client, "ada")
    response = await agents_client.post(
        AGENTS, json={"card": {**V1_CARD, "name": "n" * 5000}}, headers=ada
    )
    assert response.status == 422
    assert "card" in (await response.json())["details"]


async def test_concurrent_unconditional_patches_all_succeed(agents_client):
    ada = await account(agents_client, "ada")
    agent = await register_agent(agents_client, ada)
    responses = await asyncio.gather(
        *(
            agents_client.patch(
                f"{AGENTS}/{agent['id']}", json={"description": f"v{i}"}, headers=ada
            )
            for i in range(3)
        )
    )
    assert [response.status for response in responses] == [200, 200, 200]


async def test_verify_refuses_unknown_body_fields(agents_client):
    ada = await account(agents_client, "ada")
    agent = await register_agent(agents_client, ada)
    response = await agents_client.post(
        f"{AGENTS}/{agent['id']}/verify", json={"junk": 1}, headers=ada
    )
    assert response.status == 422


async def test_the_change_feed_shows_no_storage_internals(agents_client):
    ada = await account(agents_client, "ada")
    await register_agent(agents_client, ada, card=V1_CARD)
    feed = await (await agents_client.get(f"{AGENTS}/changes")).json()
    shown = feed["changes"][0]["agent"]
    assert "card_blob_key" not in shown and "cardBlobKey" not in shown and "version" not in shown
    assert shown["name"] == "Echo"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(
    "field",
    [
        {"id": "x"},
        {"did": "did:agentvault:x"},
        {"developerId": "x"},
        {"verified": True},
        {"createdAt": "2020-01-01T00:00:00+00:00"},
    ],
)
async def test_server_controlled_fields_cannot_be_changed(agents_client, method, field):
    ada = await account(agents_client, "ada")
    agent = await register_agent(agents_client, ada)
    body = {"name": "n", "description": "d", "apiEndpoints": ["https://n.example.com/"], **field}
    response = await agents_client.request(
        method, f"{AGENTS}/{agent['id']}", json=body, headers=ada
    )
    assert response.status == 422
    after = await (await agents_client.get(f"{AGENTS}/{agent['id']}")).json()
    assert (after["id"], after["did"], after["developerId"], after["verified"]) == (
        agent["id"],
        agent["did"],
        agent["developerId"],
        False,
    )


async def test_the_fast_serializer_matches_the_documented_schema(agents_client):
    from agentvault_registry.plugins.agents.schemas import AgentSchema, agent_json

    ada = await account(agents_client, "ada")
    plain = await register_agent(agents_client, ada)
    rich = await register_agent(
        agents_client,
        ada,
        card=V1_CARD,
        pricing={"model": "per_call", "base_price": "0.01", "currency": "USD"},
        metadata={"team": {"name": "docs"}},
        tegWalletAddress="0xabc",
    )
    service = agents_client.app[AGENT_SERVICE]
    for reference in (plain["id"], rich["id"]):
        record = await service.get(reference)
        assert agent_json(record) == AgentSchema().dump(record)
