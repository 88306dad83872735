"""``agentvault-registry federation sync``: pulling a peer's change feed into a local mirror,
resuming where the last sync ended."""

from __future__ import annotations

import asyncio

import click
import pytest
from aiohttp import web
from click.testing import CliRunner

from agentvault_registry.cli import cli
from agentvault_registry.core.appkeys import SETTINGS, STORAGE
from agentvault_registry.plugins.federation.commands import add_commands
from registry_harness import answering, peer_with


@pytest.fixture
async def home_and_beta(registry_factory, tmp_path):
    home = await registry_factory("Home")
    beta = await registry_factory("Beta")
    developer = await beta.account("dev")
    agents = [await beta.add_agent(developer, name) for name in ("Beta One", "Beta Two")]
    peer = await peer_with(home, beta)
    config = tmp_path / "home.toml"
    config.write_text(
        'mode = "development"\n'
        f'data_dir = "{home.app[SETTINGS].data_dir}"\n'
        "[plugins.federation]\nallow_http = true\nallow_private_peers = true\n"
    )
    return home, beta, developer, agents, peer, str(config)


async def sync(config: str, *extra: str):
    group = click.Group(commands=dict(cli.commands))
    add_commands(group)
    # The command runs its own event loop: in a thread, while the registries serve in ours.
    return await asyncio.to_thread(
        CliRunner().invoke, group, ["federation", "sync", "--config", config, *extra], env={}
    )


async def mirrored(home, peer_id: str) -> dict[str, dict]:
    agents = await home.app[STORAGE].records.list_mirrored_agents(peer_id, limit=100)
    return {agent.did: dict(agent.document) for agent in agents}


async def test_sync_mirrors_the_peers_agents_and_resumes(home_and_beta):
    home, beta, developer, agents, peer, config = home_and_beta
    first = await sync(config)
    assert first.exit_code == 0, first.output
    assert "Beta: 2 changes, 2 agents mirrored" in first.output
    assert set(await mirrored(home, peer["id"])) == {agent["did"] for agent in agents}

    one, two = agents
    await beta.json("DELETE", f"/api/v1/agents/{one['id']}", expect=204, headers=developer)
    await beta.json(
        "PATCH",
        f"/api/v1/agents/{two['id']}",
        json={"description": "Changed at the origin."},
        headers=developer,
    )
    second = await sync(config)
    assert second.exit_code == 0, second.output
    assert "Beta: 2 changes, 1 agents mirrored" in second.output
    now = await mirrored(home, peer["id"])
    assert list(now) == [two["did"]]
    assert now[two["did"]]["description"] == "Changed at the origin."

    third = await sync(config)
    assert "Beta: 0 changes" in third.output
    stored = await home.app[STORAGE].records.get_peer(peer["id"])
    assert stored.change_cursor > 0


async def test_a_peer_without_a_change_feed_fails_the_sync_with_its_name(
    home_and_beta, fake_peer_factory
):
    home, _, _, _, _, config = home_and_beta
    broken = await fake_peer_factory(lambda request: None)
    await home.add_peer("Broken", broken.url, "avf_broken")
    result = await sync(config)
    assert result.exit_code == 1
    assert "Beta: 2 changes" in result.output
    assert "error: Broken: the server answered HTTP 404" in result.output


async def test_sync_of_an_unknown_peer_says_so(home_and_beta):
    *_, config = home_and_beta
    result = await sync(config, "--peer", "Nobody")
    assert result.exit_code != 0
    assert "no active peer named 'Nobody'" in result.output


async def test_a_change_without_a_valid_agent_fails_the_sync(home_and_beta, fake_peer_factory):
    home, _, _, _, _, config = home_and_beta

    async def bad_feed(request):
        return web.json_response(
            {
                "changes": [
                    {"seq": 1, "type": "updated", "agentId": "a", "agent": {"name": "no did"}}
                ],
                "next_cursor": "1",
                "registry": {"name": "Odd", "url": "x"},
            }
        )

    odd = await fake_peer_factory(answering(), changes=bad_feed)
    created = await home.add_peer("Odd", odd.url, "avf_odd")
    result = await sync(config, "--peer", "Odd")
    assert result.exit_code == 1
    assert "error: Odd: change 1 holds no valid agent" in result.output
    assert await mirrored(home, created["id"]) == {}


async def test_sync_without_peers_says_so(registry_factory, tmp_path):
    lonely = await registry_factory("Lonely")
    config = tmp_path / "lonely.toml"
    config.write_text(f'mode = "development"\ndata_dir = "{lonely.app[SETTINGS].data_dir}"\n')
    result = await sync(str(config))
    assert result.exit_code == 0 and "no active peers to sync" in result.output
