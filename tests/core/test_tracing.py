"""Tracing (core/tracing.py): off unless an OTLP endpoint is set; nothing personal exported."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core.settings import Settings
from core.tracing import DROPPED, Tracing

pytestmark = pytest.mark.unit


def test_off_unless_an_endpoint_is_set() -> None:
    assert Tracing.from_settings(Settings(environment="test"), service="api") is None
    # docker compose passes an unset variable as "".
    unset = Settings(environment="test", otel_exporter_otlp_endpoint="")
    assert Tracing.from_settings(unset, service="api") is None
    on = Tracing.from_settings(
        Settings(environment="test", otel_exporter_otlp_endpoint="http://collector:4318/"),
        service="four-orders-api",
    )
    assert on is not None
    assert on.provider.resource.attributes["service.name"] == "four-orders-api"
    on.shutdown()


def test_spans_leave_without_addresses_urls_or_error_messages() -> None:
    exporter = InMemorySpanExporter()
    tracing = Tracing(exporter, service="test", batch=False)
    tracer = tracing.provider.get_tracer("test")
    with tracer.start_as_current_span("POST /api/orders") as span:
        span.set_attributes(
            {
                "http.route": "/api/orders",
                "http.method": "POST",
                "client.address": "203.0.113.9",
                "http.target": "/api/orders?phone=13812345678",
                "user_agent.original": "Mozilla/5.0",
            }
        )
        span.record_exception(ValueError("Key (phone)=(+8613812345678) already exists"))
    tracing.shutdown()
    (exported,) = exporter.get_finished_spans()
    attributes = dict(exported.attributes or {})
    assert attributes == {"http.route": "/api/orders", "http.method": "POST"}
    (event,) = exported.events
    assert dict(event.attributes or {}).keys() == {"exception.type", "exception.escaped"}
    assert not DROPPED & set(attributes)
    assert "13812345678" not in (exported.to_json() + str(exported.status.description))
