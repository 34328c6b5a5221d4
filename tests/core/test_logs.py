"""Log lines (core/logs.py): one JSON object each, with the order, workflow and trace."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core.logs import JsonFormatter, _order, bind_order, configure_logging
from core.settings import Settings
from core.tracing import Tracing

pytestmark = pytest.mark.unit


@pytest.fixture
def lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    token = _order.set(None)
    yield logger, buffer
    _order.reset(token)
    logger.removeHandler(handler)


def events(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_line_is_one_json_object(lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = lines
    logger.info("第 %d 单\n第二行", 3)
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    first, second = events(buffer)
    assert first["message"] == "第 3 单\n第二行" and first["level"] == "INFO"
    assert first["logger"] == "tests.logs" and first["time"].endswith("+00:00")
    assert "order_id" not in first and "trace_id" not in first
    assert "ValueError: boom" in second["exception"]


def test_the_order_a_request_addressed(lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = lines
    bind_order(42)
    logger.info("accept applied")
    (event,) = events(buffer)
    assert (event["order_id"], event["workflow_id"]) == (42, "order-42")


def test_the_order_of_a_temporal_activity(lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = lines
    bind_order(1)  # the activity's own order wins
    extra = {"workflow_id": "order-7", "activity_type": "record_transition", "attempt": 3}
    logger.warning("retrying", extra={"temporal_activity": extra})
    logger.info("elsewhere", extra={"temporal_workflow": {"workflow_id": "other-workflow"}})
    retrying, elsewhere = events(buffer)
    assert retrying["order_id"] == 7 and retrying["workflow_id"] == "order-7"
    assert (retrying["activity_type"], retrying["attempt"]) == ("record_transition", 3)
    assert elsewhere["workflow_id"] == "other-workflow" and "order_id" not in elsewhere


def test_the_trace_of_the_current_span(lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = lines
    tracing = Tracing(InMemorySpanExporter(), service="test", batch=False)
    with tracing.provider.get_tracer("test").start_as_current_span("request") as span:
        logger.info("inside")
    logger.info("outside")
    inside, outside = events(buffer)
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")
    assert "trace_id" not in outside
    tracing.shutdown()


@pytest.mark.parametrize(
    ("environment", "log_format", "json_lines"),
    [("development", None, False), ("production", None, True), ("test", None, True),
     ("development", "json", True), ("production", "text", False)],
)  # fmt: skip
def test_json_everywhere_but_development_unless_told(
    environment: str, log_format: str | None, json_lines: bool
) -> None:
    settings = Settings.model_construct(environment=environment, log_format=log_format)
    assert settings.logs_as_json is json_lines


def test_configure_logging_owns_one_handler() -> None:
    root = logging.getLogger()
    level = root.level
    settings = Settings(environment="test", log_level="WARNING")
    first = configure_logging(settings, stream=io.StringIO())
    buffer = io.StringIO()
    second = configure_logging(settings, stream=buffer)
    try:
        assert first not in root.handlers and second in root.handlers
        assert root.level == logging.WARNING
        # uvicorn's loggers reach it too, as JSON.
        logging.getLogger("uvicorn.error").warning("started")
        assert json.loads(buffer.getvalue())["logger"] == "uvicorn.error"
    finally:
        root.removeHandler(second)
        root.setLevel(level)


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_no_line_carries_a_link_code(log_format: str) -> None:
    root = logging.getLogger()
    level = root.level
    settings = Settings.model_validate(
        {"environment": "test", "log_level": "INFO", "log_format": log_format}
    )
    buffer = io.StringIO()
    handler = configure_logging(settings, stream=buffer)
    resident, volunteer = "tq3frx.YKXpB8XrhK6t5err6t_tsw", "9ix.tq3frx.YKXpB8Xr-K6"
    try:
        # What uvicorn's access log writes for each link kind, and a link in an exception.
        access = logging.getLogger("uvicorn.access")
        access.setLevel(logging.INFO)  # a server started by an earlier test may have set it
        line = '%s - "%s %s HTTP/%s" %d'
        access.info(line, "10.0.0.1:5", "GET", f"/orders/dutseswr?t={resident}", "1.1", 200)
        access.info(line, "10.0.0.1:5", "GET", f"/volunteer/orders/x?a=1&t={volunteer}", "1.1", 200)
        try:
            raise ValueError(f"cannot open https://fw.example/orders/dutseswr?t={resident}")
        except ValueError:
            logging.getLogger("tests.link_codes").exception("failed")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    written = buffer.getvalue()
    assert resident not in written and volunteer not in written
    assert "/orders/dutseswr?t=… HTTP/1.1" in written
    assert "/volunteer/orders/x?a=1&t=… HTTP/1.1" in written
    assert "orders/dutseswr?t=…" in written.split("failed", 1)[1]
