"""OpenTelemetry tracing: a server span per request, named after its route template."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
from aiohttp import web
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentvault_registry import hookimpl
from agentvault_registry.core.app import create_app
from agentvault_registry.core.errors import ConfigError
from agentvault_registry.core.logs import configure_logging


class LogsInside:
    @hookimpl
    def register_routes(self, settings):
        async def logs(request):
            logging.getLogger("avreg.traced").warning("inside the span")
            return web.json_response({})

        return [web.get("/test/traced", logs)]


TRACING = {"tracing": {"enabled": True, "exporter": "none"}}


async def test_each_request_gets_a_server_span_named_after_its_route(aiohttp_client, make_settings):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings, pm = make_settings(TRACING, plugins=[("logs_inside", LogsInside())])
    client = await aiohttp_client(create_app(settings, pm, tracer_provider=provider))
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO", "json", stream=stream)
    try:
        response = await client.get("/api/v1/agents/not-there")
        await client.get("/test/traced")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    assert response.status == 404
    [span] = [s for s in exporter.get_finished_spans() if "agents" in s.name]
    assert span.name == "GET /api/v1/agents/{agent_id}"
    assert span.attributes["http.response.status_code"] == 404
    assert span.attributes["registry.request_id"] == response.headers["X-Request-ID"]
    assert span.kind.name == "SERVER"
    [traced] = [s for s in exporter.get_finished_spans() if s.name == "GET /test/traced"]
    [line] = [line for line in stream.getvalue().splitlines() if "inside the span" in line]
    assert json.loads(line)["trace_id"] == f"{traced.context.trace_id:032x}"


async def test_no_spans_when_tracing_is_off(aiohttp_client, make_settings):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings, pm = make_settings()
    client = await aiohttp_client(create_app(settings, pm, tracer_provider=provider))
    await client.get("/health")
    assert exporter.get_finished_spans() == ()


def test_enabled_tracing_without_the_exporter_package_is_a_config_error(make_settings, monkeypatch):
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    with pytest.raises(ConfigError) as raised:
        make_settings({"tracing": {"enabled": True, "exporter": "otlp"}})
    assert any("opentelemetry-exporter-otlp-proto-http" in p for p in raised.value.problems)


def test_a_sample_ratio_outside_0_1_is_refused(make_settings):
    with pytest.raises(ConfigError):
        make_settings({"tracing": {"sample_ratio": 2}})
