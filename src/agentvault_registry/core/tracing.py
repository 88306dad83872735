"""Optional OpenTelemetry tracing (``[tracing] enabled = true``; the ``otel`` extra).

One server span per request, named after its route template, with the HTTP attributes and the
request id; while it is current, log records carry its trace id. The provider is built from
config when the app starts, or passed to ``create_app(..., tracer_provider=...)``: the one
injection point, for an embedding application that owns its provider (and for tests).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from agentvault_registry.config.settings import TracingSettings
from agentvault_registry.core.appkeys import REQUEST_ID, SETTINGS
from agentvault_registry.core.logs import route_template, trace_id_var

TRACER = web.AppKey("tracer", object)
#: The module each exporter needs, and what to install when it is missing.
EXPORTER_MODULES = {
    "otlp": (
        "opentelemetry.exporter.otlp.proto.http.trace_exporter",
        "opentelemetry-exporter-otlp-proto-http",
    ),
    "console": ("opentelemetry.sdk.trace.export", "opentelemetry-sdk"),
    "none": ("opentelemetry.sdk.trace", "opentelemetry-sdk"),
}


def tracing_problems(settings: TracingSettings) -> list[str]:
    """Why enabled tracing cannot run here (a package missing), one line each."""
    if not settings.enabled:
        return []
    problems = []
    for module, package in {
        ("opentelemetry.sdk.trace", "opentelemetry-sdk"),
        EXPORTER_MODULES[settings.exporter],
    }:
        try:
            importlib.import_module(module)
        except ImportError:
            problems.append(
                f"tracing.enabled: tracing with exporter {settings.exporter!r} needs the"
                f" {package} package (pip install 'agentvault-registry[otel]')."
            )
    return sorted(set(problems))


def provider_from_settings(settings: TracingSettings) -> Any:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.service_name}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    if settings.exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif settings.exporter == "otlp":
        module = importlib.import_module(EXPORTER_MODULES["otlp"][0])
        provider.add_span_processor(BatchSpanProcessor(module.OTLPSpanExporter()))
    return provider


def tracing_context(provider: Any) -> Callable[[web.Application], AsyncIterator[None]]:
    """Open the tracer with the app; flush and close a provider built here on exit."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        owned = provider is None
        active = provider_from_settings(app[SETTINGS].tracing) if owned else provider
        app[TRACER] = active.get_tracer("agentvault_registry")
        yield
        if owned:
            active.shutdown()

    return context


@web.middleware
async def tracing_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    tracer = request.app.get(TRACER)
    if tracer is None:
        return await handler(request)
    from opentelemetry import trace

    route = route_template(request)
    with tracer.start_as_current_span(
        f"{request.method} {route or 'unmatched'}",
        kind=trace.SpanKind.SERVER,
        attributes={
            "http.request.method": request.method,
            "http.route": route or "",
            "url.path": request.path,
            "registry.request_id": request.get(REQUEST_ID, ""),
        },
    ) as span:
        context = span.get_span_context()
        token = trace_id_var.set(f"{context.trace_id:032x}" if context.is_valid else None)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            span.set_attribute("http.response.status_code", exc.status)
            raise
        finally:
            trace_id_var.reset(token)
        span.set_attribute("http.response.status_code", response.status)
        if response.status >= 500:
            span.set_status(trace.Status(trace.StatusCode.ERROR))
        return response
