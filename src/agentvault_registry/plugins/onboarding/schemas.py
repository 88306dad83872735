"""Request and response bodies of the onboarding endpoints, and the plugin's options."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from agentvault_registry.core.pagination import PaginationSchema
from agentvault_registry.plugins.agents.schemas import (
    AgentCreateSchema,
    AgentSchema,
    Strict,
    printable,
    without_nul,
)
from agentvault_registry.storage_backends.agents import DID_PREFIX

#: What a developer may attach to a token, serialized.
METADATA_LIMIT = 4096
#: A token's lifetime may be no shorter: an agent needs a moment to use it.
MIN_TOKEN_TTL = 10
#: No configuration allows a longer lifetime.
MAX_TOKEN_TTL = 7 * 86_400


def _small_json(value: dict[str, Any]) -> None:
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > METADATA_LIMIT:
        raise ValidationError(f"At most {METADATA_LIMIT} bytes of JSON.")


# ------------------------------------------------------------------ requests


class BootstrapTokenRequestSchema(Strict):
    agent_type_hint = fields.String(validate=[validate.Length(1, 64), printable])
    metadata = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 100)),
        load_default=dict,
        validate=[without_nul, _small_json],
    )
    expires_in = fields.Integer(
        strict=True,
        validate=validate.Range(MIN_TOKEN_TTL, MAX_TOKEN_TTL),
        metadata={"description": "Seconds until the token expires; at most the configured max."},
    )


class SelfRegistrationSchema(AgentCreateSchema):
    """The agent registration of ``POST /agents``, plus the token when it is not sent in the
    ``Bootstrap-Token`` header."""

    bootstrap_token = fields.String(allow_none=True, validate=validate.Length(max=200))


class BootstrapTokenListQuerySchema(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 1000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(validate=validate.Length(max=200))


# ----------------------------------------------------------------- responses


class BootstrapTokenIssuedSchema(Schema):
    id = fields.String(required=True)
    bootstrap_token = fields.String(
        required=True, metadata={"description": "Shown once: hand it to the agent now."}
    )
    expires_at = fields.DateTime(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds."})


class BootstrapTokenSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(["active", "consumed", "expired", "revoked"]),
    )
    agent_type_hint = fields.String(allow_none=True)
    metadata = fields.Dict(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    consumed_at = fields.DateTime(allow_none=True)
    consumed_by_agent_id = fields.String(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class BootstrapTokenListSchema(Schema):
    tokens = fields.List(fields.Nested(BootstrapTokenSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class AgentCredentialsSchema(Schema):
    agent_id = fields.String(required=True)
    did = fields.String(required=True, metadata={"example": DID_PREFIX + "<uuid>"})
    api_key = fields.String(
        required=True,
        metadata={
            "description": "The agent's own key (X-API-Key), shown once: it reads and updates "
            "this agent only."
        },
    )


class SelfRegisteredSchema(Schema):
    agent = fields.Nested(AgentSchema, required=True)
    credentials = fields.Nested(AgentCredentialsSchema, required=True)


# ------------------------------------------------------------------- options


class OnboardingOptions(Strict):
    #: Seconds a token lives when the request names no lifetime.
    token_ttl = fields.Integer(load_default=300, validate=validate.Range(MIN_TOKEN_TTL, 86_400))
    #: The longest lifetime a request may ask for.
    max_token_ttl = fields.Integer(
        load_default=3600, validate=validate.Range(MIN_TOKEN_TTL, MAX_TOKEN_TTL)
    )
    #: Seconds between purges of expired tokens.
    purge_interval = fields.Integer(load_default=300, validate=validate.Range(1, 86_400))
    #: How long an expired token stays listed (as ``expired``) before it is purged.
    expired_retention = fields.Integer(load_default=86_400, validate=validate.Range(0, 90 * 86_400))

    @validates_schema(skip_on_field_errors=True)
    def _default_within_max(self, data: dict[str, Any], **_: Any) -> None:
        if data["token_ttl"] > data["max_token_ttl"]:
            raise ValidationError("Must not exceed max_token_ttl.", "token_ttl")
