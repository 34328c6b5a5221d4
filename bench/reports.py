"""Report benchmark: the overview and the exports over 1,000,000 orders on PostgreSQL.

    make bench-reports                        # 1,000,000 orders over one year
    python -m bench.reports --orders 200000 --rounds 3

Fills a fresh PostgreSQL database in SQL (``generate_series``: about a province's year of
orders spread over the seeded townships and the menu, 20,000 volunteers, follow-ups and
complaints in fixed proportions), then times, as a county admin would ask them:

- the overview (``GET /api/reports/overview``) for one township's year and for all of them
  (targets: under 1 s and under 3 s);
- the overview exported as XLSX, and the order list as CSV for one township's year.

Prints the median of ``--rounds`` runs each, and the main query's plan (``EXPLAIN ANALYZE``)
for one township's year and for all of them.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, text

from api.exports import render
from api.stores import exports, overview
from api.stores.overview import Filters
from core.db import make_engine, make_sessionmaker, transaction
from core.dbadmin import temporary_database
from core.models import Order
from core.security import Principal
from core.vocab import Role

log = logging.getLogger("bench.reports")
ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
YEAR = (datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))
ADMIN = Principal(subject="staff:0", roles=frozenset({Role.ADMIN}), staff_id=0)

# Every share below comes from a multiplicative hash of the order's number, so each run
# builds the same county. Percentages: 3 cancelled, 3 still open, 94 completed, of which 8
# late; follow-ups 80 confirmed, 8 corrected, 4 complaints, 4 unreachable, 4 still open.
FILL = """
INSERT INTO volunteers (id, name, phone, township, max_open_orders, active, paused, created_at,
    open_orders, completed_orders, on_time_orders, rated_orders, rating_points)
SELECT g, '志愿者' || g, '+86139' || lpad(g::text, 8, '0'),
    (SELECT array_agg(name ORDER BY name) FROM townships)[1 + g % (SELECT count(*) FROM townships)],
    3, true, false, now(), 0, 0, 0, 0, 0
FROM generate_series(1, 20000) g;

WITH towns AS (SELECT array_agg(name ORDER BY name) AS names, count(*) AS n FROM townships),
items AS (
    SELECT array_agg(code ORDER BY code) AS codes, array_agg(category_code ORDER BY code) AS cats,
        count(*) AS n
    FROM catalog_items
),
numbered AS (
    SELECT g,
        :start + (g - 1) * (CAST(:span AS float8) / :orders) * interval '1 second' AS submitted,
        (g * 37) % 100 AS fate,
        (g * 13) % 100 AS pace,
        (g * 53) % 100 AS verdict,
        1 + (g * 7919) % 20000 AS volunteer,
        1 + (g * 31) % (SELECT n FROM items) AS item,
        1 + (g * 17) % (SELECT n FROM towns) AS town
    FROM generate_series(1::bigint, :orders) g
)
INSERT INTO orders (public_id, number, channel, item_code, category_code, township, reason, address,
    resident_name, resident_phone, status, volunteer_id, dispatch_policy, dispatch_attempts,
    undispatchable, submitted_at, deadline_at, dispatched_at, accepted_at, completed_at,
    closed_at, overdue, escalation_level, review_rating, rating, hours, last_seq, updated_at,
    follow_up_outcome, follow_up_complaint)
SELECT 'bench' || lpad(g::text, 11, '0'), '99' || lpad(g::text, 9, '0'),
    (ARRAY['web', 'web', 'hotline', 'walk_in'])[1 + g % 4],
    items.codes[item], items.cats[item], towns.names[town],
    '帮忙', '某村某组', '居民', '+8613800138000',
    CASE WHEN fate < 3 THEN 'cancelled' WHEN fate < 6 THEN 'dispatched' ELSE 'closed' END,
    CASE WHEN fate < 3 THEN NULL ELSE volunteer END,
    'manual', 1, false, submitted, submitted + interval '72 hours',
    CASE WHEN fate < 3 THEN NULL ELSE submitted + (1 + pace % 5) * interval '1 hour' END,
    CASE WHEN fate < 6 THEN NULL ELSE submitted + (2 + pace % 9) * interval '1 hour' END,
    CASE WHEN fate < 6 THEN NULL
         WHEN pace < 8 THEN submitted + interval '80 hours'
         ELSE submitted + (4 + pace % 60) * interval '1 hour' END,
    CASE WHEN fate < 6 THEN NULL ELSE submitted + interval '100 hours' END,
    fate >= 3 AND (pace < 8 OR fate < 6), CASE WHEN pace < 8 THEN 1 ELSE 0 END,
    CASE WHEN fate < 6 THEN NULL
         ELSE (ARRAY['very_satisfied', 'very_satisfied', 'satisfied', 'average'])[1 + g % 4] END,
    CASE WHEN fate < 6 THEN NULL
         ELSE (ARRAY['very_satisfied', 'satisfied', 'satisfied', 'average'])[1 + g % 4] END,
    CASE WHEN fate < 6 THEN NULL ELSE 0.5 * (1 + g % 8) END,
    8, now(),
    -- The follow-up's outcome and its complaint's status, which the follow-up and complaint
    -- rows below take from here: the triggers' copies then change nothing, and the table
    -- stays as packed as a vacuumed live one.
    CASE WHEN fate < 6 OR verdict >= 96 THEN NULL WHEN verdict < 80 THEN 'confirmed'
         WHEN verdict < 88 THEN 'rating_corrected' WHEN verdict < 92 THEN 'complaint'
         ELSE 'unreachable' END,
    CASE WHEN fate < 6 OR verdict < 88 OR verdict >= 92 THEN NULL
         WHEN g % 2 = 0 THEN 'resolved' ELSE 'open' END
FROM numbered, towns, items;

INSERT INTO follow_ups (order_id, status, created_at, done_at, method, outcome, rating,
    priority, call_attempts, settled_by)
SELECT id, CASE WHEN done THEN 'done' ELSE 'open' END, completed_at,
    CASE WHEN done THEN completed_at + interval '20 hours' END,
    CASE WHEN done THEN 'phone' END, follow_up_outcome,
    CASE WHEN follow_up_outcome IN ('rating_corrected', 'complaint') THEN 'average' END, 3, 1,
    CASE WHEN done THEN 'automated_call' END
FROM (
    SELECT id, completed_at, follow_up_outcome, follow_up_outcome IS NOT NULL AS done
    FROM orders WHERE completed_at IS NOT NULL
) o;

INSERT INTO complaints (order_id, follow_up_id, status, created_at)
SELECT f.order_id, f.id, o.follow_up_complaint, f.done_at
FROM follow_ups f JOIN orders o ON o.id = f.order_id WHERE f.outcome = 'complaint';
"""


def fill(engine: Engine, orders: int) -> None:
    start, end = YEAR
    with engine.begin() as conn:
        for statement in FILL.split(";\n"):
            if statement.strip():
                conn.execute(
                    text(statement),
                    {"start": start, "span": int((end - start).total_seconds()), "orders": orders},
                )
    # What autovacuum does to a live database (the bench's server may run without it): the
    # visibility map lets the period indexes answer without visiting the table.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))


def timed(rounds: int, fn: Callable[[], Any]) -> float:
    fn()  # warm the caches
    runs = []
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--url", help="a migrated database to use (and fill if empty) instead of a fresh one"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.url:
        measure(args.url, args.orders, args.rounds)
        return
    with temporary_database(ADMIN_URL, prefix="fourorders_bench_reports") as url:
        measure(url, args.orders, args.rounds)


def measure(url: str, orders: int, rounds: int) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    began = time.perf_counter()
    with engine.connect() as conn:
        empty = not conn.scalar(select(func.count()).select_from(Order))
    if empty:
        fill(engine, orders)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(Order))
        township = conn.scalar(select(Order.township).limit(1))
    assert township is not None, "no orders to report on"
    log.info("%d orders loaded in %.1f s", count, time.perf_counter() - began)

    def run(fn: Callable[..., Any], *a: Any, **kw: Any) -> Callable[[], Any]:
        def call() -> Any:
            with transaction(sessions) as session:
                return fn(session, *a, **kw)

        return call

    one = Filters(since=YEAR[0], until=YEAR[1], township=township, viewer=ADMIN)
    every = Filters(since=YEAR[0], until=YEAR[1], viewer=ADMIN)
    with transaction(sessions) as session:
        received = overview.overview(session, one).received
    log.info("one township (%s): %d orders in the year", township, received)
    for label, f, target in (("one township's year", one, 1.0), ("all townships", every, 3.0)):
        seconds = timed(rounds, run(overview.overview, f))
        log.info("overview, %s: %.3f s (target < %.0f s)", label, seconds, target)

        def xlsx(f: Filters = f) -> bytes:
            with transaction(sessions) as session:
                report = overview.overview(session, f)
            return render(exports.overview_sheets(report), "xlsx")

        log.info("overview XLSX, %s: %.3f s", label, timed(rounds, xlsx))

    def order_csv() -> bytes:
        with transaction(sessions) as session:
            sheet = exports.order_sheet(session, one, personal=False, actor=ADMIN, ip=None)
        return render([sheet], "csv")

    log.info("order list CSV, one township's year: %.3f s", timed(rounds, order_csv))
    explain(engine, township)
    engine.dispose()


def explain(engine: Engine, township: str) -> None:
    """The plans of the overview's grouped scan (the figures elided: they add no plan nodes),
    for one township's year and for all of them."""
    start, end = YEAR
    scan = (
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT township, category_code, count(*), "
        "count(*) FILTER (WHERE follow_up_outcome = 'confirmed') FROM orders "
        "WHERE submitted_at >= :s AND submitted_at < :e {} GROUP BY 1, 2"
    )
    with engine.connect() as conn:
        for label, where in (("one township's year", "AND township = :t"), ("all townships", "")):
            plan = conn.execute(
                text(scan.format(where)), {"s": start, "e": end, "t": township}
            ).scalars()
            log.info("plan of the overview's main scan, %s:", label)
            for line in plan:
                log.info("    %s", line)


if __name__ == "__main__":
    main()
