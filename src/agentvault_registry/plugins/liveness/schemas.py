"""The liveness plugin's config, and the bodies and answers of its endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from agentvault_registry.plugins.agents.schemas import AgentSchema, Strict
from agentvault_registry.storage_backends.agents import HEALTH_STATUSES

# ----------------------------------------------------------------------------- config


class LivenessOptions(Strict):
    #: Probe agents on a schedule; re-checks an owner asks for work either way.
    enabled = fields.Boolean(load_default=True)
    #: Seconds between two probes of one agent.
    probe_interval = fields.Float(load_default=300.0, validate=validate.Range(10, 7 * 86_400))
    #: Seconds between rounds; each round probes the agents then due, in one process.
    round_interval = fields.Float(load_default=60.0, validate=validate.Range(1, 86_400))
    #: The most agents one round probes.
    batch_size = fields.Integer(strict=True, load_default=200, validate=validate.Range(1, 10_000))
    #: Requests in flight at once, all hosts together.
    max_concurrency = fields.Integer(
        strict=True, load_default=20, validate=validate.Range(1, 1_000)
    )
    #: Requests in flight at once to one host (a host:port).
    per_host_concurrency = fields.Integer(
        strict=True, load_default=2, validate=validate.Range(1, 100)
    )
    #: Seconds between the starts of two requests to one host.
    per_host_delay = fields.Float(load_default=1.0, validate=validate.Range(0, 60))
    #: Seconds an origin has to answer, connection included; later is unreachable.
    request_timeout = fields.Float(load_default=5.0, validate=validate.Range(0.05, 60))
    #: Seconds after which an answer makes the agent degraded.
    slow_threshold = fields.Float(load_default=2.0, validate=validate.Range(0.001, 60))

    @validates_schema
    def _limits_fit_together(self, data: dict[str, Any], **_: Any) -> None:
        problems = {}
        if data["per_host_concurrency"] > data["max_concurrency"]:
            problems["per_host_concurrency"] = ["Must not exceed max_concurrency."]
        if data["slow_threshold"] >= data["request_timeout"]:
            problems["slow_threshold"] = ["Must be below request_timeout."]
        if data["round_interval"] > data["probe_interval"]:
            problems["round_interval"] = ["Must not exceed probe_interval."]
        if problems:
            raise ValidationError(problems)


# ---------------------------------------------------------------------------- the API


class AgentHealthSchema(Schema):
    """An agent's health as its last probe found it (also the agent's ``health``)."""

    status = fields.String(required=True, metadata={"enum": list(HEALTH_STATUSES)})
    last_checked_at = fields.String(
        allow_none=True, metadata={"format": "date-time", "description": "Null: never probed."}
    )
    uptime_7d = fields.Float(
        allow_none=True,
        metadata={"description": "Share of the probes of the last 7 days the origin answered."},
    )
    latency_ms = fields.Float(allow_none=True)
    card_drift = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "Whether the origin's card differs from the registered one; null "
            "when the registry derives the agent's card or no card was served."
        },
    )
    http_status = fields.Integer(allow_none=True)


class HealthReportSchema(AgentHealthSchema):
    agent_id = fields.String(required=True)
    card_url = fields.String(allow_none=True, metadata={"description": "What the probe asked."})
    consecutive_failures = fields.Integer(
        required=True, metadata={"description": "Probes in a row that got no answer."}
    )
    last_reachable_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    error = fields.String(
        allow_none=True, metadata={"description": "Why the last probe was not healthy."}
    )


class CheckRequestSchema(Strict):
    """``POST .../health/check``: no settings; the body is optional."""


class ResyncRequestSchema(Strict):
    """``POST .../card/resync``; the body is optional."""

    card_hash = fields.String(
        validate=validate.Regexp(r"^[0-9a-f]{64}$", error="A SHA-256 in lower-case hex."),
        metadata={
            "description": "The card_hash of the origin card you reviewed (GET card/origin): "
            "409 when the origin serves another one now."
        },
    )


class PatchOperationSchema(Schema):
    """One RFC 6902 operation; paths are JSON Pointers into the card."""

    op = fields.String(
        required=True, metadata={"enum": ["add", "remove", "replace", "move", "copy", "test"]}
    )
    path = fields.String(required=True)
    from_ = fields.String(data_key="from")
    value = fields.Raw()


class OriginCardSchema(Schema):
    card_url = fields.String(required=True)
    card_hash = fields.String(required=True)
    card_drift = fields.Boolean(allow_none=True)
    card = fields.Dict(required=True, metadata={"description": "Normalized to A2A 1.0."})
    warnings = fields.List(fields.String(), required=True)
    diff = fields.List(
        fields.Nested(PatchOperationSchema),
        required=True,
        metadata={"description": "What turns the registered card into this one."},
    )


class ResyncedSchema(Schema):
    agent = fields.Nested(AgentSchema, required=True)
    diff = fields.List(fields.Nested(PatchOperationSchema), required=True)
    changed = fields.Boolean(
        required=True, metadata={"description": "False: the card already was the origin's."}
    )
