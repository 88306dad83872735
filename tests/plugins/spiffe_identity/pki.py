"""A throwaway SPIFFE PKI for the spiffe_identity tests, built with ``cryptography`` and PyJWT.

``CertificateAuthority`` issues X.509-SVIDs shaped like SPIRE's (per the SPIFFE X.509-SVID
spec), ``JwtAuthority`` signs JWT-SVIDs and publishes the matching SPIFFE JWT bundle, and
``write_svid_files`` lays the material out on disk the way spiffe-helper does.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TRUST_DOMAIN = "example.org"
# The identity the registry itself runs as in these tests.
REGISTRY_SPIFFE_ID = f"spiffe://{TRUST_DOMAIN}/service/registry-backend"

_CA_LIFETIME = timedelta(days=30)
# Starting the CA a day early lets tests backdate an SVID without it predating its issuer.
_CA_BACKDATE = timedelta(days=1)


def _now() -> datetime:
    # X.509 times have whole seconds; truncating keeps not_before <= "now" for any verifier.
    return datetime.now(UTC).replace(microsecond=0)


def _short_serial() -> int:
    # A positive 63-bit serial: unique enough for tests, well inside RFC 5280's 20 octets.
    return secrets.randbits(63) | 1


_ORGANIZATION = x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AgentVault test PKI")
# SVIDs are named by their URI SAN alone; a SPIFFE ID would not fit a CN's 64 characters.
_SVID_SUBJECT = x509.Name([_ORGANIZATION])


_KEY_USAGE_FLAGS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def _key_usage(*enabled: str) -> x509.KeyUsage:
    return x509.KeyUsage(**{flag: flag in enabled for flag in _KEY_USAGE_FLAGS})


# What SPIRE puts in its SVIDs; the SPIFFE spec requires digitalSignature and forbids the
# CA flags on a leaf.
_SVID_KEY_USAGE = _key_usage("digital_signature", "key_encipherment", "key_agreement")
_CA_KEY_USAGE = _key_usage("key_cert_sign", "crl_sign")


@dataclass(frozen=True)
class IssuedSvid:
    """An X.509-SVID with its private key, in the encodings the tests need."""

    spiffe_id: str
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    chain: list[x509.Certificate]  # leaf first

    @property
    def cert_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    @property
    def key_pem(self) -> bytes:
        return self._pkcs8(serialization.Encoding.PEM)

    @property
    def chain_der(self) -> bytes:
        """The chain as concatenated DER, as the Workload API's X509SVID.x509_svid carries it."""
        return b"".join(c.public_bytes(serialization.Encoding.DER) for c in self.chain)

    @property
    def key_der(self) -> bytes:
        """Unencrypted PKCS#8 DER, as the Workload API's X509SVID.x509_svid_key carries it."""
        return self._pkcs8(serialization.Encoding.DER)

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    def _pkcs8(self, encoding: serialization.Encoding) -> bytes:
        return self.key.private_bytes(
            encoding, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


class CertificateAuthority:
    """A self-signed EC P-256 root for one trust domain, issuing X.509-SVIDs directly."""

    def __init__(self, trust_domain: str = TRUST_DOMAIN) -> None:
        self.trust_domain = trust_domain
        self.key = ec.generate_private_key(ec.SECP256R1())
        not_before = _now() - _CA_BACKDATE
        name = x509.Name(
            [_ORGANIZATION, x509.NameAttribute(NameOID.COMMON_NAME, f"{trust_domain} root CA")]
        )
        public_key = self.key.public_key()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public_key)
            .serial_number(_short_serial())
            .not_valid_before(not_before)
            .not_valid_after(not_before + _CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_CA_KEY_USAGE, critical=True)
            # SPIRE's CAs name their trust domain in a URI SAN too.
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.UniformResourceIdentifier(f"spiffe://{trust_domain}")]
                ),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def bundle_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def bundle_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def issue_x509_svid(
        self,
        spiffe_id: str,
        *,
        ttl: timedelta = timedelta(hours=1),
        not_before: datetime | None = None,
        dns_names: Iterable[str] = (),
    ) -> IssuedSvid:
        """Issue a leaf valid from ``not_before`` (default: now) for ``ttl``.

        A past ``not_before`` with a short ``ttl`` gives an expired SVID; ``spiffe_id`` is not
        checked against the trust domain, so tests can also mint mismatched identities.
        """
        key = ec.generate_private_key(ec.SECP256R1())
        start = not_before or _now()
        sans: list[x509.GeneralName] = [x509.UniformResourceIdentifier(spiffe_id)]
        sans += [x509.DNSName(name) for name in dns_names]
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_SVID_SUBJECT)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(_short_serial())
            .not_valid_before(start)
            .not_valid_after(start + ttl)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_SVID_KEY_USAGE, critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        return IssuedSvid(spiffe_id, certificate, key, [certificate])


class JwtAuthority:
    """A JWT-SVID signing key (ES256 on P-256, or RS256 with RSA-2048) and its JWT bundle."""

    def __init__(
        self, trust_domain: str = TRUST_DOMAIN, *, kid: str = "jwt-key-1", algorithm: str = "ES256"
    ) -> None:
        self.trust_domain = trust_domain
        self.kid = kid
        self.algorithm = algorithm
        self.key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        if algorithm == "ES256":
            self.key = ec.generate_private_key(ec.SECP256R1())
        elif algorithm == "RS256":
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            raise ValueError(f"unsupported JWT-SVID algorithm: {algorithm}")

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
        return self.key.public_key()

    def issue_jwt_svid(
        self,
        spiffe_id: str,
        audience: str | list[str],
        *,
        ttl: int = 300,
        expires_at: int | None = None,
        issued_at: int | None = None,
        kid: str | None = None,
        extra_claims: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        """Sign a JWT-SVID with claims sub, aud, exp and iat and headers typ and kid.

        ``extra_claims`` and ``headers`` are merged over those, so tests can forge bad tokens
        (another ``typ``, a past ``exp``); a claim set to None is left out altogether.
        """
        iat = issued_at if issued_at is not None else int(datetime.now(UTC).timestamp())
        claims = {
            "sub": spiffe_id,
            "aud": audience,
            "exp": expires_at if expires_at is not None else iat + ttl,
            "iat": iat,
            **(extra_claims or {}),
        }
        claims = {name: value for name, value in claims.items() if value is not None}
        header = {"typ": "JWT", "kid": kid or self.kid, **(headers or {})}
        return jwt.encode(claims, self.key, algorithm=self.algorithm, headers=header)

    def jwks(self) -> dict[str, Any]:
        """The SPIFFE bundle document (a JWKS) holding this authority's public key."""
        jwk = jwt.get_algorithm_by_name(self.algorithm).to_jwk(self.public_key, as_dict=True)
        # PyJWT adds key_ops to RSA keys; RFC 7517 says not to mix it with "use", and
        # SPIRE's bundles carry only "use".
        jwk.pop("key_ops", None)
        jwk.update(use="jwt-svid", kid=self.kid)
        return {"keys": [jwk], "spiffe_refresh_hint": 300}

    def jwks_bytes(self) -> bytes:
        return json.dumps(self.jwks()).encode()


@dataclass(frozen=True)
class SvidFiles:
    cert: Path
    key: Path
    bundle: Path
    jwt_bundle: Path | None  # None when no JWT authority was written


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    # A temporary file in the same directory, then os.replace: a reader sees the old file or
    # the new one, never a partial write (the same trick SPIRE's helpers use).
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_svid_files(
    directory: Path,
    svid: IssuedSvid,
    ca: CertificateAuthority,
    jwt_authority: JwtAuthority | None = None,
) -> SvidFiles:
    """Write ``svid.pem``, ``svid_key.pem``, ``bundle.pem`` (and ``jwt_bundle.json``).

    Each file is replaced atomically, but the set is not: between two replaces a reader can
    see a new certificate next to the old key, just as with spiffe-helper. Calling this again
    on the same directory is how tests rotate file-based SVIDs.
    """
    cert, key, bundle = directory / "svid.pem", directory / "svid_key.pem", directory / "bundle.pem"
    _write_atomically(cert, svid.cert_pem, 0o644)
    # The key stays owner-only, as a real agent or helper leaves it.
    _write_atomically(key, svid.key_pem, 0o600)
    _write_atomically(bundle, ca.bundle_pem, 0o644)
    jwt_bundle = None
    if jwt_authority is not None:
        jwt_bundle = directory / "jwt_bundle.json"
        _write_atomically(jwt_bundle, jwt_authority.jwks_bytes(), 0o644)
    return SvidFiles(cert, key, bundle, jwt_bundle)
