"""What a SPIFFE source hands the registry: its X.509-SVID, the trust bundles, the JWT bundle.

Sources replace the whole :class:`IdentityMaterial` at once when anything rotates, so a reader
never sees a new certificate with an old key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

SPIFFE_SCHEME = "spiffe://"


@dataclass(frozen=True)
class IdentityMaterial:
    #: A ``spiffe.X509Svid`` (leaf first, with its private key), or None before one arrives.
    svid: Any = None
    #: ``spiffe.X509Bundle`` of every trust domain whose workloads we accept over TLS.
    x509_bundles: tuple[Any, ...] = ()
    #: The ``spiffe.JwtBundle`` of our own trust domain: it verifies agents' JWT-SVIDs.
    jwt_bundle: Any = None
    #: When the source last replaced the material; each replacement is a new generation.
    updated_at: dt.datetime | None = None
    generation: int = 0
    #: Why the source has nothing (newer) to offer, for the status page and readiness.
    problem: str | None = field(default=None, compare=False)

    @property
    def expires_at(self) -> dt.datetime | None:
        return None if self.svid is None else self.svid.leaf.not_valid_after_utc

    def svid_usable(self, now: dt.datetime) -> bool:
        return self.svid is not None and self.svid.leaf.not_valid_after_utc > now

    def roots_pem(self, trust_domain: str | None = None) -> str:
        """The trusted X.509 authorities, PEM: what a TLS peer's chain must lead to. Those of
        ``trust_domain`` only, when given: a workload's identity is vouched for by its own
        trust domain's CAs, never by a federated domain's."""
        return "".join(
            authority.public_bytes(serialization.Encoding.PEM).decode("ascii")
            for bundle in self.x509_bundles
            if trust_domain is None or str(bundle.trust_domain) == trust_domain
            for authority in bundle.x509_authorities
        )

    def authorities_of(self, trust_domain: str) -> list[x509.Certificate]:
        return [
            authority
            for bundle in self.x509_bundles
            if str(bundle.trust_domain) == trust_domain
            for authority in bundle.x509_authorities
        ]

    def trust_domains(self) -> set[str]:
        return {str(bundle.trust_domain) for bundle in self.x509_bundles}

    def svid_pem(self) -> tuple[bytes, bytes]:
        """Our certificate chain (leaf first) and private key (PKCS #8), PEM."""
        chain = b"".join(
            cert.public_bytes(serialization.Encoding.PEM) for cert in self.svid.cert_chain
        )
        key = self.svid.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return chain, key


def spiffe_ids_in(certificate: x509.Certificate) -> list[str]:
    """The SPIFFE IDs a certificate's URI SANs carry (an X.509-SVID carries exactly one)."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    uris = names.value.get_values_for_type(x509.UniformResourceIdentifier)
    return [uri for uri in uris if uri.startswith(SPIFFE_SCHEME)]


def fingerprint(der: bytes) -> str:
    return "sha256:" + hashlib.sha256(der).hexdigest()


def describe_certificate(certificate: x509.Certificate) -> dict[str, Any]:
    return {
        "subject": certificate.subject.rfc4514_string(),
        "spiffe_ids": spiffe_ids_in(certificate),
        "serial_number": format(certificate.serial_number, "x"),
        "not_before": certificate.not_valid_before_utc.isoformat(),
        "expires_at": certificate.not_valid_after_utc.isoformat(),
        "fingerprint": fingerprint(certificate.public_bytes(serialization.Encoding.DER)),
    }


def describe_bundles(material: IdentityMaterial) -> list[dict[str, Any]]:
    """Each trust domain's authorities by fingerprint: what an admin compares with SPIRE's."""
    described: dict[str, dict[str, Any]] = {}
    for bundle in material.x509_bundles:
        entry = described.setdefault(str(bundle.trust_domain), _empty_bundle())
        entry["x509_authorities"] += sorted(
            (describe_certificate(authority) for authority in bundle.x509_authorities),
            key=lambda authority: authority["fingerprint"],
        )
    if material.jwt_bundle is not None:
        entry = described.setdefault(str(material.jwt_bundle.trust_domain), _empty_bundle())
        for key_id, public_key in sorted(material.jwt_bundle.jwt_authorities.items()):
            spki = public_key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            entry["jwt_authorities"].append({"key_id": key_id, "fingerprint": fingerprint(spki)})
    return [{"trust_domain": domain, **entry} for domain, entry in sorted(described.items())]


def _empty_bundle() -> dict[str, list[dict[str, Any]]]:
    return {"x509_authorities": [], "jwt_authorities": []}
