"""Prometheus metrics of the API: requests by route template, and the loop's figures.

``prometheus-fastapi-instrumentator`` counts requests and times them by route *template*
(``/api/orders/{order_id}/accept``, never an order's id; unmatched paths are ``none``).
``LoopCollector`` adds the ``fourorders_`` series from the read model, at most every
``METRICS_REFRESH`` however often Prometheus scrapes. Each app has its own registry.

Where: ``/metrics`` beside the API in development and tests; on ``METRICS_PORT`` alone when
that is set (the compose file's proxy never reaches it). Production without ``METRICS_PORT``
serves no metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as instrumented
from sqlalchemy import Engine

from api.stores.metrics import LoopFigures, loop_figures
from core.db import make_sessionmaker, transaction, utcnow
from core.settings import Settings

log = logging.getLogger(__name__)

PREFIX = "fourorders_"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def install(app: FastAPI, settings: Settings) -> CollectorRegistry:
    """Count and time every request; expose ``/metrics`` on the API's port if it belongs there."""
    registry = CollectorRegistry()
    instrumentator = Instrumentator(registry=registry, excluded_handlers=["/metrics"])
    # Two series per request, not the library's default five (sizes, a second histogram):
    # the count by route, method and status class, and the latency by route, in buckets
    # from a page read (10 ms) to a command waiting on its workflow (COMMAND_TIMEOUT, 30 s).
    instrumentator.add(instrumented.requests(registry=registry))
    instrumentator.add(instrumented.latency(buckets=LATENCY_BUCKETS, registry=registry))
    instrumentator.instrument(app)
    if settings.metrics_on_api_port:
        instrumentator.expose(app, include_in_schema=False)
    return registry


@contextmanager
def serving(registry: CollectorRegistry, engine: Engine, settings: Settings) -> Iterator[None]:
    """For the app's lifetime: the loop's figures, and ``METRICS_PORT`` if set."""
    collector = LoopCollector(engine, refresh_every=settings.metrics_refresh.total_seconds())
    registry.register(collector)
    server = None
    if settings.metrics_port is not None:
        server, _ = start_http_server(
            settings.metrics_port, addr=settings.metrics_host, registry=registry
        )
        log.info("metrics on %s:%d", settings.metrics_host, settings.metrics_port)
    elif not settings.metrics_on_api_port:
        log.warning("METRICS_PORT is not set: this API serves no metrics")
    try:
        yield
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        registry.unregister(collector)


class LoopCollector(Collector):
    """The ``fourorders_`` series, computed from the read model and kept ``refresh_every``."""

    def __init__(self, engine: Engine, *, refresh_every: float) -> None:
        self._sessions = make_sessionmaker(engine)
        self._every = refresh_every
        self._lock = threading.Lock()
        self._figures: LoopFigures | None = None
        self._at = float("-inf")

    def describe(self) -> Iterable[Metric]:
        return []  # registering must not query the database

    def collect(self) -> Iterable[Metric]:
        figures = self._current()
        up = GaugeMetricFamily(
            PREFIX + "read_model_up", "Whether the last read of the read model for metrics worked."
        )
        up.add_metric([], 0 if figures is None else 1)
        yield up
        if figures is not None:
            yield from _families(figures)

    def _current(self) -> LoopFigures | None:
        with self._lock:
            if time.monotonic() - self._at >= self._every:
                self._at = time.monotonic()
                try:
                    with transaction(self._sessions) as session:
                        self._figures = loop_figures(session, now=utcnow())
                except Exception as exc:  # the scrape still answers, saying the read failed
                    log.warning("reading the loop's figures failed: %s", type(exc).__name__)
                    self._figures = None
            return self._figures


def _gauge(name: str, doc: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, doc, labels=list(labels))


def _counter(name: str, doc: str, labels: Iterable[str] = ()) -> CounterMetricFamily:
    return CounterMetricFamily(PREFIX + name, doc, labels=list(labels))


def _families(f: LoopFigures) -> Iterator[Metric]:
    unfinished = _gauge(
        "orders_open", "Orders not yet closed or cancelled, by status and township.",
        ("status", "township"),
    )  # fmt: skip
    for (status, township), n in sorted(f.unfinished.items()):
        unfinished.add_metric([status, township], n)
    yield unfinished
    overdue = _gauge(
        "orders_overdue", "Open orders past their 72-hour deadline, by township.", ("township",)
    )
    for township, n in sorted(f.overdue.items()):
        overdue.add_metric([township], n)
    yield overdue
    escalated = _gauge("orders_escalated", "Open orders by escalation level.", ("level",))
    for level, n in sorted(f.escalated.items()):
        escalated.add_metric([level], n)
    yield escalated
    lagging = _gauge(
        "projection_lagging_orders",
        "Orders whose read model has not caught up with their workflow for over a minute.",
    )
    lagging.add_metric([], f.lagging)
    yield lagging
    lost = _gauge(
        "orders_lost_workflow",
        "Unfinished orders whose workflow ended outside the API (terminated, failed).",
    )
    lost.add_metric([], f.lost_workflow)
    yield lost
    depth = _gauge("follow_up_queue_depth", "Follow-up tasks waiting for call-center staff.")
    depth.add_metric([], f.follow_up_queue)
    yield depth
    oldest = _gauge(
        "follow_up_oldest_seconds", "Age of the oldest follow-up task in the staff queue."
    )
    age = (utcnow() - f.follow_up_oldest_at).total_seconds() if f.follow_up_oldest_at else 0.0
    oldest.add_metric([], max(age, 0.0))
    yield oldest
    follow_ups = _counter("follow_ups", "Follow-ups done, by outcome.", ("outcome",))
    for outcome, n in sorted(f.follow_ups_done.items()):
        follow_ups.add_metric([outcome], n)
    yield follow_ups
    breaches = _counter("sla_breaches", "Orders that missed their 72-hour deadline.")
    breaches.add_metric([], f.sla_breaches)
    yield breaches
    completed = _counter("orders_completed", "Orders completed by a volunteer.")
    completed.add_metric([], f.completed)
    yield completed
    on_time = _counter(
        "orders_completed_on_time", "Orders completed within their 72-hour deadline."
    )
    on_time.add_metric([], f.completed_on_time)
    yield on_time
