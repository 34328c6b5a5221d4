"""The report benchmark's county is what its docstring says (a small one, not timed)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from api.stores import overview
from api.stores.overview import Filters
from bench.reports import ADMIN, YEAR, fill
from core.db import make_engine, make_sessionmaker, transaction
from core.dbadmin import temporary_database
from tests.conftest import ADMIN_URL


def test_the_benchmark_fills_a_year_in_the_stated_shares() -> None:
    with temporary_database(ADMIN_URL, prefix="fourorders_bench_test") as url:
        engine = make_engine(url)
        try:
            fill(engine, 2000)
            with engine.connect() as conn:
                # The order's copies of its follow-up's outcome and complaint agree with them.
                drifted = conn.scalar(
                    text(
                        "SELECT count(*) FROM orders o "
                        "LEFT JOIN follow_ups f ON f.order_id = o.id "
                        "LEFT JOIN complaints c ON c.follow_up_id = f.id "
                        "WHERE o.follow_up_outcome IS DISTINCT FROM f.outcome "
                        "OR o.follow_up_complaint IS DISTINCT FROM c.status"
                    )
                )
            with transaction(make_sessionmaker(engine)) as session:
                report = overview.overview(
                    session, Filters(since=YEAR[0], until=YEAR[1], viewer=ADMIN)
                )
        finally:
            engine.dispose()
    assert drifted == 0
    assert report.received == 2000
    assert (report.cancelled, report.open) == (60, 60)  # 3 % each
    assert report.completed == 1880
    assert report.on_time_rate == pytest.approx(0.92, abs=0.01)
    assert report.follow_up_rate == pytest.approx(0.92, abs=0.02)
    assert report.complaints_opened == pytest.approx(75, abs=10)
    assert len(report.by_township) > 20
    # A UTC year in county months: its last eight hours fall in January of the next year.
    assert [p.start for p in report.series][::12] == ["2030-01-01", "2031-01-01"]
