"""Apps with the agents plugin, on SQLite and PostgreSQL records, filesystem and S3 blobs."""

from __future__ import annotations

import uuid

import pytest
from agents_helpers import app_overrides


@pytest.fixture(params=["filesystem", pytest.param("s3", marks=pytest.mark.s3)])
def blobs_overrides(request) -> dict:
    if request.param == "filesystem":
        return {}
    endpoint = request.getfixturevalue("s3_endpoint_url")
    return {
        "blobs": {
            "backend": "s3",
            "bucket": f"cards-{uuid.uuid4().hex[:12]}",
            "endpoint_url": endpoint,
            "create_bucket": True,
            "access_key_id": "testing-key-id",
            "secret_access_key": "testing-secret",
        }
    }


@pytest.fixture
async def agents_client(aiohttp_client, make_app):
    return await aiohttp_client(make_app(app_overrides()))
