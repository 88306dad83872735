"""Marshmallow schemas of the activity plugin: the feeds' queries and the answers."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

#: The most entries one page holds.
MAX_LIMIT = 100
#: An action, or a prefix of actions ending in ``.``.
_ACTION = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*\.?$")


def encode_cursor(before_seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": before_seq}).encode()).decode()


class Cursor(fields.String):
    """The opaque position of the next page: the entries before a ``seq``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            position = json.loads(base64.urlsafe_b64decode(text.encode()))
        except (ValueError, binascii.Error):
            position = None
        before = position.get("before") if isinstance(position, dict) else None
        if not isinstance(before, int) or isinstance(before, bool) or before < 1:
            raise ValidationError("Not a cursor this registry gave out.")
        return before


class Strict(Schema):
    class Meta:
        unknown = RAISE


class OwnActivityQuerySchema(Strict):
    cursor = Cursor(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    action = fields.List(
        fields.String(validate=validate.Regexp(_ACTION)),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "Repeatable; a value ending in `.` matches a prefix."},
    )
    subject_type = fields.String(load_default=None, validate=validate.Length(1, 64))
    subject_id = fields.String(load_default=None, validate=validate.Length(1, 256))
    since = fields.AwareDateTime(load_default=None, format="iso", default_timezone=None)
    until = fields.AwareDateTime(load_default=None, format="iso", default_timezone=None)


class ActivityQuerySchema(OwnActivityQuerySchema):
    actor_id = fields.String(load_default=None, validate=validate.Length(1, 256))
    owner_id = fields.String(load_default=None, validate=validate.Length(1, 256))


class ActivityEntrySchema(Schema):
    seq = fields.Integer(required=True)
    action = fields.String(required=True)
    actor_kind = fields.String(required=True)
    actor_id = fields.String(allow_none=True)
    subject_type = fields.String(required=True)
    subject_id = fields.String(allow_none=True)
    owner_id = fields.String(allow_none=True)
    occurred_at = fields.DateTime(required=True)
    request_id = fields.String(allow_none=True)
    details = fields.Dict(required=True)


class ActivityPageSchema(Schema):
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Opaque; pass as `cursor` for the next page."}
    )
    limit = fields.Integer(required=True)


class ActivityListSchema(Schema):
    activity = fields.List(fields.Nested(ActivityEntrySchema), required=True)
    pagination = fields.Nested(ActivityPageSchema, required=True)


class DailyCountSchema(Schema):
    day = fields.Date(required=True)
    count = fields.Integer(required=True)


class UsageSchema(Schema):
    api_requests = fields.List(fields.Nested(DailyCountSchema), required=True)
    api_requests_total = fields.Integer(required=True)
    searches = fields.List(
        fields.Nested(DailyCountSchema),
        required=True,
        metadata={"description": "Discovery searches I made (signed in, by key or agent)."},
    )
    searches_total = fields.Integer(required=True)
    days = fields.Integer(required=True)


class OwnActivitySchema(ActivityListSchema):
    usage = fields.Nested(UsageSchema, required=True)


class StatsQuerySchema(Strict):
    days = fields.Integer(load_default=30, validate=validate.Range(1, 365))


class StatsPeerSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    last_seen_at = fields.DateTime(allow_none=True)
    last_latency_ms = fields.Float(allow_none=True)
    last_error = fields.String(allow_none=True)
    consecutive_failures = fields.Integer(required=True)


class TopCapabilitySchema(Schema):
    capability = fields.String(required=True)
    agents = fields.Integer(required=True)


class StatsSchema(Schema):
    days = fields.Integer(required=True)
    since = fields.Date(required=True)
    agents_by_type = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    agents_by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    agents_created = fields.List(fields.Nested(DailyCountSchema), required=True)
    agents_deleted = fields.List(fields.Nested(DailyCountSchema), required=True)
    searches = fields.List(fields.Nested(DailyCountSchema), required=True)
    top_capabilities = fields.List(fields.Nested(TopCapabilitySchema), required=True)
    federation = fields.List(fields.Nested(StatsPeerSchema), required=True)
