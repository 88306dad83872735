"""What the spiffe_identity tests share: SVID files in a fresh directory, the test's own TLS
contexts, a registry's config for a SPIFFE source, and waiting for a rotation to land."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from pki import CertificateAuthority, IssuedSvid, JwtAuthority, SvidFiles, write_svid_files


def svid_files(
    directory: Path,
    svid: IssuedSvid,
    ca: CertificateAuthority,
    jwt_authority: JwtAuthority | None = None,
) -> SvidFiles:
    directory.mkdir(exist_ok=True)
    return write_svid_files(directory, svid, ca, jwt_authority)


def trusting(ca: CertificateAuthority, client: SvidFiles | None = None) -> ssl.SSLContext:
    """How the test itself connects: trusting the CA (SVIDs name no host), presenting the
    ``client`` SVID when given."""
    context = ssl.create_default_context(cadata=ca.bundle_pem.decode())
    context.check_hostname = False
    if client is not None:
        context.load_cert_chain(client.cert, client.key)
    return context


def files_source(files: SvidFiles, spiffe_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """``plugins.spiffe_identity`` for the SVID files ``files``."""
    paths = {"cert": str(files.cert), "key": str(files.key), "bundle": str(files.bundle)}
    if files.jwt_bundle is not None:
        paths["jwt_bundle"] = str(files.jwt_bundle)
    options: dict[str, Any] = {"source": "files", "trust_domain": "example.org", "files": paths}
    if spiffe_id is not None:
        options["spiffe_id"] = spiffe_id
    return options | extra


async def served_certificate(url: str, context: ssl.SSLContext) -> x509.Certificate:
    """The certificate a TLS server at ``url`` (https://host:port) presents on a new
    connection."""
    host, port = url.removeprefix("https://").rsplit(":", 1)
    _, writer = await asyncio.open_connection(host, int(port), ssl=context)
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
        await writer.wait_closed()
    return x509.load_der_x509_certificate(der)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until ``check()`` holds (a rotation lands in the background); fail after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not so within {timeout} s")
        await asyncio.sleep(0.02)
