"""Operator commands: create-admin and users list|deactivate|set-role."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from agentvault_registry.cli import cli
from agentvault_registry.plugins.auth.commands import add_commands

PASSWORD = "operator passphrase 2026"


@pytest.fixture
def run(tmp_path):
    group = click.Group(commands=dict(cli.commands))
    add_commands(group)
    env = {
        "AVREG_MODE": "development",
        "AVREG_DATA_DIR": str(tmp_path / "data"),
        "AVREG_PLUGINS__AUTH__BCRYPT_COST": "4",
    }

    def invoke(*args, stdin=None):
        return CliRunner().invoke(group, list(args), env=env, input=stdin)

    assert invoke("migrate").exit_code == 0
    return invoke


def test_create_admin_reads_the_password_from_stdin(run):
    result = run(
        "create-admin",
        "--email",
        "root@example.org",
        "--username",
        "root",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("created admin root (")
    listed = run("users", "list")
    assert "root\troot@example.org\tadmin\tactive\tverified" in listed.output
    assert PASSWORD not in listed.output


def test_create_admin_refuses_a_weak_password(run):
    result = run(
        "create-admin",
        "--email",
        "root@example.org",
        "--username",
        "root",
        "--password-stdin",
        stdin="short\n",
    )
    assert result.exit_code == 1
    assert "password: Must be at least 12 characters." in result.output


def test_create_admin_refuses_a_taken_username(run):
    args = ("create-admin", "--email", "root@example.org", "--username", "root", "--password-stdin")
    run(*args, stdin=PASSWORD + "\n")
    result = run(
        "create-admin",
        "--email",
        "r2@example.org",
        "--username",
        "ROOT",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 1
    assert result.output == "Error: The username is taken.\n"


def test_set_role_and_deactivate(run):
    run(
        "create-admin",
        "--email",
        "root@example.org",
        "--username",
        "root",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert run("users", "set-role", "root", "developer").output == "root is now developer\n"
    assert run("users", "deactivate", "root@example.org").output == "deactivated root\n"
    assert "\tdeveloper\tinactive\t" in run("users", "list").output


def test_an_unknown_account_is_a_clean_error(run):
    result = run("users", "deactivate", "ghost")
    assert result.exit_code == 1
    assert "No account with email or username 'ghost'." in result.output
