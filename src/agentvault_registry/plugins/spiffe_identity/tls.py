"""TLS with our X.509-SVID: the listening socket, and the connections we make to peers.

``ssl`` loads certificates and keys from files only. Each context is built from files written
to a private directory (in RAM, /dev/shm, where there is one), loaded, and deleted at once;
the context keeps the key in memory. A new
generation of material (a rotation) builds new contexts; the server's context picks up the
newest on each handshake, so rotation needs no restart and open connections keep theirs.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from agentvault_registry.core.httpclient.tls import (
    CertificateRefused,
    ServerIdentityContext,
    server_identity_context,
)
from agentvault_registry.plugins.spiffe_identity.material import (
    SPIFFE_SCHEME,
    IdentityMaterial,
    spiffe_ids_in,
)

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2
#: A memory file system, so a key written for a moment never reaches a disk (even if the
#: process dies before deleting it); the system's temporary directory where there is none.
KEY_DIRECTORY = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


class NoSvid(Exception):
    """There is no usable X.509-SVID (yet) to present."""


@contextlib.contextmanager
def _svid_files(material: IdentityMaterial) -> Iterator[tuple[Path, Path]]:
    """Our chain and key as files, for ``load_cert_chain``; gone when the block ends."""
    chain, key = material.svid_pem()
    with tempfile.TemporaryDirectory(prefix="avreg-svid-", dir=KEY_DIRECTORY) as directory:
        # mkdtemp makes the directory 0700: no other user can read the key meanwhile.
        chain_path, key_path = Path(directory, "svid.pem"), Path(directory, "svid.key")
        chain_path.write_bytes(chain)
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key)
        yield chain_path, key_path


def _with_svid(
    context: ssl.SSLContext, material: IdentityMaterial, trust_domain: str | None = None
) -> None:
    if material.svid is None:
        raise NoSvid("no X.509-SVID has been received yet")
    roots = material.roots_pem(trust_domain)
    if not roots:
        raise NoSvid(f"no X.509 trust bundle of {trust_domain or 'any trust domain'} yet")
    with _svid_files(material) as (chain_path, key_path):
        context.load_cert_chain(chain_path, key_path)
    context.load_verify_locations(cadata=roots)


def build_server_context(material: IdentityMaterial) -> ssl.SSLContext:
    """Presents our SVID; asks every client for a certificate without requiring one (API
    clients have none), and refuses one that does not chain to a trusted bundle."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_VERSION
    context.verify_mode = ssl.CERT_OPTIONAL
    _with_svid(context, material)
    return context


class RotatingServerContext:
    """The context the socket listens with. It holds no certificate of its own: on each
    handshake it hands the connection the context of the newest material."""

    def __init__(self) -> None:
        self.listening = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.listening.minimum_version = MINIMUM_VERSION
        self.listening.verify_mode = ssl.CERT_OPTIONAL
        self.listening.sni_callback = self._select
        self._current: ssl.SSLContext | None = None

    def update(self, material: IdentityMaterial) -> None:
        """Serve ``material`` from the next handshake on; keep the previous context when it
        is not usable (no SVID), so an incomplete update never stops the service."""
        try:
            self._current = build_server_context(material)
        except NoSvid:
            if self._current is None:
                raise

    def _select(self, connection: ssl.SSLObject, server_name: str | None, _: object) -> int | None:
        # OpenSSL calls this for every ClientHello, with or without SNI.
        if self._current is None:
            return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
        connection.context = self._current
        return None


def peer_client_context(material: IdentityMaterial, expected_id: str) -> ServerIdentityContext:
    """Presents our SVID to a peer, trusts only the bundle of ``expected_id``'s trust domain,
    and accepts the connection only when the peer's certificate carries ``expected_id``."""
    context = server_identity_context(lambda der: check_spiffe_id(der, expected_id))
    _with_svid(context, material, trust_domain_of(expected_id))
    return context


def trust_domain_of(spiffe_id: str) -> str:
    return spiffe_id.removeprefix(SPIFFE_SCHEME).split("/", 1)[0]


def check_issued_within(der: bytes, material: IdentityMaterial, trust_domain: str) -> None:
    """Raise :class:`CertificateRefused` unless a CA of ``trust_domain`` issued the client
    certificate. The handshake checked it chains to *some* trusted bundle; with federated
    trust domains that could be another domain's CA vouching for one of ours.

    Python before 3.13 shows a server only the client's leaf, not its chain: the leaf must
    then be issued directly by one of the domain's CAs, unless that domain is the only one
    trusted (the handshake already bound it to that domain's roots)."""
    if material.trust_domains() == {trust_domain}:
        return
    leaf = x509.load_der_x509_certificate(der)
    for authority in material.authorities_of(trust_domain):
        try:
            leaf.verify_directly_issued_by(authority)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return
    raise CertificateRefused(f"the certificate is not issued by a CA of {trust_domain}")


def check_spiffe_id(der: bytes, expected_id: str) -> None:
    """Raise :class:`CertificateRefused` unless the certificate's one SPIFFE ID is
    ``expected_id``."""
    presented = spiffe_ids_in(x509.load_der_x509_certificate(der))
    if presented != [expected_id]:
        shown = ", ".join(presented) or "no SPIFFE ID"
        raise CertificateRefused(f"the certificate is for {shown}, not {expected_id}")
