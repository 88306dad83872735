"""The client commands of ``agentvault-registry``, run through click against a registry
listening on loopback."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from client_harness import ThreadedRegistry, client_overrides, new_developer

from agentvault_registry.cli import cli
from agentvault_registry.client import config
from registry_harness import PASSWORD
from sample_cards import V03_CARD, V1_CARD
from support import free_port

#: A card the registry refuses: it lists no skill.
REFUSED_CARD = V1_CARD | {"name": "No skills", "skills": []}


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)


def one_error_line(result: Result) -> str:
    """The single ``error:`` line a failed command prints, and no traceback."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def developer(served_registry) -> str:
    username, _ = served_registry.run(new_developer(served_registry.registry))
    return username


@pytest.fixture
def logged_in(served_registry, developer) -> str:
    """Log ``developer`` in through ``login``; the registry URL."""
    result = run("login", "--url", served_registry.url, input=f"{developer}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    return served_registry.url


def write_card(directory: Path, name: str, card: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(json.dumps(card), encoding="utf-8")
    return path


# -------------------------------------------------------------------------- login


def test_login_stores_an_api_key_not_the_password_in_a_private_file(logged_in, client_config_dir):
    path = client_config_dir / config.CREDENTIALS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert PASSWORD not in text
    stored = config.stored_credentials()
    assert stored["url"] == logged_in and stored["api_key"].startswith("avk_")
    listed = run("agents", "list", "--json")  # no flag: the stored URL and key
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == {"agents": []}


def test_login_with_an_api_key_checks_it_then_stores_it(logged_in, served_registry):
    key = config.stored_credentials()["api_key"]
    assert run("logout").exit_code == 0
    assert config.stored_credentials() == {}
    result = run("login", "--url", served_registry.url, "--api-key", key, "--json")
    assert result.exit_code == 0, result.output
    assert config.stored_credentials()["api_key"] == key


def test_a_wrong_password_is_one_error_line_and_stores_nothing(served_registry, developer):
    result = run("login", "--url", served_registry.url, input=f"{developer}\nwrong password\n")
    assert "error: " in result.stderr and result.exit_code == 1
    assert config.stored_credentials() == {}


def test_a_rejected_api_key_is_one_error_line(served_registry):
    line = one_error_line(
        run("agents", "list", "--url", served_registry.url, "--api-key", "avk_not_a_real_key")
    )
    assert "invalid_credentials" in line or "401" in line


def test_an_unreachable_registry_is_one_error_line():
    line = one_error_line(run("search", "x", "--url", f"http://127.0.0.1:{free_port()}"))
    assert "cannot reach" in line


def test_logout_without_credentials_says_so():
    result = run("logout")
    assert result.exit_code == 0 and "Not logged in" in result.output


# ---------------------------------------------------------------- precedence


def test_the_flag_beats_the_environment_which_beats_the_config_file(client_config_dir, monkeypatch):
    client_config_dir.mkdir(parents=True)
    (client_config_dir / config.CONFIG_FILE).write_text(
        'url = "http://file.example:1"\noutput = "json"\n'
    )
    assert config.resolve_settings().url == "http://file.example:1"
    assert config.resolve_settings().as_json
    monkeypatch.setenv(config.URL_ENV, "http://env.example:2")
    monkeypatch.setenv(config.API_KEY_ENV, "avk_from_env")
    settings = config.resolve_settings()
    assert (settings.url, settings.api_key) == ("http://env.example:2", "avk_from_env")
    flagged = config.resolve_settings(url="http://flag.example:3", api_key="avk_flag")
    assert (flagged.url, flagged.api_key) == ("http://flag.example:3", "avk_flag")


def test_stored_credentials_are_sent_only_to_the_registry_they_were_stored_for(
    logged_in, monkeypatch
):
    assert config.resolve_settings().api_key is not None
    monkeypatch.setenv(config.URL_ENV, "http://elsewhere.example")
    assert config.resolve_settings().api_key is None


def test_the_environment_points_the_commands_at_the_registry(logged_in, served_registry):
    key = config.stored_credentials()["api_key"]
    config.forget_credentials()
    env = {config.URL_ENV: served_registry.url, config.API_KEY_ENV: key}
    result = run("agents", "list", env=env)
    assert result.exit_code == 0 and "No agents" in result.output
    assert one_error_line(run("agents", "list", "--url", "http://127.0.0.1:1", env=env))


def test_config_dir_follows_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    assert config.config_dir() == tmp_path / "elsewhere" / "agentvault-registry"


def test_an_unreadable_config_file_is_one_error_line(client_config_dir):
    client_config_dir.mkdir(parents=True)
    (client_config_dir / config.CONFIG_FILE).write_text("url = [not toml")
    assert "cannot read" in one_error_line(run("agents", "list"))


# ------------------------------------------------------------------------ agents


def test_publish_show_and_delete_an_agent(logged_in, tmp_path):
    card = write_card(tmp_path, "summarizer.json", V03_CARD)
    published = run("agents", "publish", str(card), "--json")
    assert published.exit_code == 0, published.output
    agent = json.loads(published.stdout)
    shown = run("agents", "show", agent["humanReadableId"])
    assert shown.exit_code == 0 and agent["id"] in shown.output
    listed = run("agents", "list")
    assert agent["humanReadableId"] in listed.output
    assert run("agents", "delete", agent["id"], "--yes").exit_code == 0
    assert "not_found" in one_error_line(run("agents", "show", agent["id"]))


def test_a_refused_card_is_one_line_with_its_reasons(logged_in, tmp_path):
    line = one_error_line(
        run("agents", "publish", str(write_card(tmp_path, "x.json", REFUSED_CARD)))
    )
    assert "invalid_agent_card" in line and "skills" in line


def test_a_card_file_that_is_not_json_is_one_error_line(logged_in, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert "not JSON" in one_error_line(run("agents", "publish", str(path)))


def test_search_by_text_and_capability(logged_in, tmp_path):
    run("agents", "publish", str(write_card(tmp_path, "t.json", V1_CARD)))
    run("agents", "publish", str(write_card(tmp_path, "s.json", V03_CARD)))
    found = run("search", "documents", "--capability", "translate", "--json")
    assert found.exit_code == 0, found.output
    assert [agent["name"] for agent in json.loads(found.stdout)["agents"]] == ["Translator"]
    human = run("search", "--capability", "summarize", "--federated")
    assert "Summarizer" in human.output and "peers: 0/0" in human.output


def test_tokens_create_prints_a_bootstrap_token(logged_in):
    result = run(
        "tokens",
        "create",
        "--agent-type-hint",
        "assistant",
        "--metadata",
        "team=docs",
        "--expires-in",
        "600",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["bootstrap_token"].startswith("BST_")


def test_export_writes_every_agent_of_mine_as_a_card(logged_in, tmp_path):
    run("agents", "publish", str(write_card(tmp_path, "t.json", V1_CARD)))
    run("agents", "publish", str(write_card(tmp_path, "s.json", V03_CARD)))
    out = tmp_path / "exported"
    result = run("export", "--out", str(out))
    assert result.exit_code == 0, result.output
    cards = [json.loads(path.read_text()) for path in sorted(out.glob("*.json"))]
    assert sorted(card["name"] for card in cards) == ["Summarizer", "Translator"]
    assert all(card["supportedInterfaces"] for card in cards)


# ------------------------------------------------------------------------ import


def import_json(*sources: Path | str) -> dict:
    result = run("import", *map(str, sources), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_import_publishes_reports_refusals_and_publishes_nothing_the_second_time(
    logged_in, tmp_path
):
    cards = tmp_path / "cards"
    write_card(cards, "translator.json", V1_CARD)
    write_card(cards / "nested", "summarizer.json", V03_CARD)
    write_card(cards, "refused.json", REFUSED_CARD)
    (cards / "notes.txt").write_text("not a card file")
    first = import_json(cards)
    assert (first["accepted"], first["already_present"], first["refused"]) == (2, 0, 1)
    refusal = next(item for item in first["files"] if item["status"] == "refused")
    assert refusal["file"].endswith("refused.json")
    assert refusal["code"] == "invalid_agent_card" and "skills" in refusal["details"]
    second = import_json(cards)
    assert (second["accepted"], second["already_present"], second["refused"]) == (0, 2, 1)


def test_import_summary_groups_refusals_with_their_reasons(logged_in, tmp_path):
    write_card(tmp_path / "c", "a.json", REFUSED_CARD)
    write_card(tmp_path / "c", "b.json", REFUSED_CARD | {"name": "Other"})
    (tmp_path / "c" / "c.json").write_text("[1, 2]")
    result = run("import", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    assert "accepted: 0" in result.stdout and "refused: 3" in result.stdout
    assert "invalid_agent_card" in result.stdout and "(2)" in result.stdout
    assert "skills: " in result.stdout and "not_a_card" in result.stdout


def test_an_interrupted_import_resumes_without_resending_what_it_knows(
    logged_in, served_registry, tmp_path
):
    cards = tmp_path / "cards"
    write_card(cards, "translator.json", V1_CARD)
    write_card(cards, "refused.json", REFUSED_CARD)
    import_json(cards)
    inbound = served_registry.registry.inbound
    before = len(inbound.paths)
    resumed = import_json(cards)
    # The journal knows the refusal and the listing knows the agent: one GET, no POST.
    assert inbound.paths[before:] == ["/api/v1/agents"]
    assert (resumed["accepted"], resumed["already_present"], resumed["refused"]) == (0, 1, 1)
    before = len(inbound.paths)
    result = run("import", str(cards), "--fresh", "--json")
    assert inbound.paths[before:] == ["/api/v1/agents", "/api/v1/agents"]  # the refusal resent
    assert json.loads(result.stdout)["already_present"] == 1


def test_a_changed_card_file_is_published_again(logged_in, tmp_path):
    path = write_card(tmp_path / "c", "a.json", V1_CARD)
    assert import_json(path)["accepted"] == 1
    write_card(tmp_path / "c", "a.json", V1_CARD | {"version": "2.2.0"})
    assert import_json(path)["accepted"] == 1


def test_import_without_credentials_is_one_error_line(served_registry, tmp_path):
    write_card(tmp_path / "c", "a.json", V1_CARD)
    line = one_error_line(run("import", str(tmp_path / "c"), "--url", served_registry.url))
    assert "401" in line or "credentials" in line.lower() or "authentic" in line.lower()


def test_logging_in_again_replaces_the_stored_key(logged_in, developer):
    first = config.stored_credentials()["api_key"]
    again = run("login", "--url", logged_in, input=f"{developer}\n{PASSWORD}\n")
    assert again.exit_code == 0, again.output
    assert config.stored_credentials()["api_key"] not in {first, None}


def test_two_files_with_the_same_card_make_one_agent(logged_in, tmp_path):
    write_card(tmp_path / "c", "a.json", V1_CARD)
    write_card(tmp_path / "c", "copy.json", V1_CARD)
    summary = import_json(tmp_path / "c")
    assert (summary["accepted"], summary["already_present"]) == (1, 1)


def test_a_torn_journal_line_only_costs_that_file_a_resend(logged_in, tmp_path, client_config_dir):
    write_card(tmp_path / "c", "refused.json", REFUSED_CARD)
    import_json(tmp_path / "c")
    (journal,) = (client_config_dir / "imports").glob("*.jsonl")
    journal.write_text(journal.read_text() + '{"file": "tor')
    again = import_json(tmp_path / "c")
    assert again["refused"] == 1


def test_import_waits_out_the_creation_rate_limit(make_settings, tmp_path):
    limited = ThreadedRegistry(
        make_settings,
        client_overrides(tmp_path / "limited", rate_limits={"agents.create": "2/second"}),
    )
    try:
        username, _ = limited.run(new_developer(limited.registry))
        assert run("login", "--url", limited.url, input=f"{username}\n{PASSWORD}\n").exit_code == 0
        for number in range(5):
            write_card(tmp_path / "c", f"{number}.json", V1_CARD | {"version": f"1.0.{number}"})
        summary = import_json(tmp_path / "c")
    finally:
        limited.close()
    assert (summary["accepted"], summary["refused"]) == (5, 0)


@pytest.mark.parametrize("url", ["not-a-url", "ftp://127.0.0.1/registry"])
def test_a_malformed_registry_url_is_one_error_line(url):
    assert "cannot reach" in one_error_line(run("agents", "list", "--url", url))
