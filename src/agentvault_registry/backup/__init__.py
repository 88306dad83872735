"""Backup and restore of a whole registry: ``export-all`` and ``import-all``.

A backup is a directory, or the same directory packed as a ``.tar.gz`` archive::

    manifest.json           format, format_version, registry and schema versions, created_at,
                            source backends, per table: rows, columns, file and SHA-256;
                            the blob count and the SHA-256 of the blob index
    records/<table>.jsonl   one neutral JSON object per row (see storage_backends.backup)
    blobs/index.jsonl       one {key, content_type, size, sha256, file} per blob
    blobs/data/<n>          the blobs' bytes
"""
