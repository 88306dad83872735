"""Cards through the HTTP API: the whole real-world corpus, and every card the registry serves
parsed by the official A2A SDK."""

from __future__ import annotations

import json

import pytest
from agents_helpers import account, register_agent

from a2a_corpus import CORPUS, EXPECTED, assert_sdk_parses, needs_corpus, sdk_agent_card_type
from sample_cards import V03_CARD, V1_CARD

AGENTS = "/api/v1/agents"


@pytest.mark.corpus
@needs_corpus
async def test_every_corpus_card_is_accepted_or_refused_precisely(agents_client):
    ada = await account(agents_client, "ada")
    card_type = sdk_agent_card_type()
    for name, expected in sorted(EXPECTED.items()):
        text = (CORPUS / name).read_text(encoding="utf-8", errors="replace")
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            document = text  # not JSON at all: sent as a string, which is no card either
        response = await agents_client.post(AGENTS, json={"card": document}, headers=ada)
        body = await response.json()
        if expected["outcome"] == "refused":
            assert response.status == 422, (name, body)
            if isinstance(document, dict):
                details = body["details"]
                field = expected["field"]
                assert field in details, (name, details)
                assert any(expected["reason"] in reason for reason in details[field]), name
            continue
        assert response.status == 201, (name, body)
        served = await (await agents_client.get(f"{AGENTS}/{body['id']}/card")).json()
        assert_sdk_parses(served, card_type)


@pytest.mark.parametrize("card", [V1_CARD, V03_CARD, None], ids=["v1.0", "v0.3", "derived"])
async def test_every_served_card_parses_with_the_official_sdk(agents_client, card):
    ada = await account(agents_client, "ada")
    extra = {"card": card} if card is not None else {"capabilities": ["echo", "repeat"]}
    agent = await register_agent(agents_client, ada, **extra)
    served = await (await agents_client.get(f"{AGENTS}/{agent['id']}/card")).json()
    assert_sdk_parses(served, sdk_agent_card_type())


@pytest.mark.parametrize("body", [{"card": {}}, {"name": "", "card": {}}])
async def test_an_empty_card_is_refused_not_taken_for_no_card(agents_client, body):
    # Found by the API fuzzing: an empty card skipped the card validator and the agent was
    # left without a name to take from it (a 500).
    ada = await account(agents_client, "ada")
    response = await agents_client.post(AGENTS, json=body, headers=ada)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"] in ("invalid_agent_card", "validation_failed")
