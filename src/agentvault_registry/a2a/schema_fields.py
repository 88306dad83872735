"""The base schema and fields the card schemas share, as strict as proto3 JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

NOT_EMPTY = "Must not be empty."
AT_LEAST_ONE = "Must hold at least one item."
OBJECT_EXPECTED = {"type": "Must be a JSON object."}


class KeepUnknown(Schema):
    """An A2A message: fields it does not define are kept, for the normalizer to report."""

    error_messages = OBJECT_EXPECTED

    class Meta:
        unknown = INCLUDE


class StrictBoolean(fields.Boolean):
    """A JSON ``true`` or ``false`` only: marshmallow's Boolean would also take ``"yes"`` or
    ``1``, which proto3 JSON refuses and a card author may not have meant."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class NamedMap(fields.Field):
    """A JSON object of name -> value, like proto ``map<string, ...>``.

    Errors are keyed by the entry's name (``securitySchemes.bearer.scheme``), not by
    marshmallow's ``{"bearer": {"value": ...}}``, so field paths read like the document.
    """

    default_error_messages = {"invalid": "Not a valid object."}

    def __init__(self, values: fields.Field, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value_field = values

    def _bind_to_schema(self, field_name: str, schema: Any) -> None:
        super()._bind_to_schema(field_name, schema)
        self.value_field._bind_to_schema(field_name, schema)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if not isinstance(value, Mapping):
            raise self.make_error("invalid")
        loaded, errors = {}, {}
        for name, item in value.items():
            try:
                loaded[name] = self.value_field.deserialize(item, name, value, **kwargs)
            except ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise ValidationError(errors)
        return loaded

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        dump = self.value_field._serialize
        return {name: dump(item, name, value) for name, item in value.items()}


def required_text(*, validate_also: Any = None) -> fields.String:
    """A proto REQUIRED string: proto3 cannot tell ``""`` from absent, so neither is allowed."""
    validators = [validate.Length(min=1, error=NOT_EMPTY)]
    if validate_also is not None:
        validators.append(validate_also)
    return fields.String(required=True, validate=validators)


def text_list(*, required: bool = False) -> fields.List:
    """A repeated string; a REQUIRED one must hold at least one item, for the same reason."""
    item = fields.String(validate=validate.Length(min=1, error=NOT_EMPTY))
    if required:
        return fields.List(item, required=True, validate=validate.Length(min=1, error=AT_LEAST_ONE))
    return fields.List(item)
