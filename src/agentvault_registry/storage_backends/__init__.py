"""Storage interfaces (records, cache, blobs), their implementations and conformance suites."""

from agentvault_registry.storage_backends.base import (
    AppliedMigration,
    Backend,
    Blob,
    BlobBackend,
    BlobInfo,
    CacheBackend,
    RecordsBackend,
    translate_errors,
)
from agentvault_registry.storage_backends.migrations import MigrationError
from agentvault_registry.storage_backends.spec import BackendContext, BackendSpec

__all__ = [
    "AppliedMigration",
    "Backend",
    "BackendContext",
    "BackendSpec",
    "Blob",
    "BlobBackend",
    "BlobInfo",
    "CacheBackend",
    "MigrationError",
    "RecordsBackend",
    "translate_errors",
]
