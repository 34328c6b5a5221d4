"""The observability benchmark measures what it says: the variants differ only in the
middlewares they were built with, and each answers its route (no timing is asserted)."""

from __future__ import annotations

from bench.observability import build, call, main
from core.tracing import Tracing


async def test_the_variants_differ_only_by_their_instrumentation() -> None:
    bare, metered, traced = (build(v) for v in ("bare", "metrics", "metrics+tracing"))
    for app in (bare, metered, traced):
        await call(app, "/bench/7")
    assert bare.tracing is None and metered.tracing is None
    assert isinstance(traced.tracing, Tracing)
    # The same routes: the metrics variants count requests, they serve no /metrics.
    assert len({len(app.routes) for app in (bare, metered, traced)}) == 1


def test_it_prints_one_line_per_variant() -> None:
    lines: list[str] = []
    main(["--requests", "5", "--rounds", "1"], out=lines.append)
    assert [line.split()[0] for line in lines[1:]] == ["bare", "metrics", "metrics+tracing"]
