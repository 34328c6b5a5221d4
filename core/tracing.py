"""Traces (OpenTelemetry): one trace follows a command from the HTTP request through the
workflow update and its activities to the database.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set: then nothing is instrumented at all (no
middleware, no interceptor, no engine listeners), so it costs nothing. On, spans go by OTLP
over HTTP, through ``Redacting``, which drops what may name a person: the caller's address
and user agent, full URLs and query strings (the route template stays), and exception
messages (a database error's detail may quote a phone number). SQL statements are recorded
without their parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import SpanKind, Status
from prometheus_fastapi_instrumentator.routing import get_route_name
from sqlalchemy import Engine
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Scope
from temporalio.contrib.opentelemetry import (
    TracingInterceptor,
    TracingWorkflowInboundInterceptor,
)
from temporalio.worker import HandleUpdateInput, WorkflowInterceptorClassInput

from core.settings import Settings

# Span attributes never exported: who called (address, agent) and what they typed (URLs with
# their query strings; the templated ``http.route`` says which endpoint).
DROPPED = frozenset(
    {
        "client.address",
        "client.port",
        "net.peer.ip",
        "net.peer.port",
        "net.sock.peer.addr",
        "net.sock.peer.port",
        "network.peer.address",
        "network.peer.port",
        "http.client_ip",
        "http.user_agent",
        "user_agent.original",
        "http.url",
        "http.target",
        "url.full",
        "url.query",
        "exception.message",
        "exception.stacktrace",
    }
)
# Requests whose spans are noise: scrapes, probes, static files.
UNTRACED = "/metrics,/healthz,/static/.*"


class Redacting(SpanExporter):
    """Exports through ``inner`` what is left of each span once ``DROPPED`` is removed."""

    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([_redacted(span) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


def _kept(attributes: object) -> dict[str, object]:
    items = dict(attributes or {})  # type: ignore[call-overload]
    return {k: v for k, v in items.items() if k not in DROPPED}


def _redacted(span: ReadableSpan) -> ReadableSpan:
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_kept(span.attributes),  # type: ignore[arg-type]
        events=[
            Event(e.name, _kept(e.attributes), e.timestamp)  # type: ignore[arg-type]
            for e in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class CommandTracing(TracingInterceptor):
    """Temporal's tracing interceptor, with an update's work in the caller's trace.

    Temporal's interceptor puts every span a workflow makes in the trace of the request
    that started it (here, the resident's submission) and only links an update's span to
    the caller. ``CommandWorkflowTracing`` runs the update handler in the caller's
    context instead, so the activities a command starts (the projection, its SMS) and
    their statements are children of the command's HTTP request: one trace per command.
    """

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span-making extern function
        return CommandWorkflowTracing


class CommandWorkflowTracing(TracingWorkflowInboundInterceptor):
    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        header = input.headers.get(self.header_key)
        if header is None:
            return await super().handle_update_handler(input)
        carrier = self.payload_converter.from_payloads([header])[0]
        caller = self._set_on_context(self.text_map_propagator.extract(carrier))
        token = otel_context.attach(caller)
        try:
            self._completed_span(
                f"HandleUpdate:{input.update}",
                link_context_carrier=self._load_workflow_context_carrier(),
                kind=SpanKind.SERVER,
            )
            # Past Temporal's own handling (which would run it in the workflow's context).
            return await self.next.handle_update_handler(input)
        finally:
            otel_context.detach(token)


def _span_details(scope: Scope) -> tuple[str, dict[str, str]]:
    """``POST /api/orders/{order_id}/accept``: the template, never the order's id."""
    method = str(scope.get("method", "HTTP"))
    # The same resolution as the request metrics' ``handler`` label (api/metrics.py).
    route = get_route_name(HTTPConnection(scope), should_include_root_path=False)
    return (f"{method} {route}", {"http.route": route}) if route else (method, {})


class Tracing:
    """A tracer provider and the instrumentation of one process (the API or a worker)."""

    def __init__(self, exporter: SpanExporter, *, service: str, batch: bool = True) -> None:
        self.provider = TracerProvider(resource=Resource.create({"service.name": service}))
        processor = BatchSpanProcessor if batch else SimpleSpanProcessor
        self.provider.add_span_processor(processor(Redacting(exporter)))

    @classmethod
    def from_settings(cls, settings: Settings, *, service: str) -> Tracing | None:
        """OTLP to ``OTEL_EXPORTER_OTLP_ENDPOINT``; ``None`` (tracing off) when it is unset."""
        endpoint = settings.otel_exporter_otlp_endpoint
        if endpoint is None:
            return None
        # Imported only when on: the exporter and its protobuf messages cost nothing off.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return cls(OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces"), service=service)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """A server span around each request, named by its route template."""
        return OpenTelemetryMiddleware(
            app,
            excluded_urls=UNTRACED,
            default_span_details=_span_details,
            tracer_provider=self.provider,
            meter_provider=NoOpMeterProvider(),
            # One span per request: not one more for each body chunk received and sent.
            exclude_spans=["receive", "send"],
        )

    def instrument_engine(self, engine: Engine) -> None:
        """Spans for this engine's statements (SQL text only; parameters are never read)."""
        usage = NoOpMeterProvider().get_meter(__name__).create_up_down_counter("db.connections")
        # OpenTelemetry's SQLAlchemy instrumentation is untyped.
        EngineTracer(  # type: ignore[no-untyped-call]
            self.provider.get_tracer("sqlalchemy"), engine, usage
        )

    def interceptors(self) -> list[CommandTracing]:
        """For the Temporal client (and so its workers): spans that carry the trace across."""
        return [CommandTracing(self.provider.get_tracer("temporalio"))]

    def shutdown(self) -> None:
        self.provider.shutdown()
