"""Request bodies and query strings of the discovery endpoints (answers: responses.py).

Both the query string of ``GET /discovery/agents`` and the body of ``POST /discovery/search``
load into one :class:`Search`: the text, the filters (each a group of index terms), the sort
and the page. Filter values are normalized here (binding and scheme names to their canonical
spelling, media types and currencies to their case), so the index sees one spelling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from agentvault_registry.a2a.bindings import canonical_binding
from agentvault_registry.a2a.derive import SECURITY_SCHEME_TYPES
from agentvault_registry.a2a.schema_fields import StrictBoolean
from agentvault_registry.plugins.agents.schemas import (
    CLIENT_STATUSES,
    AgentSchema,
    Strict,
    printable,
)
from agentvault_registry.storage_backends.agents import (
    ACTIVE,
    HEALTH_STATUSES,
    SIGNATURE_STATUSES,
)
from agentvault_registry.storage_backends.discovery import SORTS, media_type_term, term

MAX_TEXT = 256
MAX_CAPABILITIES = 20
MAX_VALUES = 20
MAX_PER_PAGE = 100
MAX_CURSOR = 1_500
#: Deeper than this by page number is refused: cursors page at the same cost at any depth.
MAX_OFFSET = 10_000
SCHEME_NAMES = tuple(SECURITY_SCHEME_TYPES.values())
#: Fields a result may be narrowed to with ``fields=``.
RESULT_FIELDS = (
    *(item.data_key or name for name, item in AgentSchema().fields.items()),
    "a2a",
    "is_federated",
    "registry_url",
    "origin_registry_name",
    "explain",
)


def _binding(value: str) -> str:
    # A "+" in a query string arrives as a space ("HTTP JSON" is HTTP+JSON); core bindings in
    # any known spelling become the spelling cards are normalized to, custom ones stay as sent.
    return canonical_binding(value.strip().replace(" ", "+"))


def _scheme(value: str) -> str:
    for name in SCHEME_NAMES:
        if name.lower() == value.strip().lower():
            return name
    raise ValidationError(f"Not a security scheme type; one of {', '.join(SCHEME_NAMES)}.")


def _media_type(value: str) -> str:
    """A media type as the index keeps it (see :func:`media_type_term`); a "+" of the type
    (``application/ld+json``) may arrive from a query string as a space."""
    essence, separator, parameters = value.partition(";")
    if "/" not in essence:
        raise ValidationError("Not a media type (type/subtype).")
    return media_type_term(essence.strip().replace(" ", "+") + separator + parameters)


@dataclass(frozen=True)
class ListFilter:
    """A filter of one or more values, any of which an agent may have."""

    kind: str
    max_length: int = 100
    normalize: Callable[[str], str] = str.strip


@dataclass(frozen=True)
class FlagFilter:
    """A yes/no filter."""

    kind: str


@dataclass(frozen=True)
class StatusFlag(FlagFilter):
    """A yes/no filter over a status: yes is one status of ``kind``, no every other one."""

    yes: str = ""
    others: tuple[str, ...] = ()

    def values(self, wanted: bool) -> tuple[str, ...]:
        return (self.yes,) if wanted else self.others


HEALTHY = StatusFlag("health", "healthy", tuple(s for s in HEALTH_STATUSES if s != "healthy"))
SIGNED = StatusFlag("signature", "valid", tuple(s for s in SIGNATURE_STATUSES if s != "valid"))
VERIFIED = StatusFlag("verified", "true", ("false",))
#: What a search may prefer (``prefer=``): agents with it rank before those without.
PREFERENCES: Mapping[str, StatusFlag] = {
    "healthy": HEALTHY,
    "signed": SIGNED,
    "verified": VERIFIED,
}


#: Every filter by its API name, and the index terms it becomes.
FILTERS: Mapping[str, ListFilter | FlagFilter] = {
    "agent_type": ListFilter("agent_type", 64),
    "status": ListFilter("status", 20),
    "tags": ListFilter("tag"),
    "developer": ListFilter("developer", 64),
    "verified": FlagFilter("verified"),
    "healthy": HEALTHY,
    "signed": SIGNED,
    "has_pricing": FlagFilter("pricing"),
    "currency": ListFilter("currency", 10, lambda value: value.strip().upper()),
    "protocol_binding": ListFilter("binding", 64, _binding),
    "streaming": FlagFilter("streaming"),
    "push_notifications": FlagFilter("push_notifications"),
    "input_mode": ListFilter("input_mode", 255, _media_type),
    "output_mode": ListFilter("output_mode", 255, _media_type),
    "security_scheme": ListFilter("security_scheme", 20, _scheme),
    "extension": ListFilter("extension", 500),
}


@dataclass(frozen=True)
class Search:
    """One discovery search, however it was asked."""

    text: str | None = None
    #: API filter name -> list of values, or a bool for flags; capabilities separately.
    filters: Mapping[str, Any] = field(default_factory=dict)
    capabilities_any: tuple[str, ...] = ()
    capabilities_all: tuple[str, ...] = ()
    sort: str | None = None
    page: int = 1
    per_page: int = 20
    cursor: str | None = None
    #: Matches skipped before the page, beyond the page number (peers ask by offset).
    offset: int = 0
    fields: tuple[str, ...] | None = None
    include_federated: bool = False
    facets: bool = False
    #: Names of :data:`PREFERENCES`, the first weighing most.
    prefer: tuple[str, ...] = ()
    #: Each result says why it matched.
    explain: bool = False

    @property
    def effective_sort(self) -> str:
        return self.sort or ("relevance" if self.text else "created_at")

    def term_groups(self) -> tuple[tuple[str, ...], ...]:
        """The filters as index term groups: one group per filter (any of its values), one
        per capability that must all be present; status ``active`` unless asked otherwise."""
        groups = [tuple(term("capability", value) for value in self.capabilities_any)]
        groups += [(term("capability", value),) for value in self.capabilities_all]
        statuses = self.filters.get("status") or [ACTIVE]
        groups.append(tuple(term("status", value) for value in statuses))
        for name, value in self.filters.items():
            spec = FILTERS[name]
            if isinstance(spec, StatusFlag):
                groups.append(tuple(term(spec.kind, item) for item in spec.values(value)))
            elif name != "status":
                values = [value] if isinstance(spec, FlagFilter) else value
                groups.append(tuple(term(spec.kind, item) for item in values))
        return tuple(tuple(dict.fromkeys(group)) for group in groups if group)

    def remote_filters(self) -> dict[str, Any]:
        """The filters as ``POST /discovery/search`` spells them (for peers)."""
        capabilities = {}
        if self.capabilities_any:
            capabilities["any"] = list(self.capabilities_any)
        if self.capabilities_all:
            capabilities["all"] = list(self.capabilities_all)
        return {**self.filters, **({"capabilities": capabilities} if capabilities else {})}


def _text_field() -> fields.String:
    return fields.String(validate=[validate.Length(max=MAX_TEXT), printable])


def _checked_values(name: str, values: list[str]) -> list[str]:
    spec = FILTERS[name]
    assert isinstance(spec, ListFilter)
    if len(values) > MAX_VALUES:
        raise ValidationError({name: [f"At most {MAX_VALUES} values."]})
    checked = []
    for value in values:
        if not value.strip() or len(value) > spec.max_length:
            raise ValidationError(
                {name: [f"Each value must be 1 to {spec.max_length} characters."]}
            )
        try:
            printable(value)
            normalized = spec.normalize(value)
        except ValidationError as exc:
            raise ValidationError({name: exc.messages}) from None
        if name == "status" and normalized not in CLIENT_STATUSES:
            raise ValidationError({name: [f"One of {', '.join(CLIENT_STATUSES)}."]})
        checked.append(normalized)
    return list(dict.fromkeys(checked))


def _checked_capabilities(name: str, values: list[str]) -> tuple[str, ...]:
    if len(values) > MAX_CAPABILITIES:
        raise ValidationError({name: [f"At most {MAX_CAPABILITIES} capabilities."]})
    for value in values:
        if not value.strip() or len(value) > 100:
            raise ValidationError({name: ["Each capability must be 1 to 100 characters."]})
        try:
            printable(value)
        except ValidationError as exc:
            raise ValidationError({name: exc.messages}) from None
    return tuple(dict.fromkeys(value.strip() for value in values))


def _checked_preferences(values: list[str]) -> tuple[str, ...]:
    unknown = [value for value in values if value.strip() not in PREFERENCES]
    if unknown:
        raise ValidationError(
            {"prefer": [f"Unknown: {', '.join(unknown[:3])}; one of {', '.join(PREFERENCES)}."]}
        )
    return tuple(dict.fromkeys(value.strip() for value in values))


def _checked_fields(values: list[str]) -> tuple[str, ...]:
    if not values:
        raise ValidationError({"fields": ["Name at least one field, or leave fields out."]})
    unknown = [value for value in values if value not in RESULT_FIELDS]
    if unknown:
        raise ValidationError({"fields": [f"Unknown field(s): {', '.join(unknown[:5])}."]})
    return tuple(dict.fromkeys(values))


class PagingMixin(Schema):
    sort = fields.String(validate=validate.OneOf(SORTS))
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_OFFSET))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, MAX_PER_PAGE))
    # A name cursor holds a name of up to 200 characters of up to 4 bytes, base64-encoded.
    cursor = fields.String(validate=validate.Length(max=MAX_CURSOR))
    include_federated = fields.Boolean(load_default=False)
    facets = fields.Boolean(load_default=False)

    @validates_schema
    def _consistent_paging(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("sort") == "relevance" and not data.get("q", "").strip():
            raise ValidationError({"sort": ["Relevance needs a search text (q)."]})
        if (data.get("page", 1) - 1) * data.get("per_page", 20) > MAX_OFFSET:
            raise ValidationError(
                {"page": [f"Pages deeper than {MAX_OFFSET} results need the cursor."]}
            )
        if "cursor" in data and data.get("page", 1) != 1:
            raise ValidationError({"page": ["Give either a page number or a cursor."]})


def _comma_list(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=2_000), **kwargs)


def _split(text: str) -> list[str]:
    return [item for item in text.split(",") if item.strip()]


def _filter_fields(
    list_field: Callable[[], fields.Field], flag_field: Callable[[], fields.Field]
) -> dict[str, fields.Field]:
    return {
        name: flag_field() if isinstance(spec, FlagFilter) else list_field()
        for name, spec in FILTERS.items()
    }


class _DiscoveryQueryBase(PagingMixin, Strict):
    q = _text_field()
    capabilities = _comma_list()
    capability_match = fields.String(load_default="any", validate=validate.OneOf(["any", "all"]))
    fields_ = fields.String(data_key="fields", validate=validate.Length(max=1_000))
    prefer = _comma_list(
        metadata={"description": f"Rank first what has these: {', '.join(PREFERENCES)}."}
    )
    explain = fields.Boolean(load_default=False)

    @post_load
    def _to_search(self, data: dict[str, Any], **_: Any) -> Search:
        return search_from_query(data)


def search_from_query(data: dict[str, Any]) -> Search:
    filters: dict[str, Any] = {}
    for name, spec in FILTERS.items():
        if name in data:
            value = data[name]
            filters[name] = (
                value if isinstance(spec, FlagFilter) else _checked_values(name, _split(value))
            )
    capabilities = _checked_capabilities("capabilities", _split(data.get("capabilities", "")))
    match_all = data["capability_match"] == "all"
    return Search(
        text=data.get("q") or None,
        filters={name: value for name, value in filters.items() if value != []},
        capabilities_any=() if match_all else capabilities,
        capabilities_all=capabilities if match_all else (),
        sort=data.get("sort"),
        page=data.get("page", 1),
        per_page=data.get("per_page", 20),
        cursor=data.get("cursor"),
        fields=_checked_fields(_split(data["fields_"])) if "fields_" in data else None,
        include_federated=data.get("include_federated", False),
        facets=data.get("facets", False),
        prefer=_checked_preferences(_split(data.get("prefer", ""))),
        explain=data.get("explain", False),
    )


#: ``GET /discovery/agents``: lists are comma-separated; any value of a list matches, except
#: capabilities with ``capability_match=all``.
DiscoveryQuerySchema = type(
    "DiscoveryQuerySchema", (_DiscoveryQueryBase,), _filter_fields(_comma_list, fields.Boolean)
)


class CapabilityMatchSchema(Strict):
    any = fields.List(fields.String(), validate=validate.Length(max=MAX_CAPABILITIES))
    all = fields.List(fields.String(), validate=validate.Length(max=MAX_CAPABILITIES))


class _FiltersBase(Strict):
    capabilities = fields.Raw()

    @post_load
    def _checked(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        for name, value in data.items():
            if name == "capabilities":
                checked[name] = _capability_groups(value)
            elif isinstance(FILTERS[name], FlagFilter):
                checked[name] = value
            elif value:
                checked[name] = _checked_values(name, value)
        return checked


def _value_list() -> fields.List:
    return fields.List(fields.String(), validate=validate.Length(max=MAX_VALUES))


#: The ``filters`` object of ``POST /discovery/search``: lists match any value;
#: ``capabilities`` is a list (any) or ``{"any": [...], "all": [...]}``.
FiltersSchema = type("FiltersSchema", (_FiltersBase,), _filter_fields(_value_list, StrictBoolean))


def _capability_groups(value: Any) -> dict[str, tuple[str, ...]]:
    if isinstance(value, list):
        value = {"any": value}
    if not isinstance(value, dict):
        raise ValidationError(
            {"capabilities": ['A list, or an object {"any": [...], "all": [...]}.']}
        )
    try:
        loaded = CapabilityMatchSchema().load(value)
    except ValidationError as exc:
        raise ValidationError({"capabilities": exc.messages}) from None
    if sum(len(values) for values in loaded.values()) > MAX_CAPABILITIES:
        raise ValidationError(
            {"capabilities": [f"At most {MAX_CAPABILITIES} capabilities in all."]}
        )
    return {
        mode: _checked_capabilities(f"capabilities.{mode}", values)
        for mode, values in loaded.items()
    }


class SearchBodySchema(PagingMixin, Strict):
    """``POST /discovery/search``: the same search as a JSON body."""

    q = _text_field()
    filters = fields.Nested(FiltersSchema, load_default=dict)
    # JSON has types: a number is no page and "yes" is no boolean.
    page = fields.Integer(strict=True, load_default=1, validate=validate.Range(1, MAX_OFFSET))
    per_page = fields.Integer(
        strict=True, load_default=20, validate=validate.Range(1, MAX_PER_PAGE)
    )
    include_federated = StrictBoolean(load_default=False)
    facets = StrictBoolean(load_default=False)
    fields_ = fields.List(
        fields.String(), data_key="fields", validate=validate.Length(max=len(RESULT_FIELDS))
    )
    prefer = fields.List(fields.String(), validate=validate.Length(max=len(PREFERENCES)))
    explain = StrictBoolean(load_default=False)

    @post_load
    def _to_search(self, data: dict[str, Any], **_: Any) -> Search:
        filters = dict(data["filters"])
        capabilities = filters.pop("capabilities", {})
        return Search(
            text=data.get("q") or None,
            filters=filters,
            capabilities_any=capabilities.get("any", ()),
            capabilities_all=capabilities.get("all", ()),
            sort=data.get("sort"),
            page=data["page"],
            per_page=data["per_page"],
            cursor=data.get("cursor"),
            fields=_checked_fields(data["fields_"]) if "fields_" in data else None,
            include_federated=data["include_federated"],
            facets=data["facets"],
            prefer=_checked_preferences(data.get("prefer", [])),
            explain=data["explain"],
        )


class _CapabilitiesQueryBase(Strict):
    q = _text_field()
    capabilities = _comma_list()
    capability_match = fields.String(load_default="any", validate=validate.OneOf(["any", "all"]))
    limit = fields.Integer(load_default=1_000, validate=validate.Range(1, 10_000))

    @post_load
    def _to_search(self, data: dict[str, Any], **_: Any) -> tuple[Search, int]:
        return search_from_query(data), data["limit"]


#: ``GET /discovery/capabilities``: the search filters narrow which agents are counted.
CapabilitiesQuerySchema = type(
    "CapabilitiesQuerySchema",
    (_CapabilitiesQueryBase,),
    _filter_fields(_comma_list, fields.Boolean),
)


class DiscoveryOptionsSchema(Strict):
    """``[plugins.discovery]``: see the plugin's docstring."""

    cache_ttl = fields.Float(load_default=30.0, validate=validate.Range(0, 3600))
    count_limit = fields.Integer(load_default=1_000, validate=validate.Range(1, 100_000))
    rank_limit = fields.Integer(load_default=1_000, validate=validate.Range(1, 100_000))
    facet_sample_limit = fields.Integer(load_default=2_000, validate=validate.Range(1, 100_000))


class TemplatesQuerySchema(Strict):
    agent_type = fields.String(validate=[validate.Length(1, 64), printable])
