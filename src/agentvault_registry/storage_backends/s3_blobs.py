"""Blobs in any S3-compatible store (AWS S3, MinIO, Ceph, moto) through aiobotocore.

One client is created in ``open()`` and closed in ``close()``. Keys are stored under the
configured prefix; the MD5 of each document is also kept in its user metadata, so the ETag
stays the content's MD5 even where the store's own ETag is not (encrypted buckets).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import aiohttp
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)

from agentvault_registry.config.secrets import Secret, SecretField
from agentvault_registry.core.errors import BackendError, ConfigError, NotFound
from agentvault_registry.storage_backends.base import (
    Blob,
    BlobBackend,
    BlobInfo,
    check_blob_key,
    content_etag,
    translate_errors,
)
from agentvault_registry.storage_backends.spec import BackendContext

try:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.handlers import add_expect_header
    from botocore.loaders import Loader, create_loader

    DRIVER_ERRORS: tuple[type[BaseException], ...] = (
        BotoCoreError,
        ClientError,
        aiohttp.ClientError,
        OSError,
    )
except ImportError:  # the 's3' extra is optional; open() explains how to install it
    get_session = None  # type: ignore[assignment]
    DRIVER_ERRORS = (aiohttp.ClientError, OSError)

NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
MD5_METADATA = "md5"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_positive = validate.Range(min=0, min_inclusive=False)


class S3BlobsOptions(Schema):
    class Meta:
        unknown = RAISE

    bucket = fields.String(required=True, validate=validate.Length(min=3, max=63))
    #: Prepended to every key; a trailing slash is added when missing.
    prefix = fields.String(load_default="")
    #: Unset means AWS itself; set it for MinIO or any other S3-compatible store.
    endpoint_url = fields.Url(
        load_default=None, allow_none=True, require_tld=False, schemes={"http", "https"}
    )
    region = fields.String(load_default="us-east-1", validate=validate.Length(min=1))
    #: Unset means the default AWS credential chain (environment, profile, instance role).
    access_key_id = SecretField(load_default=None, allow_none=True)
    secret_access_key = SecretField(load_default=None, allow_none=True)
    addressing_style = fields.String(
        load_default="auto", validate=validate.OneOf(["auto", "path", "virtual"])
    )
    create_bucket = fields.Boolean(load_default=False)
    connect_timeout = fields.Float(load_default=5.0, validate=_positive)
    read_timeout = fields.Float(load_default=30.0, validate=_positive)
    #: Tries per request, the first included (botocore's "standard" retry mode).
    max_attempts = fields.Integer(load_default=2, validate=validate.Range(min=1, max=10))

    @validates("prefix")
    def _prefix_is_a_key_path(self, value: str, **kwargs: Any) -> None:
        stripped = value.strip("/")
        if stripped:
            try:
                check_blob_key(stripped)
            except ValueError:
                raise ValidationError("must be slash-separated key segments.") from None

    @validates_schema
    def _credentials_come_in_pairs(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        if (data.get("access_key_id") is None) != (data.get("secret_access_key") is None):
            raise ValidationError(
                "give both access_key_id and secret_access_key, or neither.", "access_key_id"
            )


@functools.cache
def shared_data_loader(data_path: str | None) -> Loader:
    """botocore's parsed service models, kept once per process.

    Every session otherwise parses them again, which blocks the event loop for a tenth of a
    second each time a backend opens.
    """
    return create_loader(data_path)


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, Mapping) else None


class S3Blobs(BlobBackend):
    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: Secret | None = None,
        secret_access_key: Secret | None = None,
        addressing_style: str = "auto",
        create_bucket: bool = False,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 2,
    ) -> None:
        self.bucket = bucket
        stripped_prefix = prefix.strip("/")
        self.prefix = f"{stripped_prefix}/" if stripped_prefix else ""
        self.endpoint_url = endpoint_url
        self.region = region
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.addressing_style = addressing_style
        self.create_bucket = create_bucket
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_attempts = max_attempts
        self._client: Any = None
        self._exit_stack: contextlib.AsyncExitStack | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any], context: BackendContext) -> S3Blobs:
        """Build from options already validated by :class:`S3BlobsOptions`."""
        return cls(**options)

    def describe(self) -> str:
        where = self.endpoint_url or "AWS"
        return f"s3 bucket {self.bucket!r} prefix {self.prefix!r} at {where} ({self.region})"

    async def open(self) -> None:
        if get_session is None:
            raise ConfigError(
                "the s3 blob backend needs the 's3' extra: pip install 'agentvault-registry[s3]'"
            )
        config = AioConfig(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            s3={"addressing_style": self.addressing_style},
            # Few retries: callers get a 503 with Retry-After rather than a hung request.
            # botocore's own "max_attempts" counts retries only; "total_max_attempts" counts
            # tries, the first included, as our option does.
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
        )
        session = get_session()
        session.register_component(
            "data_loader", shared_data_loader(session.get_config_variable("data_path"))
        )
        exit_stack = contextlib.AsyncExitStack()
        self._exit_stack = exit_stack
        try:
            with self._driver_errors():
                self._client = await exit_stack.enter_async_context(
                    session.create_client(
                        "s3",
                        region_name=self.region,
                        endpoint_url=self.endpoint_url,
                        aws_access_key_id=self._reveal(self.access_key_id),
                        aws_secret_access_key=self._reveal(self.secret_access_key),
                        config=config,
                    )
                )
                # botocore makes every upload wait for "100 Continue" before sending the body,
                # and aiohttp arms no read timeout for that wait: a store that accepts and
                # never answers would hold the put (and its request) forever. Card documents
                # are small; sending them at once costs nothing.
                self._client.meta.events.unregister("before-call.s3", add_expect_header)
                if self.create_bucket:
                    await self._create_bucket()
            await self.ping()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        exit_stack, self._exit_stack = self._exit_stack, None
        self._client = None
        if exit_stack is not None:
            await exit_stack.aclose()

    async def ping(self) -> None:
        client = self._s3()
        with self._driver_errors():
            try:
                await client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if error_code(exc) in {"404", "NoSuchBucket"}:
                    raise BackendError(
                        f"The S3 bucket {self.bucket!r} does not exist.", backend=self.name
                    ) from exc
                raise

    async def put(
        self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> BlobInfo:
        object_key, client = self._object_key(key), self._s3()
        etag = content_etag(data)
        with self._driver_errors():
            await client.put_object(
                Bucket=self.bucket,
                Key=object_key,
                Body=bytes(data),
                ContentType=content_type,
                Metadata={MD5_METADATA: etag},
            )
        return BlobInfo(key=key, size=len(data), etag=etag, content_type=content_type)

    async def get(self, key: str) -> Blob:
        object_key, client = self._object_key(key), self._s3()
        with self._driver_errors(missing_key=key):
            response = await client.get_object(Bucket=self.bucket, Key=object_key)
            async with response["Body"] as stream:
                data = await stream.read()
        return Blob(self._info(key, response, size=len(data)), data)

    async def stat(self, key: str) -> BlobInfo:
        object_key, client = self._object_key(key), self._s3()
        with self._driver_errors(missing_key=key):
            response = await client.head_object(Bucket=self.bucket, Key=object_key)
        return self._info(key, response, size=response["ContentLength"])

    async def exists(self, key: str) -> bool:
        try:
            await self.stat(key)
        except NotFound:
            return False
        return True

    async def delete(self, key: str) -> bool:
        # S3 deletes succeed whether or not the object existed: ask first to answer truthfully.
        existed = await self.exists(key)
        if existed:
            with self._driver_errors():
                await self._s3().delete_object(Bucket=self.bucket, Key=self._object_key(key))
        return existed

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        paginator = self._s3().get_paginator("list_objects_v2")
        with self._driver_errors():
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", ()):
                    yield item["Key"][len(self.prefix) :]

    # ------------------------------------------------------------------ internals

    async def _create_bucket(self) -> None:
        request: dict[str, Any] = {"Bucket": self.bucket}
        # us-east-1 is the one region S3 refuses as an explicit location constraint.
        if self.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            await self._s3().create_bucket(**request)
        except ClientError as exc:
            if error_code(exc) != "BucketAlreadyOwnedByYou":
                raise

    def _info(self, key: str, response: Mapping[str, Any], size: int) -> BlobInfo:
        etag = response.get("Metadata", {}).get(MD5_METADATA) or response["ETag"].strip('"')
        content_type = response.get("ContentType") or DEFAULT_CONTENT_TYPE
        return BlobInfo(key=key, size=size, etag=etag, content_type=content_type)

    def _object_key(self, key: str) -> str:
        return self.prefix + check_blob_key(key)

    def _s3(self) -> Any:
        if self._client is None:
            raise BackendError("The s3 blob store is not open.", backend=self.name)
        return self._client

    @staticmethod
    def _reveal(secret: Secret | None) -> str | None:
        return None if secret is None else secret.reveal()

    @contextlib.contextmanager
    def _driver_errors(self, missing_key: str | None = None) -> Iterator[None]:
        with translate_errors(self.name, DRIVER_ERRORS):
            try:
                yield
            except DRIVER_ERRORS as exc:
                if missing_key is not None and error_code(exc) in NOT_FOUND_CODES:
                    raise NotFound(f"No blob {missing_key!r}.") from None
                raise
