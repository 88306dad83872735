"""Blobs as files under a local directory: the embedded default.

Layout: ``<root>/objects/<key>`` holds a document, ``<root>/meta/<key>.json`` its content type,
size and ETag. A blob exists once its metadata is written: ``put`` replaces the data file,
then the metadata file, each atomically (temporary file + ``os.replace``); ``delete`` removes
the metadata first. Directories get a ``~`` suffix, which no key segment may contain, so the
keys ``a`` and ``a/b`` can both exist, as they can in S3. File I/O runs in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, fields

from agentvault_registry.core.errors import BackendError, NotFound
from agentvault_registry.storage_backends.base import (
    Blob,
    BlobBackend,
    BlobInfo,
    check_blob_key,
    content_etag,
    translate_errors,
)
from agentvault_registry.storage_backends.spec import BackendContext

DIRECTORY_SUFFIX = "~"
META_SUFFIX = ".json"
TEMP_PREFIX = ".tmp-"


class FilesystemBlobsOptions(Schema):
    class Meta:
        unknown = RAISE

    #: Defaults to ``<data_dir>/blobs``.
    root = fields.String(load_default=None, allow_none=True)


def stored_parts(key: str) -> list[str]:
    """The path segments a key is stored under, relative to ``objects/`` or ``meta/``."""
    *directories, leaf = check_blob_key(key).split("/")
    return [directory + DIRECTORY_SUFFIX for directory in directories] + [leaf]


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(descriptor, "wb") as temp_file:
            temp_file.write(data)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


class FilesystemBlobs(BlobBackend):
    name = "filesystem"

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().absolute()
        self._objects = self.root / "objects"
        self._meta = self.root / "meta"
        # Writers of one key take turns, so data and metadata of different puts never mix.
        self._key_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._open = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: BackendContext) -> FilesystemBlobs:
        """Build from options already validated by :class:`FilesystemBlobsOptions`."""
        root = options["root"]
        return cls(Path(root) if root else context.data_dir / "blobs")

    def describe(self) -> str:
        return f"filesystem {self.root}"

    async def open(self) -> None:
        with self._os_errors():
            await asyncio.to_thread(self._make_directories)
        self._open = True

    async def close(self) -> None:
        self._open = False

    async def ping(self) -> None:
        self._check_open()
        with self._os_errors():
            await asyncio.to_thread(self._make_directories)

    async def put(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> BlobInfo:
        parts = self._checked_parts(key)
        async with self._lock(key):
            with self._os_errors():
                return await asyncio.to_thread(self._write, key, parts, bytes(data), content_type)

    async def get(self, key: str) -> Blob:
        parts = self._checked_parts(key)
        with self._os_errors():
            return await asyncio.to_thread(self._read, key, parts)

    async def stat(self, key: str) -> BlobInfo:
        parts = self._checked_parts(key)
        with self._os_errors():
            return await asyncio.to_thread(self._read_info, key, parts)

    async def exists(self, key: str) -> bool:
        parts = self._checked_parts(key)
        with self._os_errors():
            return await asyncio.to_thread(self._meta_path(parts).is_file)

    async def delete(self, key: str) -> bool:
        parts = self._checked_parts(key)
        async with self._lock(key):
            with self._os_errors():
                return await asyncio.to_thread(self._remove, parts)

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        self._check_open()
        with self._os_errors():
            keys = await asyncio.to_thread(self._keys_with_prefix, prefix)
        for key in keys:
            yield key

    # ---------------------------------------------------------- worker-thread side

    def _make_directories(self) -> None:
        self._objects.mkdir(parents=True, exist_ok=True)
        self._meta.mkdir(parents=True, exist_ok=True)

    def _write(self, key: str, parts: list[str], data: bytes, content_type: str) -> BlobInfo:
        info = BlobInfo(key=key, size=len(data), etag=content_etag(data), content_type=content_type)
        write_atomically(self._objects.joinpath(*parts), data)
        meta = {"content_type": info.content_type, "etag": info.etag, "size": info.size}
        write_atomically(self._meta_path(parts), json.dumps(meta).encode())
        return info

    def _read_info(self, key: str, parts: list[str]) -> BlobInfo:
        try:
            meta = json.loads(self._meta_path(parts).read_bytes())
            return BlobInfo(
                key=key, size=meta["size"], etag=meta["etag"], content_type=meta["content_type"]
            )
        except FileNotFoundError:
            raise NotFound(f"No blob {key!r}.") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise BackendError(
                f"The metadata of blob {key!r} is corrupt.", backend=self.name
            ) from exc

    def _read(self, key: str, parts: list[str]) -> Blob:
        info = self._read_info(key, parts)
        try:
            data = self._objects.joinpath(*parts).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"No blob {key!r}.") from None
        # Size and ETag come from the bytes read, so they match them even when a put from
        # another process replaced the data between the two reads.
        return Blob(BlobInfo(key, len(data), content_etag(data), info.content_type), data)

    def _remove(self, parts: list[str]) -> bool:
        try:
            self._meta_path(parts).unlink()
        except FileNotFoundError:
            return False
        self._objects.joinpath(*parts).unlink(missing_ok=True)
        return True

    def _keys_with_prefix(self, prefix: str) -> list[str]:
        start = self._meta
        directory = prefix.rpartition("/")[0]
        if directory:
            try:
                start = self._meta.joinpath(*stored_parts(directory))
            except ValueError:
                # Every segment before the prefix's last slash belongs to any matching key,
                # so an invalid one means no key can match.
                return []
            start = start.with_name(start.name + DIRECTORY_SUFFIX)
        keys = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [name for name in dirnames if name.endswith(DIRECTORY_SUFFIX)]
            relative = Path(dirpath).relative_to(self._meta).parts
            key_directories = [part.removesuffix(DIRECTORY_SUFFIX) for part in relative]
            for filename in filenames:
                if filename.endswith(META_SUFFIX) and not filename.startswith(TEMP_PREFIX):
                    key = "/".join([*key_directories, filename.removesuffix(META_SUFFIX)])
                    if key.startswith(prefix):
                        keys.append(key)
        keys.sort()
        return keys

    # ------------------------------------------------------------------ internals

    def _checked_parts(self, key: str) -> list[str]:
        parts = stored_parts(key)
        self._check_open()
        return parts

    def _meta_path(self, parts: list[str]) -> Path:
        return self._meta.joinpath(*parts[:-1], parts[-1] + META_SUFFIX)

    def _check_open(self) -> None:
        if not self._open:
            raise BackendError("The filesystem blob store is not open.", backend=self.name)

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._key_locks.get(key)
        if lock is None:
            lock = self._key_locks[key] = asyncio.Lock()
        return lock

    @contextlib.contextmanager
    def _os_errors(self) -> Iterator[None]:
        with translate_errors(self.name, (OSError,)):
            yield
