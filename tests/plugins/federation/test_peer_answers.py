"""What a peer's answer must look like before any of it reaches our clients."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from agentvault_registry.plugins.federation.schemas import FederationAnswerSchema
from registry_harness import remote_agent

ANSWER = FederationAnswerSchema()
REGISTRY = {"name": "Peer", "url": "https://peer.example.org"}


def test_a_good_answer_keeps_what_we_know_and_drops_the_rest():
    agent = remote_agent("Scribe", a2a={"skills": ["write"], "secret": "x"}, internal="y")
    loaded = ANSWER.load({"agents": [agent], "registry": REGISTRY, "extra": 1})
    (kept,) = loaded["agents"]
    assert kept["name"] == "Scribe" and kept["a2a"] == {"skills": ["write"]}
    assert "internal" not in kept and "extra" not in loaded


@pytest.mark.parametrize(
    "agent",
    [
        {"name": "no id or did"},
        {**remote_agent("x"), "did": ""},
        remote_agent("n" * 501),
        remote_agent("x", tags=["t" * 201]),
        remote_agent("x", tags="not a list"),
        remote_agent("x", capabilities=[1, 2]),
        remote_agent("x", capabilities=["c"] * 201),
        remote_agent("x", a2a={"skills": [{"nested": True}]}),
        remote_agent("x", description=["not text"]),
        "not an object",
    ],
)
def test_a_bad_agent_fails_the_whole_answer(agent):
    with pytest.raises(ValidationError):
        ANSWER.load({"agents": [agent], "registry": REGISTRY})


@pytest.mark.parametrize(
    "answer",
    [
        {"agents": [remote_agent(f"a{i}") for i in range(101)], "registry": REGISTRY},
        {"agents": {}, "registry": REGISTRY},
        {"agents": []},
        {"registry": REGISTRY},
        [],
        "agents",
    ],
)
def test_a_malformed_answer_fails(answer):
    with pytest.raises(ValidationError):
        ANSWER.load(answer)
