"""The spiffe_identity plugin's config, and what ``GET /api/v1/identity`` answers."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from agentvault_registry.plugins.agents.schemas import Strict

NONE, WORKLOAD_API, FILES = "none", "workload_api", "files"
SOURCES = (NONE, WORKLOAD_API, FILES)
#: The SPIFFE spec's trust domain characters.
TRUST_DOMAIN = re.compile(r"^[a-z0-9._-]{1,255}$")
#: SPIFFE path segments: letters, digits, dots, dashes, underscores; never empty, . or ..
SPIFFE_PATH = re.compile(r"^(/[A-Za-z0-9._-]+)+$")
DEFAULT_SERVICE_PATH = "/service/registry-backend"


def _is_spiffe_path(value: str) -> bool:
    return bool(SPIFFE_PATH.match(value)) and not any(
        part in {".", ".."} for part in value.split("/")
    )


def _spiffe_path(value: str) -> None:
    if not _is_spiffe_path(value):
        raise ValidationError("Must be a SPIFFE ID path such as /agent.")


class SvidFilesOptions(Strict):
    #: Our certificate chain, PEM, leaf first.
    cert = fields.String(required=True, validate=validate.Length(min=1))
    #: Its private key, PKCS #8 PEM.
    key = fields.String(required=True, validate=validate.Length(min=1))
    #: The trust domain's X.509 authorities, PEM.
    bundle = fields.String(required=True, validate=validate.Length(min=1))
    #: The trust domain's JWT authorities (a SPIFFE bundle / JWK Set); without it no
    #: JWT-SVID is accepted.
    jwt_bundle = fields.String(load_default=None, validate=validate.Length(min=1))


class SpiffeOptions(Strict):
    source = fields.String(load_default=NONE, validate=validate.OneOf(SOURCES))
    trust_domain = fields.String(
        load_default=None, validate=validate.Regexp(TRUST_DOMAIN, error="Not a trust domain.")
    )
    #: Ours; ``spiffe://<trust_domain>/service/registry-backend`` unless set.
    spiffe_id = fields.String(load_default=None)
    #: The Workload API socket (``unix:///run/spire/agent.sock``); SPIFFE_ENDPOINT_SOCKET
    #: unless set.
    endpoint_socket = fields.String(load_default=None)
    files = fields.Nested(SvidFilesOptions, load_default=None)
    #: Seconds between checks of the SVID files for a rotation, or of a lost connection to
    #: the Workload API (whose own updates arrive as they happen).
    reload_interval = fields.Float(load_default=5.0, validate=validate.Range(0.01, 3600))
    #: Seconds a call to the Workload API may take (the first SVID, a JWT-SVID).
    fetch_timeout = fields.Float(load_default=10.0, validate=validate.Range(0.1, 300))
    #: JWT-SVIDs with any of these in ``aud`` are for us; our SPIFFE ID and the public URL
    #: unless set.
    audiences = fields.List(
        fields.String(validate=validate.Length(1, 2_048)),
        load_default=None,
        # An empty list would refuse every JWT-SVID: leave it unset for the default.
        validate=validate.Length(min=1),
    )
    #: Agents' SPIFFE IDs: ``spiffe://<trust_domain><agent_path>/<agent id>``.
    agent_path = fields.String(load_default="/agent", validate=_spiffe_path)
    #: Serve HTTPS with our X.509-SVID (client certificates asked for, not required).
    serve_tls = fields.Boolean(load_default=False)
    #: Federation over mTLS: peers must present the SVID of their configured SPIFFE ID, and
    #: we present ours when we call them. Needs serve_tls.
    federation_mtls = fields.Boolean(load_default=False)
    #: With the Workload API: get agents JWT-SVIDs for the assertions other services need
    #: (the TEG), the registry being entitled to agents' identities in SPIRE.
    agent_jwt_svids = fields.Boolean(load_default=True)

    @validates_schema
    def _source_settings(self, data: dict[str, Any], **_: Any) -> None:
        # Every problem at once: an operator fixes the file once, not once per line.
        source, problems = data["source"], {}
        if source != NONE and data["trust_domain"] is None:
            problems["trust_domain"] = ["required with a SPIFFE source."]
        if source == FILES and data["files"] is None:
            problems["files"] = ["required with source = 'files'."]
        if source == NONE and (data["serve_tls"] or data["federation_mtls"]):
            problems["source"] = ["TLS with an SVID needs a SPIFFE source."]
        if data["federation_mtls"] and not data["serve_tls"]:
            problems["federation_mtls"] = ["needs serve_tls = true."]
        if problems:
            raise ValidationError(problems)

    @post_load
    def _default_spiffe_id(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        trust_domain = data["trust_domain"]
        if data["spiffe_id"] is None and trust_domain is not None:
            data["spiffe_id"] = f"spiffe://{trust_domain}{DEFAULT_SERVICE_PATH}"
        elif data["spiffe_id"] is not None and trust_domain is not None:
            prefix = f"spiffe://{trust_domain}/"
            path = data["spiffe_id"].removeprefix(prefix[:-1])
            if not data["spiffe_id"].startswith(prefix) or not _is_spiffe_path(path):
                raise ValidationError(f"must be a SPIFFE ID in {trust_domain}.", "spiffe_id")
        return data


# --------------------------------------------------------------------------- responses


class CertificateSchema(Schema):
    subject = fields.String(required=True)
    spiffe_ids = fields.List(fields.String(), required=True)
    serial_number = fields.String(required=True)
    not_before = fields.String(required=True)
    expires_at = fields.String(required=True)
    fingerprint = fields.String(required=True, metadata={"description": "sha256:<hex> of DER"})


class JwtAuthoritySchema(Schema):
    key_id = fields.String(required=True)
    fingerprint = fields.String(required=True, metadata={"description": "sha256 of the SPKI"})


class BundleSchema(Schema):
    trust_domain = fields.String(required=True)
    x509_authorities = fields.List(fields.Nested(CertificateSchema), required=True)
    jwt_authorities = fields.List(fields.Nested(JwtAuthoritySchema), required=True)


class IdentityStatusSchema(Schema):
    source = fields.String(required=True, metadata={"enum": list(SOURCES)})
    trust_domain = fields.String(required=True, allow_none=True)
    spiffe_id = fields.String(required=True, allow_none=True)
    svid = fields.Nested(CertificateSchema, required=True, allow_none=True)
    svid_expires_at = fields.String(required=True, allow_none=True)
    bundles = fields.List(fields.Nested(BundleSchema), required=True)
    updated_at = fields.String(required=True, allow_none=True)
    problem = fields.String(required=True, allow_none=True)
    serve_tls = fields.Boolean(required=True)
    federation_mtls = fields.Boolean(required=True)
