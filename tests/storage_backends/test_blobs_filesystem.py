from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from marshmallow import ValidationError

from agentvault_registry.core.errors import BackendError
from agentvault_registry.storage_backends.filesystem_blobs import (
    FilesystemBlobs,
    FilesystemBlobsOptions,
)
from agentvault_registry.storage_backends.spec import BackendContext
from agentvault_registry.storage_backends.testing import BlobsConformance


def filesystem_blobs(data_dir: Path, **options: object) -> FilesystemBlobs:
    context = BackendContext(data_dir=data_dir, production=False)
    return FilesystemBlobs.from_options(FilesystemBlobsOptions().load(options), context)


class TestFilesystemBlobs(BlobsConformance):
    @pytest.fixture
    async def blobs(self, tmp_path: Path) -> AsyncIterator[FilesystemBlobs]:
        backend = filesystem_blobs(tmp_path)
        await backend.open()
        yield backend
        await backend.close()


@pytest.fixture
async def opened(tmp_path: Path) -> AsyncIterator[FilesystemBlobs]:
    backend = filesystem_blobs(tmp_path / "data")
    await backend.open()
    yield backend
    await backend.close()


def test_root_defaults_to_blobs_under_the_data_directory(tmp_path: Path) -> None:
    assert filesystem_blobs(tmp_path).root == tmp_path.absolute() / "blobs"
    assert filesystem_blobs(tmp_path, root=str(tmp_path / "elsewhere")).root == (
        tmp_path / "elsewhere"
    )


@pytest.mark.parametrize("options", [{"root": 5}, {"root": ["a"]}, {"path": "/tmp"}])
def test_options_refuse_wrong_types_and_unknown_keys(options: dict) -> None:
    with pytest.raises(ValidationError):
        FilesystemBlobsOptions().load(options)


async def test_data_and_metadata_layout(opened: FilesystemBlobs) -> None:
    await opened.put("cards/weather.json", b"{}", "application/json")
    assert (opened.root / "objects" / "cards~" / "weather.json").read_bytes() == b"{}"
    meta = json.loads((opened.root / "meta" / "cards~" / "weather.json.json").read_text())
    assert meta == {
        "content_type": "application/json",
        "etag": hashlib.md5(b"{}").hexdigest(),
        "size": 2,
    }


@pytest.mark.parametrize("key", ["../outside", "a/../../outside", "/etc/passwd", "a/./b"])
async def test_path_traversal_is_refused(opened: FilesystemBlobs, key: str) -> None:
    with pytest.raises(ValueError):
        await opened.put(key, b"x")
    outside = opened.root.parent
    assert not (outside / "outside").exists()
    assert sorted(path.name for path in outside.iterdir()) == ["blobs"]


async def test_no_temporary_files_are_left_behind(opened: FilesystemBlobs) -> None:
    for version in range(3):
        await opened.put("doc", b"%d" % version)
    names = {path.name for path in opened.root.rglob("*")}
    assert names == {"objects", "meta", "doc", "doc.json"}


async def test_corrupt_metadata_is_a_backend_error(opened: FilesystemBlobs) -> None:
    await opened.put("doc", b"x")
    (opened.root / "meta" / "doc.json").write_text("not json")
    with pytest.raises(BackendError):
        await opened.stat("doc")


async def test_unwritable_root_is_a_backend_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file where the root directory should be")
    backend = FilesystemBlobs(tmp_path / "file" / "blobs")
    with pytest.raises(BackendError):
        await backend.open()
    await backend.close()


def test_describe_names_the_root(tmp_path: Path) -> None:
    assert filesystem_blobs(tmp_path).describe() == f"filesystem {tmp_path.absolute() / 'blobs'}"
