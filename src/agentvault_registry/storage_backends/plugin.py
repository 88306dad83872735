"""The built-in storage backends, registered like any third-party backend would be."""

from __future__ import annotations

from agentvault_registry.core.hookspecs import hookimpl
from agentvault_registry.storage_backends import (
    filesystem_blobs,
    memory_cache,
    postgresql,
    redis_cache,
    s3_blobs,
    sqlite,
)
from agentvault_registry.storage_backends.spec import BackendSpec


@hookimpl
def register_storage_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            kind="records",
            name="sqlite",
            factory=sqlite.SqliteRecords.from_options,
            options_schema=sqlite.SqliteOptions,
            description="embedded SQLite file (aiosqlite, WAL, FTS5); the default",
            embedded=True,
        ),
        BackendSpec(
            kind="records",
            name="postgresql",
            factory=postgresql.PostgresRecords.from_options,
            options_schema=postgresql.PostgresOptions,
            description="PostgreSQL through an asyncpg pool; needs the 'postgres' extra",
        ),
        BackendSpec(
            kind="cache",
            name="memory",
            factory=memory_cache.MemoryCache.from_options,
            options_schema=memory_cache.MemoryCacheOptions,
            description="in-process memory; one process only; the default",
            embedded=True,
        ),
        BackendSpec(
            kind="cache",
            name="redis",
            factory=redis_cache.RedisCache.from_options,
            options_schema=redis_cache.RedisCacheOptions,
            description="Redis through redis.asyncio; needs the 'redis' extra",
        ),
        BackendSpec(
            kind="blobs",
            name="filesystem",
            factory=filesystem_blobs.FilesystemBlobs.from_options,
            options_schema=filesystem_blobs.FilesystemBlobsOptions,
            description="files under a local directory; the default",
        ),
        BackendSpec(
            kind="blobs",
            name="s3",
            factory=s3_blobs.S3Blobs.from_options,
            options_schema=s3_blobs.S3BlobsOptions,
            description="any S3-compatible store through aiobotocore; needs the 's3' extra",
        ),
    ]
