"""import-all checks the whole backup and the target before writing anything."""

from __future__ import annotations

import json

import pytest
from backup_source import dump, fill_registry, registry_overrides
from click.testing import CliRunner

from agentvault_registry.backup.archive import BackupError, file_sha256
from agentvault_registry.backup.service import export_all, import_all, opened
from agentvault_registry.cli import cli


@pytest.fixture
async def backup(aiohttp_client, make_settings, tmp_path):
    """The backup of a filled SQLite registry."""
    settings = make_settings({**registry_overrides(), "data_dir": str(tmp_path / "source")})
    await fill_registry(aiohttp_client, *settings)
    async with opened(*settings) as (records, blobs):
        await export_all(records, blobs, tmp_path / "backup", lambda line: None)
    return tmp_path / "backup"


@pytest.fixture
def target(make_settings, tmp_path):
    return make_settings({**registry_overrides(), "data_dir": str(tmp_path / "target")})


async def refused(target, backup, expected: str) -> None:
    async with opened(*target) as (records, blobs):
        await records.migrate()
        before = await dump(records, blobs)
        with pytest.raises(BackupError, match=expected):
            await import_all(records, blobs, backup, lambda line: None)
        assert await dump(records, blobs) == before, "a refused import wrote something"


async def test_a_tampered_file_is_refused_before_anything_is_written(backup, target):
    users = backup / "records" / "users.jsonl"
    users.write_text(users.read_text().replace('"role":"developer"', '"role":"admin"'))
    await refused(target, backup, "users.jsonl does not match its checksum")


async def test_a_tampered_blob_is_refused(backup, target):
    next((backup / "blobs" / "data").iterdir()).write_bytes(b"{}")
    await refused(target, backup, "does not match its checksum")


async def test_a_newer_format_version_is_refused(backup, target):
    manifest = json.loads((backup / "manifest.json").read_text())
    (backup / "manifest.json").write_text(json.dumps({**manifest, "format_version": 2}))
    await refused(target, backup, "format_version 2 is newer")


async def test_a_newer_schema_is_refused(backup, target):
    manifest = json.loads((backup / "manifest.json").read_text())
    (backup / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 9999}))
    await refused(target, backup, "schema_version 9999 is newer")


async def test_a_manifest_naming_a_file_outside_the_backup_is_refused(backup, target):
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["tables"]["users"]["file"] = "../../etc/passwd"
    (backup / "manifest.json").write_text(json.dumps(manifest))
    await refused(target, backup, "names a file outside the backup")


async def test_a_manifest_without_its_fields_is_refused(backup, target):
    manifest = json.loads((backup / "manifest.json").read_text())
    del manifest["blobs"]
    (backup / "manifest.json").write_text(json.dumps(manifest))
    await refused(target, backup, "the backup is malformed")


async def test_rows_that_do_not_fit_leave_the_target_empty(backup, target):
    """A backup edited by hand with its checksums recomputed: two users with one id."""
    users = backup / "records" / "users.jsonl"
    lines = users.read_text().splitlines(keepends=True)
    users.write_text("".join(lines + lines[:1]))
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["tables"]["users"].update(rows=len(lines) + 1, sha256=file_sha256(users))
    (backup / "manifest.json").write_text(json.dumps(manifest))
    await refused(target, backup, "the backup's contents cannot be imported")


async def test_a_registry_with_data_is_not_overwritten(aiohttp_client, backup, target):
    await fill_registry(aiohttp_client, *target)
    await refused(target, backup, "the target registry is not empty")


async def test_export_refuses_a_directory_with_files(make_settings, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    settings = make_settings({"data_dir": str(tmp_path / "source")})
    async with opened(*settings) as (records, blobs):
        await records.migrate()
        with pytest.raises(BackupError, match="is not an empty directory"):
            await export_all(records, blobs, tmp_path / "busy", lambda line: None)


def test_the_commands_round_trip_and_report_problems_in_one_line(tmp_path):
    runner = CliRunner()

    def run(*args: str, data_dir: str):
        env = {"AVREG_MODE": "development", "AVREG_DATA_DIR": str(tmp_path / data_dir)}
        return runner.invoke(cli, list(args), env=env)

    assert run("migrate", data_dir="source").exit_code == 0
    exported = run("export-all", str(tmp_path / "r.tgz"), data_dir="source")
    assert exported.exit_code == 0, exported.output
    assert exported.output.splitlines()[-1].startswith("exported ")
    imported = run("import-all", str(tmp_path / "r.tgz"), data_dir="target")
    assert imported.exit_code == 0, imported.output
    assert "imported 0 blobs" in imported.output
    assert (tmp_path / "target").is_dir(), "the target's data directory was not used"
    again = run("import-all", str(tmp_path / "missing"), data_dir="target")
    assert again.exit_code == 2
    assert again.output.strip() == f"error: {tmp_path / 'missing'} does not exist"
