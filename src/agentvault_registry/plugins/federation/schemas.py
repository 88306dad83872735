"""The federation plugin's config, its admin bodies, and what registries send each other."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from agentvault_registry.a2a.schema_fields import StrictBoolean
from agentvault_registry.config.secrets import SecretField
from agentvault_registry.core.pagination import PaginationSchema
from agentvault_registry.plugins.agents.schemas import CLIENT_STATUSES, Strict, printable
from agentvault_registry.plugins.discovery.responses import DiscoveredAgentSchema
from agentvault_registry.plugins.discovery.schemas import (
    MAX_OFFSET,
    MAX_PER_PAGE,
    MAX_TEXT,
    FiltersSchema,
    Search,
)
from agentvault_registry.storage_backends.discovery import SORTS
from agentvault_registry.storage_backends.federation import PEER_ACTIVE, PEER_DISABLED

MAX_NAME = 100
MAX_URL = 2_048
MAX_TOKEN = 4_096
#: What an admin may set; ``unhealthy`` is the health bookkeeping's to set and clear.
SETTABLE_STATUSES = (PEER_ACTIVE, PEER_DISABLED)


# ----------------------------------------------------------------------------- config


class FederationOptions(Strict):
    #: Encrypts outbound tokens at rest; generated once per data dir in development mode.
    token_key = SecretField(load_default=None, allow_none=True)
    #: Older keys, still able to decrypt tokens stored before a key rotation.
    previous_token_keys = fields.List(SecretField(), load_default=list)
    #: Peers at http:// URLs (tests, a private network); https only otherwise.
    allow_http = fields.Boolean(load_default=False)
    #: Peers at loopback or private addresses; public addresses only otherwise.
    allow_private_peers = fields.Boolean(load_default=False)
    peer_timeout = fields.Float(load_default=2.0, validate=validate.Range(0.05, 60))
    #: The whole fan-out, however many peers: slower peers are reported as timeouts.
    deadline = fields.Float(load_default=2.5, validate=validate.Range(0.05, 120))
    max_response_bytes = fields.Integer(
        load_default=2 * 1024 * 1024, validate=validate.Range(1_024, 64 * 1024 * 1024)
    )
    #: Seconds a peer's answer to one query is reused; 0 turns the cache off.
    cache_ttl = fields.Float(load_default=300.0, validate=validate.Range(min=0))
    #: Consecutive failures after which a peer is skipped ("unhealthy")...
    failure_threshold = fields.Integer(load_default=3, validate=validate.Range(1, 1_000))
    #: ... for this many seconds, then tried again with one query.
    backoff = fields.Float(load_default=60.0, validate=validate.Range(min=0.1))
    #: Drop a peer's agents that lack its valid signature (a peer that signs nothing too).
    require_peer_signatures = fields.Boolean(load_default=True)
    #: Seconds a peer's JWK Set is used before it is fetched again.
    peer_keys_ttl = fields.Integer(load_default=300, validate=validate.Range(0, 86_400))

    @validates_schema
    def _deadline_covers_a_peer(self, data: dict[str, Any], **_: Any) -> None:
        if data["deadline"] < data["peer_timeout"]:
            raise ValidationError("must be at least peer_timeout.", "deadline")


# ------------------------------------------------------------------------ admin bodies


def not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


def _name(**kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(1, MAX_NAME), printable, not_blank], **kwargs)


def _registry_url(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(1, MAX_URL), **kwargs)


def _admin_contact(**kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(1, 254), printable, not_blank], **kwargs)


def _access_token(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=[
            validate.Length(1, MAX_TOKEN),
            validate.Regexp(r"^[\x21-\x7e]+$", error="Printable ASCII without spaces."),
        ],
        load_only=True,
        metadata={"description": "The token the peer issued us; stored encrypted, never shown."},
        **kwargs,
    )


def _spiffe_id() -> fields.String:
    return fields.String(
        allow_none=True,
        validate=[validate.Length(max=2_048), validate.Regexp(r"^spiffe://[^/\s]+(/\S*)?$")],
    )


class PeerCreateSchema(Strict):
    """``POST /admin/federation/peers``."""

    name = _name(required=True)
    registry_url = _registry_url(required=True)
    admin_contact = _admin_contact(required=True)
    federation_access_token = _access_token(required=True)
    spiffe_id = _spiffe_id()
    status = fields.String(load_default=PEER_ACTIVE, validate=validate.OneOf(SETTABLE_STATUSES))


class PeerUpdateSchema(Strict):
    """``PUT /admin/federation/peers/{id}``: the settings given replace the stored ones;
    omitted ones keep their values."""

    name = _name()
    registry_url = _registry_url()
    admin_contact = _admin_contact()
    federation_access_token = _access_token()
    spiffe_id = _spiffe_id()
    status = fields.String(validate=validate.OneOf(SETTABLE_STATUSES))

    @validates_schema
    def _something_to_change(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give at least one setting to change.", "_schema")


class PeerSchema(Schema):
    """A peer as admins see it: never either token."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    registry_url = fields.String(required=True)
    admin_contact = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["active", "disabled", "unhealthy"]})
    spiffe_id = fields.String(allow_none=True)
    last_seen_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_failure_at = fields.DateTime(allow_none=True)
    consecutive_failures = fields.Integer(required=True)
    last_latency_ms = fields.Float(allow_none=True)
    change_cursor = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class PeerIssuedSchema(PeerSchema):
    inbound_token = fields.String(
        required=True,
        metadata={"description": "For the peer's admin to configure; shown only this once."},
    )


class PeerListQuerySchema(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, MAX_PER_PAGE))


class PeerListSchema(Schema):
    peers = fields.List(fields.Nested(PeerSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class PeerHealthSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    registry_url = fields.String(required=True)
    status = fields.String(required=True)
    circuit = fields.String(required=True, metadata={"enum": ["closed", "open", "half_open"]})
    retry_at = fields.DateTime(allow_none=True, metadata={"description": "While open."})
    consecutive_failures = fields.Integer(required=True)
    last_seen_at = fields.DateTime(allow_none=True)
    last_latency_ms = fields.Float(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_failure_at = fields.DateTime(allow_none=True)


class FederationStatusResponseSchema(Schema):
    peers = fields.List(fields.Nested(PeerHealthSchema), required=True)
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Peers by status."},
    )


# --------------------------------------------------------------- between registries


class FederationQuerySchema(Strict):
    """``POST /internal/federation/query``: the product spec's body, plus the full discovery
    ``filters`` and ``sort`` so a federated search means what the local one does."""

    search = fields.String(validate=[validate.Length(max=MAX_TEXT), printable], allow_none=True)
    tags = fields.List(
        fields.String(validate=validate.Length(1, 100)), validate=validate.Length(max=20)
    )
    capabilities = fields.List(
        fields.String(validate=validate.Length(1, 100)), validate=validate.Length(max=20)
    )
    limit = fields.Integer(strict=True, load_default=20, validate=validate.Range(1, MAX_PER_PAGE))
    offset = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, MAX_OFFSET))
    active_only = StrictBoolean(load_default=True)
    sort = fields.String(validate=validate.OneOf(SORTS))
    filters = fields.Nested(FiltersSchema, load_default=dict)

    @pre_load
    def _spec_fields_into_filters(self, data: Any, **_: Any) -> Any:
        """The product spec's top-level ``tags`` and ``capabilities`` (any of them) are
        filters like the others: they are checked by the same rules."""
        if not isinstance(data, dict) or not isinstance(data.get("filters", {}), dict):
            return data
        data = dict(data)
        filters = dict(data.get("filters", {}))
        if "capabilities" in data:
            if "capabilities" in filters:
                raise ValidationError(
                    "Give capabilities at the top or in filters, not both.", "capabilities"
                )
            filters["capabilities"] = data.pop("capabilities")
        if "tags" in data:
            tags = data.pop("tags")
            if not isinstance(tags, list) or not isinstance(filters.get("tags", []), list):
                raise ValidationError("Not a valid list.", "tags")
            filters["tags"] = [*filters.get("tags", []), *tags]
        data["filters"] = filters
        return data

    @validates_schema
    def _relevance_needs_text(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("sort") == "relevance" and not (data.get("search") or "").strip():
            raise ValidationError("Relevance needs a search text.", "sort")

    @post_load
    def _to_search(self, data: dict[str, Any], **_: Any) -> Search:
        filters = dict(data["filters"])
        capabilities = filters.pop("capabilities", {})
        if not data["active_only"] and "status" not in filters:
            filters["status"] = list(CLIENT_STATUSES)
        return Search(
            text=data.get("search") or None,
            filters=filters,
            capabilities_any=capabilities.get("any", ()),
            capabilities_all=capabilities.get("all", ()),
            sort=data.get("sort"),
            per_page=data["limit"],
            offset=data["offset"],
        )


class RegistryRefSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    url = fields.String(required=True, validate=validate.Length(1, MAX_URL))


class StringList(fields.Field):
    """A list of at most ``max_items`` strings of at most ``max_length`` characters, checked
    in one pass: a peer's answer holds thousands of such values, and a ``List`` of
    ``String`` fields with validators costs several times as much per value."""

    def __init__(self, max_items: int, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_items = max_items
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, list) or len(value) > self.max_items:
            raise ValidationError(f"Not a list of at most {self.max_items} strings.")
        for item in value:
            if not isinstance(item, str) or len(item) > self.max_length:
                raise ValidationError(
                    f"Each value must be a string of at most {self.max_length} characters."
                )
        return value


class RemoteA2ASchema(Schema):
    class Meta:
        unknown = EXCLUDE

    protocolBindings = StringList(20, 200)
    streaming = fields.Boolean()
    pushNotifications = fields.Boolean()
    inputModes = StringList(50, 255)
    outputModes = StringList(50, 255)
    securitySchemes = StringList(50, 100)
    extensions = StringList(50, MAX_URL)
    skills = StringList(200, 500)


class RemoteAgentSchema(Schema):
    """An agent as a peer answers it, checked before it reaches our clients: what this
    registry does not know is dropped, and nothing may be huge."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Length(1, 200))
    did = fields.String(required=True, validate=validate.Length(1, 300))
    name = fields.String(required=True, validate=validate.Length(1, 500))
    agentType = fields.String(validate=validate.Length(max=100))
    status = fields.String(validate=validate.Length(max=50))
    description = fields.String(validate=validate.Length(max=10_000))
    humanReadableId = fields.String(validate=validate.Length(max=300))
    apiEndpoints = StringList(50, MAX_URL)
    capabilities = StringList(200, 200)
    tags = StringList(200, 200)
    pricing = fields.Dict(allow_none=True)
    verified = fields.Boolean()
    createdAt = fields.String(validate=validate.Length(max=64))
    updatedAt = fields.String(validate=validate.Length(max=64))
    a2a = fields.Nested(RemoteA2ASchema)


class FederationAnswerSchema(Schema):
    """What ``POST /internal/federation/query`` answers, and what we accept from a peer."""

    class Meta:
        unknown = EXCLUDE

    agents = fields.List(
        fields.Nested(RemoteAgentSchema), required=True, validate=validate.Length(max=MAX_PER_PAGE)
    )
    total = fields.Integer(validate=validate.Range(min=0))
    total_exact = fields.Boolean()
    registry = fields.Nested(RegistryRefSchema, required=True)


class FederationAnswerDocSchema(FederationAnswerSchema):
    """The same answer as the OpenAPI document shows it: our agents in full."""

    agents = fields.List(fields.Nested(DiscoveredAgentSchema), required=True)


class PeerChangesQuerySchema(Strict):
    since = fields.String(load_default="0", validate=validate.Regexp(r"^\d{1,18}$"))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class PeerChangeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    seq = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    type = fields.String(required=True, validate=validate.OneOf(["created", "updated", "deleted"]))
    agentId = fields.String(required=True, validate=validate.Length(1, 200))
    occurredAt = fields.String(validate=validate.Length(max=64))
    agent = fields.Dict(required=True)


class PeerChangesSchema(Schema):
    """``GET /internal/federation/changes``: the agents change feed, for peers to mirror."""

    class Meta:
        unknown = EXCLUDE

    changes = fields.List(fields.Nested(PeerChangeSchema), required=True)
    next_cursor = fields.String(required=True, validate=validate.Regexp(r"^\d{1,18}$"))
    registry = fields.Nested(RegistryRefSchema, required=True)
