"""Racing redemptions of one bootstrap token: exactly one agent, every loser a 409.

For each of 20 tokens, 100 registrations with the same token run concurrently against one app
(on SQLite and on PostgreSQL records). One must win (201), the other 99 must be told the token
was used (409 ``bootstrap_token_consumed``), and the developer must end with one agent per
token, each token consumed by the agent its 201 named. When the registrations carry a card,
every loser's stored card is discarded: the blobs left belong to the winners alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from onboarding_helpers import REGISTRATION, developer, mint, redeem

from agentvault_registry.core.appkeys import STORAGE
from sample_cards import V1_CARD

TOKENS = 20
RACERS = 100
#: Tokens raced with a card: each racer normalizes and stores its card before the race is
#: decided (about 10 ms each), so fewer rounds; 5 x 99 losers' cards still must all go.
CARD_TOKENS = 5


async def _attempt(client, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = await redeem(client, token, body)
    return response.status, await response.json()


async def race(client, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """Send ``RACERS`` concurrent registrations with ``token``; check that exactly one won
    and every other one was told the token is consumed; the winner's 201 body."""
    answers = await asyncio.gather(*(_attempt(client, token, body) for _ in range(RACERS)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (RACERS - 1), statuses
    codes = {answer["error"] for status, answer in answers if status == 409}
    assert codes == {"bootstrap_token_consumed"}
    [winner] = [answer for status, answer in answers if status == 201]
    assert winner["credentials"]["agent_id"] == winner["agent"]["id"]
    return winner


async def race_every_token(client, headers, body, tokens: int) -> dict[str, str]:
    """Mint ``tokens`` tokens, race each; token id -> the agent id its winner got."""
    winners = {}
    for _ in range(tokens):
        minted = await mint(client, headers)
        winner = await race(client, minted["bootstrap_token"], body)
        winners[minted["id"]] = winner["agent"]["id"]
    assert len(set(winners.values())) == tokens
    return winners


async def assert_one_agent_per_token(client, headers, winners: dict[str, str]) -> None:
    listed = await client.get(
        "/api/v1/agents", params={"owner": "me", "per_page": "100"}, headers=headers
    )
    assert listed.status == 200, await listed.text()
    agents = await listed.json()
    assert agents["pagination"]["total"] == len(winners)
    assert {agent["id"] for agent in agents["agents"]} == set(winners.values())

    tokens = await client.get(
        "/api/v1/onboard/bootstrap/tokens", params={"per_page": "100"}, headers=headers
    )
    assert tokens.status == 200, await tokens.text()
    page = await tokens.json()
    assert page["pagination"]["total"] == len(winners)
    assert {token["id"]: token["status"] for token in page["tokens"]} == dict.fromkeys(
        winners, "consumed"
    )
    assert {token["id"]: token["consumed_by_agent_id"] for token in page["tokens"]} == winners


async def test_one_registration_per_token_wins_the_race(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "racer")

    winners = await race_every_token(client, headers, REGISTRATION, TOKENS)

    await assert_one_agent_per_token(client, headers, winners)


async def test_the_losers_cards_are_discarded(onboarding_client):
    client = onboarding_client
    headers = await developer(client, "carded")

    winners = await race_every_token(client, headers, {"card": V1_CARD}, CARD_TOKENS)

    await assert_one_agent_per_token(client, headers, winners)
    blobs = client.app[STORAGE].blobs
    keys = [key async for key in blobs.list("agents/")]
    owners = {key.split("/")[1] for key in keys}
    assert owners == set(winners.values())
    # Each winner keeps its normalized card and the original it sent, nothing more.
    assert len(keys) == 2 * CARD_TOKENS, keys
    for agent_id in winners.values():
        response = await client.get(f"/api/v1/agents/{agent_id}/card")
        assert response.status == 200, await response.text()
        assert (await response.json())["name"] == V1_CARD["name"]
