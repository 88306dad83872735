from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError
from marshmallow import ValidationError

from agentvault_registry.core.errors import BackendError, ConfigError
from agentvault_registry.storage_backends import s3_blobs
from agentvault_registry.storage_backends.s3_blobs import S3Blobs, S3BlobsOptions
from agentvault_registry.storage_backends.spec import BackendContext
from agentvault_registry.storage_backends.testing import BlobsConformance
from support import free_port

pytestmark = pytest.mark.s3

CONTEXT = BackendContext(data_dir=Path("unused"), production=False)
# moto accepts any credentials, but botocore refuses to sign without some.
DUMMY_CREDENTIALS = {"access_key_id": "testing-key-id", "secret_access_key": "testing-secret"}


def unique_bucket() -> str:
    return f"avreg-test-{uuid.uuid4().hex[:16]}"


def s3_blobs_from(**options: object) -> S3Blobs:
    return S3Blobs.from_options(S3BlobsOptions().load(options), CONTEXT)


def moto_blobs(endpoint_url: str, **options: object) -> S3Blobs:
    options = {
        "bucket": unique_bucket(),
        "endpoint_url": endpoint_url,
        "create_bucket": True,
        **DUMMY_CREDENTIALS,
        **options,
    }
    return s3_blobs_from(**options)


class TestS3Blobs(BlobsConformance):
    @pytest.fixture
    async def blobs(self, s3_endpoint_url: str) -> AsyncIterator[S3Blobs]:
        backend = moto_blobs(s3_endpoint_url)
        await backend.open()
        yield backend
        await backend.close()


class TestS3BlobsUnderAPrefix(BlobsConformance):
    @pytest.fixture
    async def blobs(self, s3_endpoint_url: str) -> AsyncIterator[S3Blobs]:
        backend = moto_blobs(s3_endpoint_url, prefix="registry/blobs", addressing_style="path")
        await backend.open()
        yield backend
        await backend.close()


async def test_prefix_keeps_keys_apart_in_one_bucket(s3_endpoint_url: str) -> None:
    bucket = unique_bucket()
    first = moto_blobs(s3_endpoint_url, bucket=bucket, prefix="one/")
    second = moto_blobs(s3_endpoint_url, bucket=bucket, prefix="two")
    await first.open()
    await second.open()
    try:
        await first.put("doc", b"first")
        assert await second.exists("doc") is False
        assert [key async for key in first.list()] == ["doc"]
        assert [key async for key in second.list()] == []
    finally:
        await first.close()
        await second.close()


async def test_missing_bucket_fails_open_unless_created(s3_endpoint_url: str) -> None:
    blobs = moto_blobs(s3_endpoint_url, create_bucket=False)
    with pytest.raises(BackendError, match="does not exist"):
        await blobs.open()
    await blobs.close()


async def test_opening_twice_on_an_existing_bucket_is_fine(s3_endpoint_url: str) -> None:
    bucket = unique_bucket()
    for _ in range(2):
        blobs = moto_blobs(s3_endpoint_url, bucket=bucket)
        await blobs.open()
        await blobs.close()


async def test_closed_port_is_a_backend_error() -> None:
    blobs = s3_blobs_from(
        bucket="unreachable",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        connect_timeout=1,
        max_attempts=1,
        **DUMMY_CREDENTIALS,
    )
    started = time.monotonic()
    with pytest.raises(BackendError) as raised:
        await blobs.open()
    assert time.monotonic() - started < 10  # far below a hang, yet safe on a loaded machine
    assert raised.value.backend == "s3"
    await blobs.close()


@pytest.mark.parametrize("max_attempts", [1, 2])
async def test_max_attempts_counts_the_first_try(s3_endpoint_url: str, max_attempts: int) -> None:
    """``max_attempts`` tries in all, no more: each may cost a timeout when the store hangs."""
    blobs = moto_blobs(s3_endpoint_url, max_attempts=max_attempts)
    await blobs.open()
    sent = 0

    def unreachable(request, **kwargs):
        nonlocal sent
        sent += 1
        raise EndpointConnectionError(endpoint_url=request.url)

    blobs._s3().meta.events.register("before-send.s3", unreachable)
    try:
        with pytest.raises(BackendError):
            await blobs.get("anything")
    finally:
        await blobs.close()
    assert sent == max_attempts


async def test_a_put_to_a_store_that_never_answers_ends_with_the_read_timeout() -> None:
    """No upload waits for a "100 Continue" (a wait no read timeout bounds): a hung store
    fails a put like any other call."""

    test_over = asyncio.Event()

    async def answer_heads_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while request_line := await reader.readline():
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass  # the rest of the headers
                if not request_line.startswith(b"HEAD "):
                    await test_over.wait()  # a hung store: read, never answered
                    return
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(answer_heads_only, "127.0.0.1", free_port())
    port = server.sockets[0].getsockname()[1]
    blobs = s3_blobs_from(
        bucket="hangs",
        endpoint_url=f"http://127.0.0.1:{port}",
        addressing_style="path",
        read_timeout=0.5,
        max_attempts=1,
        **DUMMY_CREDENTIALS,
    )
    async with server:
        await blobs.open()
        started = time.monotonic()
        try:
            async with asyncio.timeout(5):  # a put waiting for "100 Continue" waits for good
                with pytest.raises(BackendError):
                    await blobs.put("agents/x/card.json", b"{}")
        finally:
            await blobs.close()
            test_over.set()
    assert time.monotonic() - started < 1.5


async def test_missing_driver_is_a_config_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(s3_blobs, "get_session", None)
    with pytest.raises(ConfigError, match="'s3' extra"):
        await s3_blobs_from(bucket="any-bucket").open()


def test_options_defaults() -> None:
    assert S3BlobsOptions().load({"bucket": "registry"}) == {
        "bucket": "registry",
        "prefix": "",
        "endpoint_url": None,
        "region": "us-east-1",
        "access_key_id": None,
        "secret_access_key": None,
        "addressing_style": "auto",
        "create_bucket": False,
        "connect_timeout": 5.0,
        "read_timeout": 30.0,
        "max_attempts": 2,
    }


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"bucket": 5},
        {"bucket": "registry", "endpoint_url": "not a url"},
        {"bucket": "registry", "endpoint_url": "ftp://127.0.0.1:9000"},
        {"bucket": "registry", "addressing_style": "sideways"},
        {"bucket": "registry", "create_bucket": "maybe"},
        {"bucket": "registry", "read_timeout": -1},
        {"bucket": "registry", "max_attempts": 0},
        {"bucket": "registry", "prefix": "../escape"},
        {"bucket": "registry", "access_key_id": "only-half"},
        {"bucket": "registry", "access_key_id": 5, "secret_access_key": "s"},
        {"bucket": "registry", "access_key": "typo"},
    ],
)
def test_options_refuse_wrong_types_and_unknown_keys(options: dict) -> None:
    with pytest.raises(ValidationError):
        S3BlobsOptions().load(options)


def test_minio_style_endpoint_is_accepted() -> None:
    options = S3BlobsOptions().load({"bucket": "registry", "endpoint_url": "http://minio:9000"})
    assert options["endpoint_url"] == "http://minio:9000"


def test_describe_hides_the_credentials() -> None:
    blobs = s3_blobs_from(
        bucket="registry",
        prefix="cards",
        endpoint_url="http://minio:9000",
        access_key_id="AKIAVISIBLE",
        secret_access_key="very-secret",
    )
    description = blobs.describe()
    assert "very-secret" not in description
    assert "AKIAVISIBLE" not in description
    assert description == "s3 bucket 'registry' prefix 'cards/' at http://minio:9000 (us-east-1)"
