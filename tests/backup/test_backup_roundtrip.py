"""A registry moves between backends through export-all / import-all and loses nothing."""

from __future__ import annotations

import pytest
from backup_source import dump, fill_registry, registry_overrides, served

from agentvault_registry.backup.service import export_all, import_all, opened
from agentvault_registry.core.app import create_app
from support import sign_up

#: The tables the acceptance criterion names; each must hold rows in the source.
ESSENTIAL = (
    "users",
    "api_keys",
    "agents",
    "agent_events",
    "bootstrap_tokens",
    "federation_peers",
    "registry_meta",
)


def postgres_storage(dsn: str) -> dict:
    return {"records": {"backend": "postgresql", "dsn": dsn}, "allow_embedded": True}


async def move(make_settings, source_overrides, target_overrides, backup, tmp_path):
    """Export the source registry to ``backup``, import it into the target; both dumps."""
    source = make_settings({**source_overrides, "data_dir": str(tmp_path / "source")})
    target = make_settings({**target_overrides, "data_dir": str(tmp_path / "target")})
    async with opened(*source) as (records, blobs):
        exported = await export_all(records, blobs, backup, lambda line: None)
        before = await dump(records, blobs)
    async with opened(*target) as (records, blobs):
        imported = await import_all(records, blobs, backup, lambda line: None)
        after = await dump(records, blobs)
    assert imported.rows == exported.rows and imported.blobs == exported.blobs
    return before, after, target


@pytest.mark.postgres
async def test_sqlite_to_postgresql_keeps_every_row_and_blob(
    aiohttp_client, make_settings, fresh_postgres_dsn, tmp_path
):
    source_overrides = registry_overrides()
    source = make_settings({**source_overrides, "data_dir": str(tmp_path / "source")})
    filled = await fill_registry(aiohttp_client, *source)
    served_before = await served(await aiohttp_client(create_app(*source)), filled)
    before, after, target = await move(
        make_settings,
        source_overrides,
        registry_overrides(**postgres_storage(fresh_postgres_dsn)),
        tmp_path / "backup",
        tmp_path,
    )
    for table in ESSENTIAL:
        assert before["tables"][table], f"the source registry has no {table}"
    assert before["blobs"], "the source registry has no blobs (stored cards)"
    assert after == before

    client = await aiohttp_client(create_app(*target))
    assert await served(client, filled) == served_before
    assert served_before["login"] == 200 and len(filled.agent_ids) == 3
    found = await client.get("/api/v1/discovery/agents", params={"q": "forecasts"})
    assert found.status == 200, await found.text()
    assert [agent["name"] for agent in (await found.json())["agents"]] == ["Weather Oracle"]
    # New rows take fresh ids: the event sequence continues past the imported events.
    newcomer = await sign_up(client, "newcomer")
    created = await client.post(
        "/api/v1/agents",
        json={
            "name": "Fresh",
            "description": "New.",
            "apiEndpoints": ["https://f.example.net/a2a"],
        },
        headers=newcomer.headers,
    )
    assert created.status == 201, await created.text()
    async with opened(*target) as (records, _):
        events = [
            row
            async for row in records.export_rows(
                [t for t in await records.backup_tables() if t.name == "agent_events"]
            )
        ]
    await client.close()
    seqs = [row["seq"] for _, row in events]
    assert len(seqs) == len(set(seqs)) == len(before["tables"]["agent_events"]) + 1


@pytest.mark.postgres
async def test_postgresql_to_sqlite_through_an_archive(
    aiohttp_client, make_settings, fresh_postgres_dsn, tmp_path
):
    source_overrides = registry_overrides(**postgres_storage(fresh_postgres_dsn))
    await fill_registry(
        aiohttp_client, *make_settings({**source_overrides, "data_dir": str(tmp_path / "source")})
    )
    before, after, _ = await move(
        make_settings, source_overrides, registry_overrides(), tmp_path / "r.tar.gz", tmp_path
    )
    assert before["tables"]["agents"]
    assert after == before


@pytest.mark.s3
async def test_filesystem_blobs_move_to_s3(
    aiohttp_client, make_settings, s3_endpoint_url, tmp_path
):
    s3 = {
        "blobs": {
            "backend": "s3",
            "bucket": "restored-cards",
            "endpoint_url": s3_endpoint_url,
            "create_bucket": True,
            "access_key_id": "testing-key-id",
            "secret_access_key": "testing-secret",
        }
    }
    source_overrides = registry_overrides()
    await fill_registry(
        aiohttp_client, *make_settings({**source_overrides, "data_dir": str(tmp_path / "source")})
    )
    before, after, _ = await move(
        make_settings, source_overrides, registry_overrides(**s3), tmp_path / "backup", tmp_path
    )
    assert before["blobs"]
    assert after == before
