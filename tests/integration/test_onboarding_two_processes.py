"""Racing redemptions of one bootstrap token across two registry processes on one PostgreSQL.

Two real ``serve`` processes share a database and a Redis. An admin (created with the
``create-admin`` command against the same database) mints 20 tokens; each is presented 100
times at once, half to each process. Exactly one registration per token may succeed, the other
99 are 409 ``bootstrap_token_consumed``, and the database ends with 20 agents, each with its one
key and its token consumed by it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import aiohttp
import pytest
from registry_processes import production_env, running_registries

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

TOKENS = 20
RACERS = 100
ADMIN = "root"
PASSWORD = "operator passphrase 2026"
REGISTRATION = {
    "name": "Self Onboarded",
    "description": "Registered itself with a bootstrap token.",
    "apiEndpoints": ["https://self.example.com/a2a"],
}


def registry_env(dsn, redis_url, key_prefix, workdir):
    return {
        **production_env(dsn, redis_url, key_prefix, workdir),
        "AVREG_PLUGINS__AUTH__BCRYPT_COST": "4",
        # 20 tokens from one admin and one address; the declared 5/minute would stop at 5.
        "AVREG_RATE_LIMITS__BOOTSTRAP__REQUEST": "1000/minute",
    }


def create_admin(env) -> None:
    """``agentvault-registry create-admin`` as an operator runs it, on the same settings."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentvault_registry",
            "create-admin",
            "--email",
            "root@example.org",
            "--username",
            ADMIN,
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"created admin {ADMIN} ("), result.stdout


async def _attempt(session, url: str, token: str) -> tuple[int, dict]:
    async with session.post(
        f"{url}/api/v1/onboard/register",
        json=REGISTRATION,
        headers={"Bootstrap-Token": token},
    ) as response:
        return response.status, await response.json()


async def test_one_registration_per_token_across_two_processes(
    tmp_path, fresh_postgres_dsn, redis_server_url, redis_key_prefix
):
    asyncpg = pytest.importorskip("asyncpg")
    env = registry_env(fresh_postgres_dsn, redis_server_url, redis_key_prefix, tmp_path)
    async with (
        running_registries(tmp_path, [env, env]) as (first, second),
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2 * RACERS)) as session,
    ):
        # The processes created the schema; the command works on it as an operator would.
        inherited = {
            key: value for key, value in os.environ.items() if not key.startswith("AVREG_")
        }
        create_admin({**inherited, "AVREG_DATA_DIR": str(tmp_path / "cli"), **env})

        async with session.post(
            f"{first.url}/api/v1/auth/login", json={"username": ADMIN, "password": PASSWORD}
        ) as login:
            assert login.status == 200, await login.text()
            headers = {"Authorization": f"Bearer {(await login.json())['access_token']}"}

        winners: dict[str, str] = {}
        for number in range(TOKENS):
            # Mint on either process: both serve one registry.
            minter = (first, second)[number % 2]
            async with session.post(
                f"{minter.url}/api/v1/onboard/bootstrap/request-token", json={}, headers=headers
            ) as minted:
                assert minted.status == 201, await minted.text()
                token = await minted.json()
            targets = [first.url, second.url] * (RACERS // 2)
            answers = await asyncio.gather(
                *(_attempt(session, url, token["bootstrap_token"]) for url in targets)
            )
            statuses = sorted(status for status, _ in answers)
            assert statuses == [201] + [409] * (RACERS - 1), (number, statuses)
            codes = {body["error"] for status, body in answers if status == 409}
            assert codes == {"bootstrap_token_consumed"}
            [winner] = [body for status, body in answers if status == 201]
            winners[token["id"]] = winner["credentials"]["agent_id"]
        assert len(set(winners.values())) == TOKENS

        # Either process lists the same 20 agents of the admin's.
        for registry in (first, second):
            async with session.get(
                f"{registry.url}/api/v1/agents",
                params={"owner": "me", "per_page": "100"},
                headers=headers,
            ) as listed:
                assert listed.status == 200, await listed.text()
                page = await listed.json()
            assert page["pagination"]["total"] == TOKENS
            assert {agent["id"] for agent in page["agents"]} == set(winners.values())

    connection = await asyncpg.connect(fresh_postgres_dsn)
    try:
        agents = await connection.fetch("SELECT id FROM agents")
        tokens = await connection.fetch(
            "SELECT id, consumed, consumed_by_agent_id FROM bootstrap_tokens"
        )
        keys = await connection.fetch(
            "SELECT agent_id, count(*) AS keys FROM api_keys WHERE agent_id IS NOT NULL"
            " GROUP BY agent_id"
        )
        created = await connection.fetch(
            "SELECT agent_id, actor_id FROM agent_events WHERE event_type = 'created'"
        )
    finally:
        await connection.close()
    assert {row["id"] for row in agents} == set(winners.values())
    assert {row["id"]: row["consumed_by_agent_id"] for row in tokens} == winners
    assert all(row["consumed"] for row in tokens)
    assert {row["agent_id"]: row["keys"] for row in keys} == dict.fromkeys(winners.values(), 1)
    # One creation event per agent, whose actor is the agent itself (it registered itself).
    assert sorted((row["agent_id"], row["actor_id"]) for row in created) == sorted(
        (agent_id, agent_id) for agent_id in winners.values()
    )
