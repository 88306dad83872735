"""Logging: every record carries the request id (and trace id) of the request it belongs to,
secrets are masked (:mod:`.redaction`), and each request leaves one access record.

``[logging] format = "json"`` writes one JSON object per line for log shippers; ``"text"`` a
readable line. :class:`AccessLogger` is aiohttp's access logger for ``serve`` and for a
gunicorn app factory (``web.AppRunner(app, access_log_class=AccessLogger)``).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Mapping
from typing import IO, Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from agentvault_registry.core.appkeys import IDENTITY, REQUEST_ID
from agentvault_registry.core.client_ip import client_ip
from agentvault_registry.core.redaction import RedactionFilter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
#: Set by the tracing middleware while a request's span is current.
trace_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
ACCESS_LOGGER = "aiohttp.access"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # The access record names its request itself: it is written after the request ended.
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "trace_id"):
            record.trace_id = trace_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "pid": record.process,
            "message": record.getMessage(),
        }
        trace_id = getattr(record, "trace_id", None)
        if trace_id:
            entry["trace_id"] = trace_id
        entry.update(getattr(record, "access", {}))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class AccessLogger(AbstractAccessLogger):
    """One record per request: method, route template, path (no query string), status,
    latency, request id, the caller's id when the request resolved it, client, user agent."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        identity = request.get(IDENTITY)
        fields = {
            "method": request.method,
            "route": route_template(request),
            "path": request.path,
            "status": response.status,
            "latency_ms": round(time * 1000, 3),
            "user_id": identity.subject if identity is not None else None,
            "identity_kind": identity.kind if identity is not None else None,
            # Behind trusted proxies, the client they forwarded for, as rate limits see it.
            "client": client_ip(request) if isinstance(request, web.Request) else request.remote,
            "user_agent": request.headers.get("User-Agent"),
        }
        self.logger.info(
            '%s "%s %s" %s %.1fms user=%s "%s"',
            fields["client"],
            fields["method"],
            fields["path"],
            fields["status"],
            fields["latency_ms"],
            fields["user_id"] or "-",
            fields["user_agent"] or "-",
            extra={
                "access": fields,
                "request_id": request.get(REQUEST_ID, "-"),
                "trace_id": None,
            },
        )


def route_template(request: web.BaseRequest) -> str | None:
    match_info = getattr(request, "match_info", None)
    resource = match_info.route.resource if match_info is not None else None
    return resource.canonical if resource is not None else None


def configure_logging(
    level: str = "INFO",
    fmt: str = "text",
    *,
    levels: Mapping[str, str] | None = None,
    stream: IO[str] | None = None,
) -> None:
    """Send every record, masked, to ``stream`` (stderr) as ``fmt``; ``levels`` sets the
    level of single loggers (``{"aiohttp.access": "WARNING"}``)."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, logger_level in (levels or {}).items():
        logging.getLogger(name).setLevel(logger_level)
