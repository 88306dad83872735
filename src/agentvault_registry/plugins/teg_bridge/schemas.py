"""The TEG bridge's config, the body and answer of ``POST /teg/token``, and what the TEG's
token endpoint answers (RFC 6749 section 5)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from yarl import URL

from agentvault_registry.config.secrets import SecretField
from agentvault_registry.plugins.agents.schemas import Strict, printable
from agentvault_registry.plugins.teg_bridge.assertions import MAX_ASSERTION_TTL

DEFAULT_SCOPE = "agent:economics agent:reputation"
#: RFC 6749 section 3.3: scope tokens of NQCHAR, separated by single spaces.
SCOPE_SYNTAX = r"^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$"
MAX_SCOPE = 1_024
MAX_URL = 2_048
MAX_ACCESS_TOKEN = 16_384
#: A TEG error's words are passed on to the agent; longer ones are no OAuth error.
MAX_ERROR = 128
MAX_ERROR_DESCRIPTION = 1_024
#: RFC 6749 section 5.2: an error code is printable ASCII without quote or backslash.
ERROR_SYNTAX = r"^[\x20\x21\x23-\x5b\x5d-\x7e]+$"
#: A token said to live longer than a year is no answer we cache.
MAX_EXPIRES_IN = 365 * 86_400


def scope_field(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=[
            validate.Length(max=MAX_SCOPE),
            # Refuses an empty scope too.
            validate.Regexp(SCOPE_SYNTAX, error="Scope tokens separated by single spaces."),
        ],
        **kwargs,
    )


# ----------------------------------------------------------------------------- config


class TegBridgeOptions(Strict):
    #: The TEG's OAuth token endpoint; unset, the bridge is the null bridge (501).
    token_url = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(1, MAX_URL)
    )
    #: An http:// token_url (tests, a private network); https only otherwise.
    allow_http = fields.Boolean(load_default=False)
    #: A token_url at a loopback or private address; public addresses only otherwise.
    allow_private = fields.Boolean(load_default=False)
    #: Every scope an agent may ask for; a request without one asks for all.
    scope = scope_field(load_default=DEFAULT_SCOPE)
    assertion_ttl = fields.Integer(load_default=60, validate=validate.Range(1, MAX_ASSERTION_TTL))
    #: Seconds before a token's expiry when a cached token stops being handed out.
    refresh_margin = fields.Integer(load_default=30, validate=validate.Range(0, 3_600))
    #: Seconds the TEG has to answer, connection included.
    timeout = fields.Float(load_default=5.0, validate=validate.Range(0.05, 60))
    #: HTTP Basic client authentication at the token endpoint, when the TEG wants it.
    client_id = fields.String(
        load_default=None, allow_none=True, validate=[validate.Length(1, 255), printable]
    )
    client_secret = SecretField(load_default=None, allow_none=True)
    #: PEM of an Ed25519 or EC P-256 private key; generated once in development mode.
    signing_key = SecretField(load_default=None, allow_none=True)
    #: Retired keys (private or public PEM), still published in the JWK Set.
    previous_signing_keys = fields.List(SecretField(), load_default=list)
    #: ``iss`` of the registry's assertions; server.public_url when unset.
    issuer = fields.String(
        load_default=None,
        allow_none=True,
        validate=[
            validate.Length(1, MAX_URL),
            validate.Regexp(r"^\S+$", error="A URL or URN without spaces."),
        ],
    )

    @validates_schema
    def _client_credentials_go_together(self, data: dict[str, Any], **_: Any) -> None:
        if (data["client_id"] is None) != (data["client_secret"] is None):
            missing = "client_secret" if data["client_secret"] is None else "client_id"
            raise ValidationError("client_id and client_secret go together.", missing)

    @validates_schema
    def _token_url_is_an_endpoint(self, data: dict[str, Any], **_: Any) -> None:
        if data["token_url"] is not None:
            problem = _token_url_problem(data["token_url"], allow_http=data["allow_http"])
            if problem is not None:
                raise ValidationError(problem, "token_url")


def _token_url_problem(url: str, *, allow_http: bool) -> str | None:
    try:
        parsed = URL(url)
    except ValueError:
        return "Not a valid URL."
    if parsed.scheme == "http" and not allow_http:
        return "Must be an https URL (set allow_http = true to allow http)."
    if parsed.scheme not in ("https", "http"):
        return "Must be an https URL."
    if not parsed.raw_host:
        return "The URL has no host."
    if parsed.user is not None or parsed.password is not None:
        return "No credentials in the URL: use client_id and client_secret."
    if parsed.fragment:
        return "A token endpoint URL has no fragment."
    return None


# ---------------------------------------------------------------------------- the API


class TokenRequestSchema(Strict):
    """``POST /teg/token``; the body is optional."""

    scope = scope_field(
        metadata={"description": "Space-separated subset of the configured scopes; all if absent."}
    )


class TokenAnswerSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(
        required=True, metadata={"description": "Seconds the token has left."}
    )
    scope = fields.String(required=True)


# -------------------------------------------------------------------- the TEG's answers


def _is_bearer(token_type: str) -> None:
    # RFC 6749 section 5.1: the type is case-insensitive; the bridge hands out Bearer only.
    if token_type.lower() != "bearer":
        raise ValidationError("Must be Bearer.")


class TegTokenResponseSchema(Schema):
    """A successful token response; fields we do not use (refresh_token...) are dropped."""

    class Meta:
        unknown = EXCLUDE

    access_token = fields.String(required=True, validate=validate.Length(1, MAX_ACCESS_TOKEN))
    token_type = fields.String(required=True, validate=_is_bearer)
    expires_in = fields.Integer(
        required=True, strict=True, validate=validate.Range(1, MAX_EXPIRES_IN)
    )
    scope = scope_field(load_default=None)


class OAuthErrorSchema(Schema):
    """An error response (RFC 6749 section 5.2)."""

    class Meta:
        unknown = EXCLUDE

    error = fields.String(
        required=True,
        validate=[validate.Length(1, MAX_ERROR), validate.Regexp(ERROR_SYNTAX)],
    )
    error_description = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=MAX_ERROR_DESCRIPTION), printable],
    )
