"""The storage interfaces: records, cache and blobs.

Every backend is opened and closed once per app (``open()`` / ``close()``; ``close()`` is
idempotent) and answers ``ping()`` for ``/ready``. Implementations wrap every driver exception
in :class:`BackendError` (use :func:`translate_errors`), so nothing above this layer ever sees
asyncpg, sqlite3, redis or botocore exceptions. Semantic outcomes use the core errors
(``NotFound``, ``Conflict``, ``PreconditionFailed``).

Each interface has a conformance suite in :mod:`agentvault_registry.storage_backends.testing`
that every implementation, built-in or third-party, must pass.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import ClassVar

from agentvault_registry.core.errors import BackendError, Conflict
from agentvault_registry.storage_backends.accounts import AccountsRecords
from agentvault_registry.storage_backends.activity import ActivityRecords
from agentvault_registry.storage_backends.agents import AgentsRecords
from agentvault_registry.storage_backends.discovery import DiscoveryRecords
from agentvault_registry.storage_backends.federation import FederationRecords
from agentvault_registry.storage_backends.health import HealthRecords
from agentvault_registry.storage_backends.onboarding import OnboardingRecords

#: How long clients are told to wait before retrying when a backend is down.
DEFAULT_RETRY_AFTER = 5


@contextlib.contextmanager
def translate_errors(
    backend: str,
    driver_errors: tuple[type[BaseException], ...],
    conflict_errors: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Re-raise ``conflict_errors`` (unique or foreign-key violations) as :class:`Conflict`
    and any other of ``driver_errors`` as :class:`BackendError` naming ``backend``."""
    try:
        yield
    except (BackendError, Conflict):
        raise
    except conflict_errors:
        # The constraint's name is schema detail; the caller knows which record it wrote.
        raise Conflict("The record conflicts with an existing one.") from None
    except driver_errors as exc:
        raise BackendError(
            f"The {backend} backend is unavailable: {type(exc).__name__}.",
            backend=backend,
            retry_after=DEFAULT_RETRY_AFTER,
        ) from exc


class Backend(abc.ABC):
    """Lifecycle shared by every backend."""

    kind: ClassVar[str]
    #: The name under which the backend is selected in config (``backend = "sqlite"``).
    name: ClassVar[str]

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect (create pools, files, buckets). Called once, before any other method."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release every resource. Safe to call more than once, and after a failed open."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Return when the backend answers; raise :class:`BackendError` when it does not."""

    def describe(self) -> str:
        """A one-line description for logs and ``/ready`` (never includes secrets)."""
        return self.name


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class AppliedMigration:
    version: int
    name: str
    checksum: str
    applied_at: dt.datetime


class RecordsBackend(
    Backend,
    AccountsRecords,
    AgentsRecords,
    DiscoveryRecords,
    OnboardingRecords,
    FederationRecords,
    HealthRecords,
    ActivityRecords,
):
    """Durable, queryable records: users, agents, tokens, keys, peers, events, activity.

    Features add the methods they need here, to every implementation and to the conformance
    suite, in the same change.
    """

    kind = "records"

    @abc.abstractmethod
    async def migrate(self) -> list[AppliedMigration]:
        """Apply pending numbered migrations, serialised across processes; return those applied.

        Refuses to run (``MigrationError``) when an applied migration's checksum no longer
        matches its file: the database was migrated by different code.
        """

    @abc.abstractmethod
    async def applied_migrations(self) -> list[AppliedMigration]:
        """Every migration recorded in the database, in version order."""

    @abc.abstractmethod
    async def get_meta(self, key: str) -> str | None:
        """Read one registry-wide setting (instance id, schema facts)."""

    @abc.abstractmethod
    async def put_meta_if_absent(self, key: str, value: str) -> str:
        """Store ``value`` unless ``key`` exists; return the value that is stored now.

        Atomic in the database: two processes racing get the same answer.
        """


# ----------------------------------------------------------------------------- cache


class CacheBackend(Backend):
    """Short-lived shared state: rate limits, denylists, single-use tokens, response caches.

    Keys are strings, values bytes. ``ttl`` is in seconds (float); ``None`` means no expiry.
    Every method is atomic in the backend itself, so several app processes sharing one cache
    behave as one.
    """

    kind = "cache"

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""

    @abc.abstractmethod
    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``, replacing any previous one and its expiry."""

    @abc.abstractmethod
    async def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        """Store ``value`` only if ``key`` is absent; True when stored."""

    @abc.abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove ``key``; True when it existed."""

    @abc.abstractmethod
    async def pop(self, key: str) -> bytes | None:
        """Get and delete in one step: of two concurrent pops, only one sees the value."""

    @abc.abstractmethod
    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add ``amount`` to an integer counter (absent = 0) and return the new value.

        ``ttl`` applies only when this call creates the key (a fixed window): later increments
        do not extend it.
        """

    @abc.abstractmethod
    async def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, ttl: float | None = None
    ) -> bool:
        """Set ``value`` only if the current value equals ``expected`` (None = absent)."""

    @abc.abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Seconds until ``key`` expires; None when absent or without expiry."""


# ----------------------------------------------------------------------------- blobs

_BLOB_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*$")
MAX_BLOB_KEY_LENGTH = 512


def check_blob_key(key: str) -> str:
    """Refuse keys that could escape a directory or confuse an object store."""
    if (
        not isinstance(key, str)
        or len(key) > MAX_BLOB_KEY_LENGTH
        or not _BLOB_KEY.match(key)
        or any(part in {".", ".."} for part in key.split("/"))
    ):
        raise ValueError(f"invalid blob key: {key!r}")
    return key


def content_etag(data: bytes) -> str:
    """The ETag of a document: hex MD5, as S3 reports it for single-part uploads."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    etag: str
    content_type: str


@dataclass(frozen=True)
class Blob:
    info: BlobInfo
    data: bytes


class BlobBackend(Backend):
    """Opaque documents (agent cards, artifacts), addressed by slash-separated keys.

    ``etag`` is the hex MD5 of the content, as S3 reports it for single-part uploads, so the
    same document has the same ETag on every backend.
    """

    kind = "blobs"

    @abc.abstractmethod
    async def put(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> BlobInfo:
        """Store ``data`` under ``key``, replacing any previous document atomically."""

    @abc.abstractmethod
    async def get(self, key: str) -> Blob:
        """The document; ``NotFound`` when absent."""

    @abc.abstractmethod
    async def stat(self, key: str) -> BlobInfo:
        """The document's metadata without its content; ``NotFound`` when absent."""

    @abc.abstractmethod
    async def exists(self, key: str) -> bool:
        """Whether a document is stored under ``key``."""

    @abc.abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove the document; True when it existed.

        Object stores cannot delete-and-tell atomically: two concurrent deletes of one key may
        both say True. Never build single-use semantics on this; the cache's ``pop`` is atomic.
        """

    @abc.abstractmethod
    def list(self, prefix: str = "") -> AsyncIterator[str]:
        """Every key starting with ``prefix``, in lexicographic order."""
