"""Request and response bodies of the agents endpoints."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from agentvault_registry.storage_backends.agents import (
    ACTIVE,
    DEPRECATED,
    INACTIVE,
    AgentEvent,
    AgentRecord,
    health_status,
    signature_status,
)

#: Statuses a client may set; ``deleted`` is reached only through DELETE.
CLIENT_STATUSES = (ACTIVE, INACTIVE, DEPRECATED)
SLUG = validate.Regexp(
    r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$",
    error="3 to 64 lowercase letters, digits or '-', not starting or ending with '-'.",
)
#: Slugs that would shadow a route or another agent's id.
RESERVED_SLUGS = frozenset({"changes"})
UUID_SHAPED = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def usable_slug(value: str) -> None:
    if value in RESERVED_SLUGS or UUID_SHAPED.match(value):
        raise ValidationError("This name is reserved or looks like an agent id.")


TEXT_LIMIT = 4000


def printable(value: str) -> None:
    if any(ord(character) < 32 and character not in "\n\t" for character in value):
        raise ValidationError("Must not contain control characters.")


def without_nul(value: Any) -> None:
    """NUL cannot be stored as text by every backend; nowhere in free-form JSON either."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            raise ValidationError("Must not contain NUL characters.")
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class PricingSchema(Schema):
    """Pricing is the developer's: the known fields are checked, others are kept."""

    class Meta:
        unknown = "include"

    model = fields.String(
        required=True, validate=validate.OneOf(["free", "per_call", "subscription", "usage"])
    )
    base_price = fields.Decimal(
        as_string=True,
        validate=validate.Range(min=0),
        allow_nan=False,
        # A number or its text on the way in, text on the way out. Stated here because apispec
        # would write the Range's minimum through the field, as the string "0".
        metadata={"type": ["number", "string"], "minimum": 0},
    )
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$|^[A-Z0-9]{2,10}$"))

    @post_load
    def _price_as_text(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # Kept as a decimal string: exact (no float rounding) and storable as JSON.
        if "base_price" in data:
            data["base_price"] = str(data["base_price"])
        return data


def _url_list(**kwargs: Any) -> fields.List:
    return fields.List(
        fields.Url(
            schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2048)
        ),
        validate=validate.Length(max=20),
        **kwargs,
    )


def _name_list(maximum: int) -> fields.List:
    return fields.List(
        fields.String(validate=[validate.Length(1, 100), printable]),
        validate=validate.Length(max=maximum),
    )


class AgentFieldsSchema(Strict):
    """The fields a developer controls. Server-controlled ones (id, did, developerId,
    verified, timestamps) are not here, so sending them is an unknown-field 422."""

    name = fields.String(validate=[validate.Length(1, 200), printable])
    agent_type = fields.String(data_key="agentType", validate=[validate.Length(1, 64), printable])
    description = fields.String(validate=[validate.Length(1, TEXT_LIMIT), printable])
    api_endpoints = _url_list(data_key="apiEndpoints")
    # Skill ids and tags of a large card (one real card has 194) must fit.
    capabilities = _name_list(500)
    tags = _name_list(50)
    human_readable_id = fields.String(data_key="humanReadableId", validate=[SLUG, usable_slug])
    pricing = fields.Nested(PricingSchema, allow_none=True, validate=without_nul)
    teg_wallet_address = fields.String(
        data_key="tegWalletAddress", allow_none=True, validate=[validate.Length(1, 128), printable]
    )
    metadata = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 100)), validate=without_nul
    )
    status = fields.String(validate=validate.OneOf(CLIENT_STATUSES))


REQUIRED_WITHOUT_CARD = {
    "name": "name",
    "description": "description",
    "api_endpoints": "apiEndpoints",
}


class CardSourceMixin(Schema):
    card = fields.Dict(validate=without_nul)
    # Only the scheme is checked here: the SSRF-safe client judges the rest (hosts, literal
    # addresses in any notation) and says why it refuses.
    card_url = fields.String(
        data_key="cardUrl",
        validate=[
            validate.Length(1, 2048),
            validate.Regexp(r"^https?://", flags=re.IGNORECASE, error="Must be an http(s) URL."),
        ],
    )

    @validates_schema
    def _one_card_source(self, data: dict[str, Any], **_: Any) -> None:
        if "card" in data and "card_url" in data:
            raise ValidationError("Give a card or a cardUrl, not both.", "cardUrl")


class AgentCreateSchema(AgentFieldsSchema, CardSourceMixin):
    @validates_schema(skip_on_field_errors=False)
    def _name_and_description(self, data: dict[str, Any], **_: Any) -> None:
        # Without a card to take them from, the record must name and describe itself, and say
        # where the agent answers (the card the registry derives needs that URL).
        if "card" not in data and "card_url" not in data:
            missing = [
                data_key for key, data_key in REQUIRED_WITHOUT_CARD.items() if not data.get(key)
            ]
            if missing:
                raise ValidationError({key: ["Required when no card is given."] for key in missing})


class AgentReplaceSchema(AgentCreateSchema):
    """PUT: every mutable field, as it should be afterwards (the same rules as creating)."""


class AgentPatchSchema(AgentFieldsSchema, CardSourceMixin):
    """PATCH: only the fields given change."""


class VerifyRequestSchema(Strict):
    """Empty: the first call issues a challenge, the next one checks it."""


class AgentListQuerySchema(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(validate=validate.Length(max=200))
    owner = fields.String(validate=validate.OneOf(["me"]))
    status = fields.String(validate=validate.OneOf(CLIENT_STATUSES))
    agent_type = fields.String(validate=[validate.Length(1, 64), printable])
    capability = fields.String(validate=[validate.Length(1, 100), printable])
    fields_ = fields.String(data_key="fields", validate=validate.Length(max=500))


class CardQuerySchema(Strict):
    version = fields.String(
        load_default="1.0",
        validate=validate.OneOf(["1.0", "0.3"]),
        metadata={"description": "The A2A version to serve the card in."},
    )


class ChangesQuerySchema(Strict):
    since = fields.String(load_default="0", validate=validate.Regexp(r"^\d{1,18}$"))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))


def signature_json(agent: AgentRecord) -> dict[str, Any]:
    return dict(agent.signature) if agent.signature else {"status": signature_status(agent)}


def health_json(agent: AgentRecord) -> dict[str, Any]:
    """The agent's health; before its first probe every figure is unknown (null)."""
    return {
        "status": health_status(agent),
        "last_checked_at": None,
        "uptime_7d": None,
        "latency_ms": None,
        "card_drift": None,
    } | dict(agent.health)


class AgentSchema(Schema):
    """An agent as the API shows it."""

    id = fields.String(required=True)
    did = fields.String(required=True)
    name = fields.String(required=True)
    agentType = fields.String(attribute="agent_type", required=True)
    status = fields.String(required=True)
    description = fields.String(required=True)
    developerId = fields.String(attribute="developer_id", required=True)
    apiEndpoints = fields.List(fields.String(), attribute="api_endpoints")
    capabilities = fields.List(fields.String())
    tags = fields.List(fields.String())
    humanReadableId = fields.String(attribute="human_readable_id", required=True)
    pricing = fields.Dict(allow_none=True)
    tegWalletAddress = fields.String(attribute="teg_wallet_address", allow_none=True)
    metadata = fields.Dict()
    verified = fields.Boolean()
    verifiedAt = fields.DateTime(attribute="verified_at", allow_none=True)
    cardSource = fields.Method("_card_source")
    signature = fields.Function(
        signature_json,
        metadata={
            "description": "What checking the card's signatures found: status (none, valid,"
            " invalid, unverifiable), and kid, domain, reason, checked_at as known."
        },
    )
    health = fields.Function(
        health_json,
        metadata={
            "description": "What probing the agent's origin found: status (healthy, degraded,"
            " unreachable, unknown), last_checked_at, uptime_7d, latency_ms, card_drift."
        },
    )
    createdAt = fields.DateTime(attribute="created_at")
    updatedAt = fields.DateTime(attribute="updated_at")
    cardWarnings = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": "In write responses: what upgrading the sent card changed."},
    )

    def _card_source(self, agent: Any) -> str:
        """``stored`` when the developer gave a card, ``derived`` when the registry makes one."""
        return "stored" if agent.card_blob_key is not None else "derived"


def change_json(event: AgentEvent) -> dict[str, Any]:
    """One entry of the change feed as the API shows it."""
    return {
        "seq": event.seq,
        "type": event.event_type,
        "agentId": event.agent_id,
        "actorId": event.actor_id,
        "occurredAt": event.occurred_at.isoformat(),
        "agent": _public_snapshot(event.snapshot),
    }


def _public_snapshot(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """An event's agent as the API shows agents: no storage internals (blob keys, versions)."""
    return {
        field.data_key or name: snapshot.get(field.attribute or name)
        for name, field in _AGENT_FIELDS.items()
        if (field.attribute or name) in snapshot
    }


def agent_json(agent: Any, warnings: list[str] | None = None) -> dict[str, Any]:
    """What :class:`AgentSchema` dumps, built directly: the hot read path (a marshmallow dump
    cost 11% of a GET in bench/agents_api.py). A test keeps the two identical. ``warnings``
    (what normalizing a newly sent card changed) are added as ``cardWarnings``."""

    def stamp(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": agent.id,
        "did": agent.did,
        "name": agent.name,
        "agentType": agent.agent_type,
        "status": agent.status,
        "description": agent.description,
        "developerId": agent.developer_id,
        "apiEndpoints": list(agent.api_endpoints),
        "capabilities": list(agent.capabilities),
        "tags": list(agent.tags),
        "humanReadableId": agent.human_readable_id,
        "pricing": None if agent.pricing is None else dict(agent.pricing),
        "tegWalletAddress": agent.teg_wallet_address,
        "metadata": dict(agent.metadata),
        "verified": agent.verified,
        "verifiedAt": stamp(agent.verified_at),
        "cardSource": "stored" if agent.card_blob_key is not None else "derived",
        "signature": signature_json(agent),
        "health": health_json(agent),
        "createdAt": stamp(agent.created_at),
        "updatedAt": stamp(agent.updated_at),
    } | ({"cardWarnings": warnings} if warnings else {})


_AGENT_FIELDS = AgentSchema().fields
