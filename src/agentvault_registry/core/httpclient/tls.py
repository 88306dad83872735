"""TLS to a server whose identity is not a host name (a SPIFFE ID in a URI SAN, say).

OpenSSL verifies the chain, but Python's ``ssl`` module checks only DNS names and IP
addresses. A :class:`ServerIdentityContext` carries the missing check, and the client's
connector runs it on every connection it hands out, after the handshake and before a byte of
the request (credentials included) is written, so a server that chains to a trusted root but
is not the one expected never sees the request.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import Connection

from agentvault_registry.core.errors import FetchRefused
from agentvault_registry.core.httpclient.targets import shown_url

#: Raises :class:`CertificateRefused` unless the DER leaf certificate is the expected server's.
CertificateCheck = Callable[[bytes], None]


class CertificateRefused(Exception):
    """The server's certificate chains to a trusted root but names someone else."""


class ServerIdentityContext(ssl.SSLContext):
    """A client context whose connections are kept only if ``check_certificate`` accepts the
    server's leaf certificate. Build it with :func:`server_identity_context`."""

    check_certificate: CertificateCheck


def server_identity_context(check: CertificateCheck) -> ServerIdentityContext:
    """A TLS client context that verifies the chain (load the roots into it) but not the host
    name, leaving the server's identity to ``check``."""
    context = ServerIdentityContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_certificate = check
    return context


class IdentityCheckingConnector(aiohttp.TCPConnector):
    """A connector that runs a :class:`ServerIdentityContext`'s check on each connection.

    Connections are pooled per SSL context, so one checked for a context is reused only for
    requests made with that same context; it is checked again anyway, at the cost of parsing
    one certificate.
    """

    async def connect(self, req: ClientRequest, *args: Any, **kwargs: Any) -> Connection:
        connection = await super().connect(req, *args, **kwargs)
        context = req.ssl
        if isinstance(context, ServerIdentityContext):
            try:
                context.check_certificate(_server_certificate(connection))
            except CertificateRefused as exc:
                connection.close()
                raise FetchRefused(url=shown_url(req.url), reason=str(exc)) from None
        return connection


def _server_certificate(connection: Connection) -> bytes:
    transport = connection.transport
    ssl_object = None if transport is None else transport.get_extra_info("ssl_object")
    certificate = None if ssl_object is None else ssl_object.getpeercert(binary_form=True)
    if certificate is None:
        raise CertificateRefused("the server presented no certificate")
    return certificate
