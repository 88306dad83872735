"""The command line: serve, migrate, config check, plugins, and plugin subcommands.

Startup failures are run as real processes: the user must see one line per problem and no
traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import click
import pytest
from click.testing import CliRunner

from agentvault_registry import hookimpl
from agentvault_registry.cli import add_plugin_commands, cli
from agentvault_registry.core import plugins as core_plugins

SECRET = "c" * 40


def run_cli(*args, cwd, env=None, timeout=60):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AVREG_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "agentvault_registry", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_clean_failure(result, expected_fragment):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines), lines
    assert any(expected_fragment in line for line in lines), lines


def test_an_unknown_backend_stops_serve_with_one_line(tmp_path):
    result = run_cli(
        "serve", "--dev", cwd=tmp_path, env={"AVREG_STORAGE__CACHE__BACKEND": "memcached"}
    )
    assert_clean_failure(result, "unknown cache backend 'memcached'; installed: memory, redis")


def test_a_malformed_toml_file_stops_serve_with_one_line(tmp_path):
    (tmp_path / "bad.toml").write_text("[server]\nport = = 1\n")
    result = run_cli("serve", "--dev", "--config", "bad.toml", cwd=tmp_path)
    assert_clean_failure(result, "config file bad.toml: not valid TOML")


def test_a_wrong_type_in_an_env_var_stops_serve_with_one_line(tmp_path):
    result = run_cli("serve", "--dev", cwd=tmp_path, env={"AVREG_SERVER__MAX_BODY_SIZE": "big"})
    assert_clean_failure(result, "server.max_body_size (from env AVREG_SERVER__MAX_BODY_SIZE)")


@pytest.fixture
def requiring_plugin_path(tmp_path):
    """An installed plugin (a real entry point) that requires the webui plugin."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "avreg_needs_webui.py").write_text('REQUIRES = ("webui",)\n')
    dist = site / "avreg_needs_webui-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: avreg-needs-webui\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[agentvault_registry]\nneeds_webui = avreg_needs_webui\n"
    )
    return str(site)


def test_disabling_a_plugin_another_requires_stops_serve_with_one_line(
    tmp_path, requiring_plugin_path
):
    result = run_cli(
        "serve",
        "--dev",
        cwd=tmp_path,
        env={"PYTHONPATH": requiring_plugin_path, "AVREG_PLUGINS__DISABLED": '["webui"]'},
    )
    assert_clean_failure(result, "plugin 'needs_webui' requires plugin 'webui', which is disabled")


def test_production_without_a_secret_names_both_problems(tmp_path):
    result = run_cli("serve", cwd=tmp_path)
    assert_clean_failure(result, "security.jwt_secret: required in production mode")
    assert "embedded 'sqlite' backend is refused" in result.stderr


def test_migrate_applies_then_reports_nothing_left(tmp_path):
    env = {"AVREG_MODE": "development"}
    first = run_cli("migrate", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "applied 0001 registry_meta" in first.stdout
    second = run_cli("migrate", cwd=tmp_path, env=env)
    assert second.stdout.strip() == "0 migration(s) applied."


def test_migrate_against_a_down_database_is_one_line(tmp_path, unused_tcp_port):
    env = {
        "AVREG_MODE": "development",
        "AVREG_STORAGE__RECORDS__BACKEND": "postgresql",
        "AVREG_STORAGE__RECORDS__DSN": f"postgresql://nobody:pw@127.0.0.1:{unused_tcp_port}/none",
        "AVREG_STORAGE__RECORDS__CONNECT_TIMEOUT": "2",
    }
    result = run_cli("migrate", cwd=tmp_path, env=env)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: The postgresql backend is unavailable")
    assert "pw" not in result.stderr


def test_config_check_prints_effective_config_with_secrets_masked(tmp_path):
    env = {"AVREG_MODE": "development", "AVREG_SECURITY__JWT_SECRET": SECRET}
    result = CliRunner().invoke(cli, ["config", "check"], env=env)
    assert result.exit_code == 0, result.output
    effective = json.loads(result.output)
    assert effective["security"]["jwt_secret"] == "********"
    assert effective["mode"] == "development"
    assert SECRET not in result.output


def test_plugins_lists_each_plugin_with_its_hooks():
    result = CliRunner().invoke(cli, ["plugins", "--json"], env={})
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row["hooks"] for row in json.loads(result.output)}
    assert rows["storage_backends"] == ["register_storage_backends"]
    assert "register_routes" in rows["webui"]


class GreetCommand:
    @hookimpl
    def register_commands(self, cli):
        @cli.command()
        @click.argument("name")
        def greet(name):
            """Say hello."""
            click.echo(f"hello {name}")


def test_plugins_can_add_subcommands(monkeypatch):
    monkeypatch.setattr(
        core_plugins, "DEFAULT_PLUGINS", (*core_plugins.DEFAULT_PLUGINS, ("greeter", __name__))
    )
    group = click.Group(commands=dict(cli.commands))
    add_plugin_commands(group)
    result = CliRunner().invoke(group, ["greet", "ada"])
    assert result.output == "hello ada\n"


register_commands = GreetCommand().register_commands


def test_serve_starts_and_answers(tmp_path, unused_tcp_port):
    script = textwrap.dedent(
        f"""
        import subprocess, sys, time, urllib.request
        proc = subprocess.Popen([sys.executable, "-m", "agentvault_registry", "serve", "--dev",
                                 "--port", "{unused_tcp_port}"])
        try:
            for _ in range(100):
                try:
                    print(urllib.request.urlopen("http://127.0.0.1:{unused_tcp_port}/ready").status)
                    break
                except OSError:
                    time.sleep(0.1)
        finally:
            proc.terminate()
            sys.exit(proc.wait(10))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "200", result.stderr
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "avreg-data" / "registry.sqlite3").exists()


def test_a_config_file_that_is_not_utf8_stops_serve_with_one_line(tmp_path):
    (tmp_path / "latin1.toml").write_bytes('[registry]\nname = "Caf\xe9"\n'.encode("latin-1"))
    result = run_cli("serve", "--dev", "--config", "latin1.toml", cwd=tmp_path)
    assert_clean_failure(result, "config file latin1.toml: not valid TOML: not UTF-8 text")


def test_a_port_in_use_stops_serve_with_one_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--dev", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    # Startup logged the storage it opened before binding failed.
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
