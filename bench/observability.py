"""What observability costs a request: ``python -m bench.observability``.

One trivial route (``GET /bench/{item_id}``, no database) on the API's own ``App`` class,
called straight through ASGI (no network, no client) so that the middlewares' cost is what
differs between the variants:

- ``bare``: the app without request metrics or tracing;
- ``metrics``: with the request metrics ``api/metrics.py`` installs (always on);
- ``metrics+tracing``: and tracing on (``core/tracing.py``), its spans batched to an
  exporter that drops them (what a live OTLP exporter costs the request path).

Rounds alternate the variants; the median round is printed, in CPU microseconds per request.
With ``--database-url``, also the time one refresh of the loop's figures takes (the query
``/metrics`` runs at most every ``METRICS_REFRESH``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from api import metrics
from api.main import App
from api.stores.metrics import loop_figures
from core.db import make_engine, make_sessionmaker, transaction, utcnow
from core.settings import Settings
from core.tracing import Tracing


class Dropping(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def build(variant: str) -> App:
    app = App()

    @app.get("/bench/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    if variant != "bare":
        # As with METRICS_PORT set: counted, with no /metrics route beside the bench's.
        metrics.install(app, Settings(environment="development", metrics_port=9100))
    if variant == "metrics+tracing":
        app.tracing = Tracing(Dropping(), service="bench")
    return app


async def call(app: App, path: str) -> None:
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }  # fmt: skip
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200, sent[0]


async def per_request(app: App, requests: int) -> float:
    # CPU time of the whole process (the span exporter's thread included), not wall time:
    # on a shared machine other processes' load would otherwise swamp the difference.
    started = time.process_time()
    for i in range(requests):
        await call(app, f"/bench/{i}")
    return (time.process_time() - started) / requests * 1e6


async def requests_bench(requests: int, rounds: int) -> dict[str, float]:
    apps = {name: build(name) for name in ("bare", "metrics", "metrics+tracing")}
    for app in apps.values():
        await per_request(app, 200)  # warm up: the middleware stack is built on first call
    times: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(rounds):
        for name, app in apps.items():
            times[name].append(await per_request(app, requests))
    return {name: statistics.median(values) for name, values in times.items()}


def figures_bench(database_url: str, rounds: int) -> float:
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    spent: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        with transaction(sessions) as session:
            loop_figures(session, now=utcnow())
        spent.append((time.perf_counter() - started) * 1e3)
    engine.dispose()
    return statistics.median(spent)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--database-url", help="also time one refresh of the loop's figures")
    args = parser.parse_args(argv)
    results = asyncio.run(requests_bench(args.requests, args.rounds))
    bare = results["bare"]
    out(f"CPU per request, median of {args.rounds} rounds of {args.requests}:")
    for name, us in results.items():
        out(f"  {name:<16} {us:8.1f} µs   (+{us - bare:6.1f} µs over bare)")
    if args.database_url:
        ms = figures_bench(args.database_url, args.rounds)
        out(f"one refresh of the loop's figures: {ms:.1f} ms (median of {args.rounds})")


if __name__ == "__main__":
    main()
