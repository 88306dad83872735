"""The A2A 1.0 ``AgentCard`` as marshmallow schemas, field for field after ``lf.a2a.v1``.

Names are proto3 JSON's lowerCamelCase. ``REQUIRED`` strings and repeated fields must be
non-empty, since proto3 cannot tell them from absent ones. Fields A2A does not define are
kept (``INCLUDE``): extensions and vendor data travel with the card, and the normalizer
reports them as warnings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from agentvault_registry.a2a.schema_fields import (
    AT_LEAST_ONE,
    KeepUnknown,
    NamedMap,
    StrictBoolean,
    required_text,
    text_list,
)
from agentvault_registry.a2a.security_schemas import (
    SecurityRequirementSchema,
    SecuritySchemeSchema,
)
from agentvault_registry.a2a.urls import interface_url_problem, link_url_problem


def _checked_by(problem_of: Any) -> Any:
    def check(url: str) -> None:
        problem = problem_of(url)
        if problem is not None:
            raise ValidationError(problem)

    return check


def link_url(**kwargs: Any) -> fields.String:
    return fields.String(validate=_checked_by(link_url_problem), **kwargs)


class AgentInterfaceSchema(KeepUnknown):
    url = required_text(validate_also=_checked_by(interface_url_problem))
    # An open string: the spec names three core bindings and allows others.
    protocolBinding = required_text()
    tenant = fields.String()
    protocolVersion = required_text()


class AgentProviderSchema(KeepUnknown):
    url = required_text(validate_also=_checked_by(link_url_problem))
    organization = required_text()


class AgentExtensionSchema(KeepUnknown):
    uri = required_text()
    description = fields.String()
    required = StrictBoolean()
    params = fields.Dict()


class AgentCapabilitiesSchema(KeepUnknown):
    streaming = StrictBoolean()
    pushNotifications = StrictBoolean()
    extensions = fields.List(fields.Nested(AgentExtensionSchema))
    extendedAgentCard = StrictBoolean()


class AgentSkillSchema(KeepUnknown):
    id = required_text()
    name = required_text()
    description = required_text()
    tags = text_list(required=True)
    examples = fields.List(fields.String())
    inputModes = text_list()
    outputModes = text_list()
    securityRequirements = fields.List(fields.Nested(SecurityRequirementSchema))


class AgentCardSignatureSchema(KeepUnknown):
    protected = required_text()
    signature = required_text()
    header = fields.Dict()


class AgentCardSchema(KeepUnknown):
    name = required_text()
    description = required_text()
    supportedInterfaces = fields.List(
        fields.Nested(AgentInterfaceSchema),
        required=True,
        validate=validate.Length(min=1, error=AT_LEAST_ONE),
        error_messages={"required": "Missing: a card needs supportedInterfaces (or url)."},
    )
    provider = fields.Nested(AgentProviderSchema)
    version = required_text()
    documentationUrl = link_url()
    capabilities = fields.Nested(AgentCapabilitiesSchema, required=True)
    securitySchemes = NamedMap(fields.Nested(SecuritySchemeSchema))
    securityRequirements = fields.List(fields.Nested(SecurityRequirementSchema))
    defaultInputModes = text_list(required=True)
    defaultOutputModes = text_list(required=True)
    skills = fields.List(
        fields.Nested(AgentSkillSchema),
        required=True,
        validate=validate.Length(min=1, error="A card needs at least one skill."),
    )
    signatures = fields.List(fields.Nested(AgentCardSignatureSchema))
    iconUrl = link_url()

    @validates_schema(skip_on_field_errors=True)
    def _consistent(self, card: dict[str, Any], **_: Any) -> None:
        errors = {**_duplicate_skill_ids(card), **_undeclared_schemes(card)}
        if errors:
            raise ValidationError(errors)


def _duplicate_skill_ids(card: dict[str, Any]) -> dict[str, Any]:
    first_index: dict[str, int] = {}
    errors: dict[str, Any] = {}
    for index, skill in enumerate(card["skills"]):
        if skill["id"] in first_index:
            errors[f"skills.{index}.id"] = [f"Repeats the id of skills.{first_index[skill['id']]}."]
        first_index.setdefault(skill["id"], index)
    return errors


def _undeclared_schemes(card: dict[str, Any]) -> dict[str, Any]:
    """Requirements must name schemes the card declares, or no client can satisfy them."""
    declared = set(card.get("securitySchemes", {}))
    errors: dict[str, Any] = {}
    places = [("securityRequirements", card.get("securityRequirements", []))]
    places += [
        (f"skills.{index}.securityRequirements", skill.get("securityRequirements", []))
        for index, skill in enumerate(card["skills"])
    ]
    for path, requirements in places:
        for index, requirement in enumerate(requirements):
            for name in requirement.get("schemes", {}):
                if name not in declared:
                    errors[f"{path}.{index}.schemes.{name}"] = [
                        "Names a scheme that securitySchemes does not declare."
                    ]
    return errors


def nested_schema(field: fields.Field) -> Schema | None:
    """The schema of the objects ``field`` holds (directly, in a list or in a map), or None."""
    if isinstance(field, fields.List):
        field = field.inner
    elif isinstance(field, NamedMap):
        field = field.value_field
    return field.schema if isinstance(field, fields.Nested) else None


def known_objects(
    schema: Schema, data: Any, path: str = ""
) -> Iterator[tuple[Schema, dict[str, Any], str]]:
    """Each JSON object of ``data`` that ``schema`` describes, parents first, with its path.

    A generator: a caller may rename keys of an object before its children are visited.
    """
    if not isinstance(data, dict):
        return
    yield schema, data, path
    prefix = f"{path}." if path else ""
    for name, field in schema.fields.items():
        child_schema = nested_schema(field)
        value = data.get(name)
        if child_schema is None or value is None:
            continue
        if isinstance(field, fields.Nested):
            yield from known_objects(child_schema, value, f"{prefix}{name}")
        elif isinstance(field, fields.List) and isinstance(value, list):
            for index, item in enumerate(value):
                yield from known_objects(child_schema, item, f"{prefix}{name}.{index}")
        elif isinstance(field, NamedMap) and isinstance(value, dict):
            for key, item in value.items():
                yield from known_objects(child_schema, item, f"{prefix}{name}.{key}")


def unknown_fields(card: dict[str, Any]) -> list[str]:
    """Paths of the fields A2A 1.0 does not define, wherever in the card they are."""
    return [
        f"{path}.{name}" if path else name
        for schema, obj, path in known_objects(AgentCardSchema(), card)
        for name in obj
        if name not in schema.fields
    ]
