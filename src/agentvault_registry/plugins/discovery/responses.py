"""Answer bodies of the discovery endpoints, as the OpenAPI document describes them."""

from __future__ import annotations

from marshmallow import Schema, fields

from agentvault_registry.core.pagination import PaginationSchema
from agentvault_registry.plugins.agents.schemas import AgentSchema


class FederationPeerSchema(Schema):
    name = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["ok", "timeout", "error", "skipped"]})
    latency_ms = fields.Float(allow_none=True)
    error = fields.String()
    cached = fields.Boolean(metadata={"description": "Answered from this registry's cache."})


class FederationStatusSchema(Schema):
    requested = fields.Boolean(required=True)
    peers_queried = fields.Integer(required=True)
    peers_responded = fields.Integer(required=True)
    query_time_ms = fields.Float(required=True)
    peers = fields.List(fields.Nested(FederationPeerSchema), required=True)


class A2ASummarySchema(Schema):
    protocolBindings = fields.List(fields.String())
    streaming = fields.Boolean()
    pushNotifications = fields.Boolean()
    inputModes = fields.List(fields.String())
    outputModes = fields.List(fields.String())
    securitySchemes = fields.List(fields.String())
    extensions = fields.List(fields.String())
    skills = fields.List(fields.String(), metadata={"description": "Skill names."})


class ExplanationSchema(Schema):
    """Why a result matched (explain.py): the words and filter values it has, and its state."""

    matched_words = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "Per field (name, keywords, description), the words found."},
    )
    matched_filters = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        required=True,
        metadata={"description": "Per filter, the values the agent has (or the flag asked)."},
    )
    health = fields.String(required=True)
    signature = fields.String(required=True)
    verified = fields.Boolean(required=True)
    preferred = fields.List(fields.String(), metadata={"description": "With prefer=."})
    score = fields.Float(metadata={"description": "Full-text relevance, when ranked by it."})


class DiscoveredAgentSchema(AgentSchema):
    a2a = fields.Nested(A2ASummarySchema)
    is_federated = fields.Boolean(required=True)
    registry_url = fields.String(required=True)
    origin_registry_name = fields.String(metadata={"description": "Remote agents only."})
    explain = fields.Nested(ExplanationSchema, metadata={"description": "With explain=true."})


class FacetCountSchema(Schema):
    value = fields.String(required=True)
    count = fields.Integer(required=True)


class FacetsSchema(Schema):
    exact = fields.Boolean(required=True)
    agent_type = fields.List(fields.Nested(FacetCountSchema))
    protocol_binding = fields.List(fields.Nested(FacetCountSchema))
    security_scheme = fields.List(fields.Nested(FacetCountSchema))


class DiscoveryResponseSchema(Schema):
    agents = fields.List(fields.Nested(DiscoveredAgentSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)
    federation_status = fields.Nested(FederationStatusSchema, required=True)
    facets = fields.Nested(FacetsSchema, metadata={"description": "With facets=true."})


class CapabilityCountSchema(Schema):
    capability = fields.String(required=True)
    count = fields.Integer(required=True)


class CapabilitiesResponseSchema(Schema):
    capabilities = fields.List(fields.Nested(CapabilityCountSchema), required=True)
    counts_exact = fields.Boolean(required=True)


class TemplateSchema(Schema):
    id = fields.String(required=True)
    agent_type = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    body = fields.Dict(required=True, metadata={"description": "A POST /api/v1/agents body."})


class TemplatesResponseSchema(Schema):
    templates = fields.List(fields.Nested(TemplateSchema), required=True)
