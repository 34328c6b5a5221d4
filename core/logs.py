"""Logs: one JSON object per line (or plain text in development), with the order, the
workflow and the trace each line belongs to.

The order comes from where the code runs: an API request that addressed an order
(``bind_order``, set by ``api.auth.VisibleOrder``), or a Temporal activity or workflow (the
SDK's loggers put its info on each record). The trace is OpenTelemetry's current span, when
tracing is on. Nothing here adds personal data; what callers log is theirs to keep clean
(``core.phones.mask_for_log``), and ``tests/integration/test_observability.py`` checks it.
Every line has the code of any SMS link in it cut (uvicorn's access log writes the request
line whole, query string and all): whoever holds the code acts as the link's recipient.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from opentelemetry import trace
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio import activity

from core.security import mask_link_codes
from core.settings import Settings
from core.workflow_ids import order_id_of, workflow_id

_order: ContextVar[int | None] = ContextVar("order_id", default=None)
# uvicorn's loggers have handlers of their own and do not propagate: routed through ours.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def bind_order(order_id: int) -> None:
    """Log lines from here on in this request carry this order and its workflow."""
    _order.set(order_id)


class RequestLogContext:
    """ASGI: each request starts with no order bound and leaves none behind it (a test's
    in-process client runs every request in the test's own task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _order.set(None)
        try:
            await self.app(scope, receive, send)
        finally:
            _order.reset(token)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "order_id", "workflow_id", "trace_id", ...}``."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        event.update(_context(record))
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False, default=str)


def _context(record: logging.LogRecord) -> dict[str, Any]:
    found: dict[str, Any] = {}
    temporal = getattr(record, "temporal_activity", None) or getattr(
        record, "temporal_workflow", None
    )
    if temporal is None and activity.in_activity():
        temporal = {"workflow_id": activity.info().workflow_id}
    if isinstance(temporal, dict):
        found["workflow_id"] = temporal.get("workflow_id")
        if (order_id := order_id_of(str(found["workflow_id"]))) is not None:
            found["order_id"] = order_id
        for key in ("activity_type", "attempt", "workflow_type"):
            if key in temporal:
                found[key] = temporal[key]
    elif (order_id := _order.get()) is not None:
        found["order_id"] = order_id
        found["workflow_id"] = workflow_id(order_id)
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        found["trace_id"] = format(span.trace_id, "032x")
        found["span_id"] = format(span.span_id, "016x")
    return found


class _Ours(logging.StreamHandler[IO[str]]):
    """The one handler ``configure_logging`` owns on the root logger."""

    def format(self, record: logging.LogRecord) -> str:
        # The whole line, so a link quoted in an exception's text is cut too.
        return mask_link_codes(super().format(record))


def configure_logging(settings: Settings, *, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log line to ``stream`` (stderr) as JSON or text; idempotent."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Ours)]:
        root.removeHandler(handler)
    handler = _Ours(stream or sys.stderr)
    json_lines = settings.logs_as_json
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
