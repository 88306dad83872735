"""Peers' agents must carry the peer's signature: what fails is dropped and reported."""

from __future__ import annotations

from aiohttp import web

from agentvault_registry.core.signing_keys import generated_key_pem, signing_key
from registry_harness import QUERY, answering, origin_signed, peer_with, remote_agent

FORGER = signing_key(generated_key_pem(), "a key the peer does not publish")


def statuses(document):
    return {peer["name"]: peer for peer in document["federation_status"]["peers"]}


def names(document):
    return sorted(agent["name"] for agent in document["agents"])


async def test_agents_without_the_peers_valid_signature_are_dropped_and_reported(
    registry_factory, fake_peer_factory
):
    home = await registry_factory("Home")
    tampered = origin_signed(remote_agent("Tampered"))
    tampered["description"] = "Changed on the way."
    peer = await fake_peer_factory(
        answering(
            remote_agent("Genuine"),
            tampered,
            origin_signed(remote_agent("Forged"), FORGER),
            remote_agent("Unsigned", origin_signature=None),
        )
    )
    await home.add_peer("Mixed", peer.url, "avf_token_for_mixed")
    document = await home.search()
    assert names(document) == ["Genuine"]
    status = statuses(document)["Mixed"]
    assert status["status"] == "ok"
    assert status["dropped"] == 3
    assert status["dropped_reason"] == "no valid signature of the peer's"


async def test_a_peer_that_signs_nothing_is_trusted_only_when_so_configured(
    registry_factory, fake_peer_factory
):
    relaxed = {"plugins": {"federation": {"require_peer_signatures": False}}}
    strict = await registry_factory("Strict")
    lenient = await registry_factory("Lenient", relaxed)
    peer = await fake_peer_factory(answering(remote_agent("Plain"), signed=False))
    for home in (strict, lenient):
        await home.add_peer("Plain Peer", peer.url, "avf_token_for_plain")
    assert names(await strict.search()) == []
    assert statuses(await strict.search())["Plain Peer"]["dropped"] == 1
    assert names(await lenient.search()) == ["Plain"]
    # A signature that is there is checked all the same.
    forged = await fake_peer_factory(answering(origin_signed(remote_agent("F"), FORGER)))
    await lenient.add_peer("Forger", forged.url, "avf_token_for_forger")
    assert names(await lenient.search()) == ["Plain"]


async def test_registries_verify_each_others_signatures_end_to_end(registry_factory):
    home = await registry_factory("Home")
    other = await registry_factory("Other")
    developer = await other.account("oswald")
    await other.add_agent(developer, "Signed Scribe", capabilities=["write"])
    await peer_with(home, other)
    document = await home.search(capabilities="write")
    assert names(document) == ["Signed Scribe"]
    assert "dropped" not in statuses(document)["Other"]


async def test_a_peer_whose_keys_cannot_be_had_loses_its_agents(registry_factory, unused_tcp_port):
    home = await registry_factory("Home")

    async def query(request: web.Request) -> web.Response:
        agents = [origin_signed(remote_agent("Keyless"))]
        return web.json_response({"agents": agents, "registry": {"name": "K", "url": "x"}})

    async def broken_keys(request: web.Request) -> web.Response:
        return web.json_response({"error": "down"}, status=500)

    app = web.Application()
    app.router.add_post(QUERY, query)
    app.router.add_get("/.well-known/jwks.json", broken_keys)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        await home.add_peer("Keyless", f"http://127.0.0.1:{unused_tcp_port}", "avf_token_k")
        document = await home.search()
    finally:
        await runner.cleanup()
    assert names(document) == []
    assert statuses(document)["Keyless"]["dropped"] == 1
