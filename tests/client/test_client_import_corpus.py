"""Acceptance: ``import`` publishes every card of the shared corpus the registry accepts,
reports each refused one with its reasons, and a second run publishes nothing new."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from client_harness import new_developer

from a2a_corpus import CORPUS, needs_corpus
from agentvault_registry.cli import cli
from agentvault_registry.client.importer import card_files
from registry_harness import PASSWORD, Registry

pytestmark = [pytest.mark.corpus, needs_corpus]


async def registry_verdicts(registry: Registry, files: list[Path]) -> dict[str, int]:
    """Each file's status when another developer registers it through the API: the
    registry's own verdict, independent of the client."""
    referee, _ = await new_developer(registry)
    login = await registry.json(
        "POST", "/api/v1/auth/login", json={"username": referee, "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    verdicts = {}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            document = text  # not JSON: sent as a string, which is no card either
        response = await registry.request(
            "POST", "/api/v1/agents", json={"card": document}, headers=headers
        )
        assert response.status in {201, 422}, (path, await response.text())
        verdicts[str(path)] = response.status
    return verdicts


def import_corpus(*options: str) -> dict:
    result = CliRunner().invoke(cli, ["import", str(CORPUS), *options], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in options else {"text": result.stdout}


def test_import_publishes_what_the_registry_accepts_and_nothing_new_the_second_time(
    served_registry,
):
    files = card_files([CORPUS])
    verdicts = served_registry.run(registry_verdicts(served_registry.registry, files))
    accepted = {name for name, status in verdicts.items() if status == 201}
    refused = set(verdicts) - accepted
    assert accepted and refused, "the corpus has cards of both kinds"

    developer, _ = served_registry.run(new_developer(served_registry.registry))
    login = CliRunner().invoke(
        cli, ["login", "--url", served_registry.url], input=f"{developer}\n{PASSWORD}\n"
    )
    assert login.exit_code == 0, login.output

    first = import_corpus("--json")
    by_status: dict[str, set[str]] = {}
    for outcome in first["files"]:
        by_status.setdefault(outcome["status"], set()).add(outcome["file"])
    assert first["accepted"] == len(accepted)
    assert by_status["accepted"] == accepted
    assert by_status["refused"] == refused
    for outcome in first["files"]:
        if outcome["status"] == "refused":
            assert outcome["code"] and outcome["message"], outcome
    assert served_registry.run(agent_count(served_registry.registry, developer)) == len(accepted)

    second = import_corpus()["text"]
    assert "accepted: 0\n" in second
    assert f"already present: {len(accepted)}\n" in second
    assert f"refused: {len(refused)}\n" in second
    for name in refused:
        assert name in second, f"{name} is listed with its reasons"


async def agent_count(registry: Registry, username: str) -> int:
    """How many agents ``username`` has, as the registry counts them."""
    tokens = await registry.json(
        "POST", "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    mine = await registry.json(
        "GET",
        "/api/v1/agents",
        params={"owner": "me", "per_page": "1"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    return mine["pagination"]["total"]
