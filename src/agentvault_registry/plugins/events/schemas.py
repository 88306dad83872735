"""The events plugin's config and the query of the stream endpoint."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from agentvault_registry.plugins.agents.schemas import Strict

# ----------------------------------------------------------------------------- config


class EventsOptions(Strict):
    #: Seconds between two reads of the activity log while someone listens; entries written
    #: by another process arrive this late at most (this process's own ones at once).
    poll_interval = fields.Float(load_default=0.25, validate=validate.Range(0.01, 10))
    #: Entries one subscriber may have waiting; a client that falls further behind is dropped.
    buffer_size = fields.Integer(strict=True, load_default=256, validate=validate.Range(1, 100_000))
    #: Streams open at once in one process; beyond it, 503 with Retry-After.
    max_subscribers = fields.Integer(
        strict=True, load_default=2000, validate=validate.Range(1, 1_000_000)
    )
    #: Streams one user (or agent) may have open at once in one process; beyond it, 429.
    max_per_user = fields.Integer(strict=True, load_default=20, validate=validate.Range(1, 10_000))
    #: Seconds between two SSE comments that keep idle connections alive through proxies.
    heartbeat_interval = fields.Float(load_default=15.0, validate=validate.Range(0.05, 3_600))


# ---------------------------------------------------------------------------- the API

_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?")
MAX_VALUES = 50


def _values(field_name: str, values: list[str]) -> list[str]:
    if len(values) > MAX_VALUES:
        raise ValidationError(f"At most {MAX_VALUES} values.", field_name)
    return values


class StreamQuerySchema(Strict):
    """``types`` and ``capability`` may repeat; ``types`` also takes comma-separated lists."""

    types = fields.List(
        fields.String(validate=validate.Length(1, 100)),
        load_default=list,
        metadata={"description": "Actions (`agent.created`) or prefixes ending in `.` (`agent.`)."},
    )
    capability = fields.List(
        fields.String(validate=validate.Length(1, 200)),
        load_default=list,
        metadata={"description": "Only agent events whose agent has this capability."},
    )
    last_event_id = fields.Integer(
        strict=False,
        validate=validate.Range(min=0),
        metadata={"description": "Resume after this seq (as the `Last-Event-ID` header)."},
    )

    @validates("types")
    def _valid_types(self, value: list[str], **_: Any) -> None:
        _values("types", value)
        bad = [action for action in value if not _ACTION.fullmatch(action)]
        if bad:
            raise ValidationError(f"Not an action or prefix: {', '.join(bad)}.")

    @validates("capability")
    def _valid_capabilities(self, value: list[str], **_: Any) -> None:
        _values("capability", value)


def stream_query(query: Any, last_event_id_header: str | None) -> dict[str, Any]:
    """The multi-valued query as the schema loads it: repeated and comma-separated
    ``types`` flattened, the ``Last-Event-ID`` header standing in for ``last_event_id``."""
    document: dict[str, Any] = {}
    for name in query:
        if name in ("types", "capability"):
            values = query.getall(name)
            if name == "types":
                values = [part.strip() for value in values for part in value.split(",")]
            document[name] = values
        else:
            document[name] = query[name]
    if last_event_id_header is not None:
        document["last_event_id"] = last_event_id_header.strip()
    return document


class StreamEventSchema(Schema):
    """One event: an activity log entry (SSE ``data:``, or a WebSocket text frame)."""

    seq = fields.Integer(required=True, metadata={"description": "Also the SSE `id:`."})
    action = fields.String(required=True)
    occurred_at = fields.String(required=True, metadata={"format": "date-time"})
    actor_kind = fields.String(required=True)
    actor_id = fields.String(allow_none=True)
    subject_type = fields.String(required=True)
    subject_id = fields.String(allow_none=True)
    details = fields.Dict(required=True)
