"""The lifecycle benchmark's sections about size, run by ``bench/run.py``:

- ``scale``: orders left open on their 72-hour timers at growing counts (``--scale``): what
  submitting them costs, how long the worker takes to catch up, its memory, the history and
  database bytes per order, and lifecycles/s while they wait against none waiting.
- ``escalation``: while ``--escalation-open`` orders wait, a second API process submits
  orders with a short completion deadline; the lag from each deadline to its ``escalated``
  event in the read model, both times as the database holds them.
- ``scaleout``: a second worker and a second API process on the same Temporal server, the
  load generator's requests spread over both: errors, each order's audit trail checked for
  doubled work, and CPU per lifecycle against one worker and one API.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from bench.chaos import audit_problems
from bench.measure import (
    CpuMeter,
    Timings,
    open_loop,
    pct,
    peak_rss_mb,
    run_many,
    summary_ms,
    system_cpu_ms,
)
from bench.plots import plot_two_axes
from bench.stack import Bench, RoundRobin, healthy, ok, order_json, volunteer_json, wait_until_up
from core.vocab import OPEN_STATUSES
from tests.helpers import free_port

log = logging.getLogger("bench")


def query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


def open_order_count(url: str) -> int:
    rows = query(
        url,
        "SELECT count(*) FROM orders WHERE status = ANY(:open)",
        open=[str(s) for s in OPEN_STATUSES],
    )
    return int(rows[0][0])


def database_bytes(url: str) -> tuple[int, int]:
    """(bytes of every application table with its indexes and TOAST, orders in the read model)."""
    rows = query(
        url,
        "SELECT (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r'), (SELECT count(*) FROM orders)",
    )
    return int(rows[0][0]), int(rows[0][1])


def file_bytes(path: Path) -> int:
    """A SQLite database with its write-ahead log."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


async def workflow_backlog(b: Bench) -> int | None:
    """Workflow tasks waiting on the project's queue (None if the server does not say)."""
    try:
        described = await b.client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=b.client.namespace,
                task_queue=TaskQueue(name=b.project_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                report_stats=True,
            )
        )
    except Exception as exc:
        log.info("no task queue stats: %r", exc)
        return None
    if not described.HasField("stats"):
        return None
    return int(described.stats.approximate_backlog_count)


@dataclass
class OpenOrders:
    """Orders left waiting on their timers, topped up from one level to the next."""

    bench: Bench
    township: str
    concurrency: int
    submitted: list[str] = field(default_factory=list)

    async def top_up(self, target: int) -> dict[str, Any]:
        """Submit orders until ``target`` are open, then wait until the worker has run every
        new workflow's first task (its timers started): only then do they merely wait."""
        b = self.bench
        count = max(0, target - open_order_count(b.stack.database_url))
        timings = Timings()
        ids: list[str] = []

        async def one(_i: int, _slot: int) -> None:
            submitted = b.http.post(
                "/api/orders", json=order_json(self.township), headers=b.callers.resident
            )
            ids.append(ok(await timings.time("submit", submitted))["id"])

        seconds, errors = await run_many(count, self.concurrency, one) if count else (0.0, 0)
        settle_start = time.perf_counter()
        # A level the earlier sections' open orders already reach submits nothing: its
        # history sample comes from the orders submitted before.
        histories, backlog = await self._caught_up(ids or self.submitted)
        settled = time.perf_counter() - settle_start
        self.submitted += ids
        sizes = [len(h.to_json().encode()) for h in histories]
        return {
            "submitted": count,
            "submit_errors": errors,
            "submit_seconds": round(seconds, 1),
            "submits_per_s": round((count - errors) / seconds, 1) if seconds else None,
            "submit": summary_ms(timings.by_name["submit"]),
            "caught_up_seconds": round(settled, 1),
            # Whether the server reported the queue's backlog, or only the sample was checked.
            "backlog_reported": backlog is not None,
            "history_bytes_per_order": round(statistics.fmean(sizes)) if sizes else None,
            "history_events_per_order": (
                round(statistics.fmean(len(h.events) for h in histories), 1) if histories else None
            ),
        }

    async def _caught_up(self, ids: list[str]) -> tuple[list[Any], int | None]:
        """Poll until the queue holds no workflow task and the sampled orders (spread over the
        burst, and its last ten) have started their timers; return the sample's histories."""
        b = self.bench
        picked = ids[:: max(1, len(ids) // 20)][:20] + ids[-10:]
        sample = [
            ok(await b.http.get(f"/api/orders/{oid}", headers=b.callers.admin))["workflow_id"]
            for oid in dict.fromkeys(picked)
        ]
        while True:
            backlog = await workflow_backlog(b)
            histories = [await b.client.get_workflow_handle(w).fetch_history() for w in sample]
            started = all(
                any(e.HasField("timer_started_event_attributes") for e in h.events)
                for h in histories
            )
            if started and not backlog:
                return histories, backlog
            await asyncio.sleep(1)


async def quiet_after_burst(b: Bench, reference_p50_s: float, within: float) -> float:
    """Seconds until a single lifecycle runs about as fast as before the burst: until then the
    stack is still digesting it, which is a figure of its own."""
    start = time.perf_counter()
    while time.perf_counter() - start < within:
        probe = await b.project(1, 1, tolerate_errors=True)
        if not probe["errors"] and probe["seconds"] < 2 * reference_p50_s:
            break
        await asyncio.sleep(5)
    return round(time.perf_counter() - start, 1)


async def scale_row(
    b: Bench, orders: OpenOrders, level: int, idle: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    worker = b.stack.procs["worker"].pid
    before = peak_rss_mb(worker)["rss_mb"]
    fill = await orders.top_up(level)
    idle_p50_s = idle["latency"]["lifecycle"]["p50_ms"] / 1000
    quiet = await quiet_after_burst(b, idle_p50_s, args.quiet_within)
    holding = await b.project(args.scale_n, args.concurrency, tolerate_errors=True)
    mem = peak_rss_mb(worker)
    db, in_read_model = database_bytes(b.stack.database_url)
    temporal_db = file_bytes(b.stack.workdir / "temporal.db")
    return {
        "open_orders": open_order_count(b.stack.database_url),
        **fill,
        "quiet_seconds_after_caught_up": quiet,
        "worker_rss_before_mb": before,
        "worker_rss_holding_mb": mem["rss_mb"],
        "worker_peak_rss_mb": mem["peak_rss_mb"],
        "orders_in_read_model": in_read_model,
        "db_bytes_per_order": round(db / max(in_read_model, 1)),
        "temporal_db_bytes_per_order": round(temporal_db / max(in_read_model, 1)),
        "lifecycles_per_s": holding["lifecycles_per_s"],
        "lifecycle_errors": holding["errors"],
        "lifecycle_p99_ms": holding["latency"]["lifecycle"]["p99_ms"],
        "ratio_to_idle": round(holding["lifecycles_per_s"] / idle["lifecycles_per_s"], 3),
    }


# --- escalation lag ------------------------------------------------------------------------


async def escalation_lag(
    b: Bench, *, orders: int, deadline_s: int, spread_s: float, wait_s: float
) -> dict[str, Any]:
    """``orders`` orders through an API whose completion deadline is ``deadline_s``, submitted,
    dispatched and accepted over ``spread_s``; each one's lag from its deadline to its
    ``escalated`` event, as the worker timed it and as the read model recorded it."""
    stack = b.stack
    url = f"http://127.0.0.1:{free_port()}"
    # The deadline is the submitting API's setting; the worker and the first API keep theirs.
    stack.start_api(
        b.project_queue, name="api-escalation", url=url, COMPLETION_SLA=f"{deadline_s}s"
    )
    try:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            await wait_until_up(lambda: healthy(http), "the short-deadline API")
            township = await b.township("bench-escalation")
            # Accepted orders stay open, so each volunteer needs room for many.
            helpers = []
            for k in range(math.ceil(orders / volunteer_json(0, township)["max_open_orders"])):
                body = volunteer_json(5000 + k, township)
                created = ok(await http.post("/api/volunteers", json=body, headers=b.callers.admin))
                helpers.append(created["id"])
                await b.callers.add_volunteer(b.db, stack.settings(), created["id"])
            timings = Timings()
            ids: list[str] = []

            async def one(i: int) -> None:
                helper = helpers[i % len(helpers)]
                submitted = http.post(
                    "/api/orders", json=order_json(township), headers=b.callers.resident
                )
                oid = ok(await timings.time("submit", submitted))["id"]
                ids.append(oid)
                base = f"/api/orders/{oid}"
                target = {"volunteer_id": helper}
                dispatched = http.post(f"{base}/dispatch", json=target, headers=b.callers.admin)
                ok(await timings.time("dispatch", dispatched))
                accepted = http.post(f"{base}/accept", headers=b.callers.volunteers[helper])
                ok(await timings.time("accept", accepted))

            results, _late = await open_loop(orders / spread_s, orders, one)
            errors = [r for r in results if isinstance(r, Exception)]
            for error in errors[:5]:
                log.warning("escalation order failed: %r", error)
    finally:
        stack.stop("api-escalation")
    until = time.monotonic() + deadline_s + wait_s
    while time.monotonic() < until:
        if _escalated(stack.database_url, ids) == len(ids):
            break
        await asyncio.sleep(0.5)
    rows = query(
        stack.database_url,
        "SELECT o.public_id, "
        "EXTRACT(EPOCH FROM min(e.at) - o.deadline_at) AS fired, "
        "EXTRACT(EPOCH FROM min(e.recorded_at) - o.deadline_at) AS recorded "
        "FROM orders o LEFT JOIN order_events e ON e.order_id = o.id AND e.event = 'escalated' "
        "WHERE o.public_id = ANY(:ids) GROUP BY o.public_id, o.deadline_at",
        ids=ids,
    )
    fired = [float(r.fired) for r in rows if r.fired is not None]
    recorded = [float(r.recorded) for r in rows if r.recorded is not None]
    missing = len(ids) - len(recorded)
    return {
        "orders": orders,
        "deadline_s": deadline_s,
        "spread_s": spread_s,
        "errors": len(errors),
        "escalated": len(recorded),
        "missing": missing,
        "latency": timings.report(),
        "timer_fired": lag_summary(fired, missing),
        "in_read_model": lag_summary(recorded, missing),
    }


def _escalated(url: str, ids: list[str]) -> int:
    rows = query(
        url,
        "SELECT count(DISTINCT e.order_id) FROM order_events e JOIN orders o ON o.id = e.order_id "
        "WHERE e.event = 'escalated' AND o.public_id = ANY(:ids)",
        ids=ids,
    )
    return int(rows[0][0])


def lag_summary(seconds: list[float], missing: int) -> dict[str, float]:
    """Percentiles in ms, an order never escalated counting as infinitely late."""
    values = seconds + [math.inf] * missing
    return {
        "p50_ms": round(pct(values, 50) * 1000, 1),
        "p95_ms": round(pct(values, 95) * 1000, 1),
        "p99_ms": round(pct(values, 99) * 1000, 1),
        "max_ms": round(max(values, default=math.nan) * 1000, 1),
    }


# --- scale-out -------------------------------------------------------------------------------


async def scale_out(b: Bench, n: int, concurrency: int) -> dict[str, Any]:
    """``n`` lifecycles with one worker and one API, then with two of each on one Temporal."""
    stack = b.stack
    one_pids = {
        "temporal server": stack.procs["temporal"].pid,
        "worker": stack.procs["worker"].pid,
        "api": stack.procs["api"].pid,
    }
    with CpuMeter(one_pids, stack.database) as meter:
        single = await b.project(n, concurrency, tolerate_errors=True)
    single_cpu = meter.per_lifecycle_ms(n)

    url = f"http://127.0.0.1:{free_port()}"
    env = stack.env(b.project_queue)
    two_pids = {
        **one_pids,
        "worker 2": stack.start("worker-2", [sys.executable, "worker.py"], env),
        "api 2": stack.start_api(b.project_queue, name="api-2", url=url),
    }
    orders: list[str] = []
    try:
        async with httpx.AsyncClient(
            base_url=url, timeout=120, limits=httpx.Limits(max_connections=concurrency * 2 + 20)
        ) as second:
            await wait_until_up(lambda: healthy(second), "the second API")
            await b.project(min(20, n), min(5, concurrency), http=RoundRobin([b.http, second]))
            with CpuMeter(two_pids, stack.database) as meter:
                double = await b.project(
                    n,
                    concurrency,
                    tolerate_errors=True,
                    http=RoundRobin([b.http, second]),
                    orders=orders,
                )
            double_cpu = meter.per_lifecycle_ms(n)
    finally:
        stack.stop("api-2")
        stack.stop("worker-2")
    problems = audit_problems(stack.database_url, orders)
    return {
        "n": n,
        "concurrency": concurrency,
        "one": {
            "lifecycles_per_s": single["lifecycles_per_s"],
            "errors": single["errors"],
            "cpu_ms_per_lifecycle": single_cpu,
            "system_cpu_ms": system_cpu_ms(single_cpu),
        },
        "two": {
            "lifecycles_per_s": double["lifecycles_per_s"],
            "errors": double["errors"],
            "cpu_ms_per_lifecycle": double_cpu,
            "system_cpu_ms": system_cpu_ms(double_cpu),
        },
        "orders_checked": len(orders),
        "duplicated": problems["duplicated"][:20],
        "out_of_order": problems["out_of_order"][:20],
        "cpu_ratio_two_to_one": round(system_cpu_ms(double_cpu) / system_cpu_ms(single_cpu), 3),
    }


# --- report ----------------------------------------------------------------------------------


def shown(value: float | None) -> str:
    """A figure, or a dash where there was nothing to measure."""
    return "—" if value is None or math.isnan(value) else str(value)


def scale_markdown(scale: dict[str, Any]) -> list[str]:
    idle = scale["idle"]
    lines = [
        "## Open orders waiting on their 72-hour timers",
        "",
        f"Idle: {idle['lifecycles_per_s']} lifecycles/s (N={scale['n']}, concurrency "
        f"{scale['concurrency']}) with {idle['open_orders']} open; orders submitted "
        f"{scale['fill_concurrency']} at a time.",
        "",
        "| open orders | submitted | submits/s | submit p99 ms | took s | caught up s "
        "| worker RSS before / holding / peak MB | history B/order | PostgreSQL B/order "
        "| Temporal B/order | lifecycles/s holding | vs idle |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in scale["rows"]:
        lines.append(
            f"| {r['open_orders']} | {r['submitted']} | {shown(r['submits_per_s'])} "
            f"| {shown(r['submit']['p99_ms'])} | {r['submit_seconds']} "
            f"| {r['caught_up_seconds']} "
            f"| {r['worker_rss_before_mb']} / {r['worker_rss_holding_mb']} / "
            f"{r['worker_peak_rss_mb']} | {r['history_bytes_per_order']} "
            f"| {r['db_bytes_per_order']} | {r['temporal_db_bytes_per_order']} "
            f"| {r['lifecycles_per_s']} ({r['lifecycle_errors']} errors) | {r['ratio_to_idle']} |"
        )
    lines += [
        "",
        "Caught up: after the last submit, until the queue held no workflow task and sampled "
        "orders had started their timers. Bytes per order: every application table with its "
        "indexes (PostgreSQL) and the Temporal dev server's SQLite file, over all orders in "
        "the read model; history: an open order's, sampled.",
        "",
        "![lifecycles/s and worker memory against open orders](scale.png)",
    ]
    return lines


def escalation_markdown(e: dict[str, Any]) -> list[str]:
    lines = [
        f"## Escalation lag with {e['open_before']} orders open",
        "",
        f"{e['orders']} orders through a second API with a {e['deadline_s']} s completion "
        f"deadline, submitted, dispatched and accepted over {e['spread_s']} s "
        f"({e['errors']} errors); {e['escalated']} escalated, {e['missing']} never did.",
        "",
        "| lag from the deadline | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, name in (
        ("timer_fired", "timer fired (the event's time)"),
        ("in_read_model", "`escalated` in the read model (recorded_at)"),
    ):
        s = e[key]
        lines.append(f"| {name} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['max_ms']} |")
    return lines


def scale_out_markdown(s: dict[str, Any]) -> list[str]:
    one, two = s["one"], s["two"]
    names = list(two["cpu_ms_per_lifecycle"])
    lines = [
        "## Scale-out: two workers and two APIs on one Temporal server",
        "",
        f"N={s['n']} at concurrency {s['concurrency']}; with two, the requests alternate "
        "between the APIs. Audit trails checked in the database: "
        f"{s['orders_checked']} orders, {len(s['duplicated'])} with a step recorded twice, "
        f"{len(s['out_of_order'])} out of order.",
        "",
        "| | lifecycles/s | errors | system CPU ms/lifecycle |",
        "|---|---:|---:|---:|",
        f"| one worker, one API | {one['lifecycles_per_s']} | {one['errors']} "
        f"| {one['system_cpu_ms']} |",
        f"| two workers, two APIs | {two['lifecycles_per_s']} | {two['errors']} "
        f"| {two['system_cpu_ms']} |",
        "",
        f"CPU per lifecycle, two against one: **{s['cpu_ratio_two_to_one']}**.",
        "",
        "| process (CPU ms/lifecycle) | one | two |",
        "|---|---:|---:|",
        *(
            f"| {name} | {one['cpu_ms_per_lifecycle'].get(name, '')} "
            f"| {two['cpu_ms_per_lifecycle'][name]} |"
            for name in names
        ),
    ]
    return lines


def plot_scale(scale: dict[str, Any], path: Path) -> None:
    rows = scale["rows"]
    xs = [r["open_orders"] for r in rows]

    def draw(left: Any, right: Any) -> None:
        left.plot(xs, [r["lifecycles_per_s"] for r in rows], "o-", label="lifecycles/s holding")
        left.axhline(scale["idle"]["lifecycles_per_s"], ls="--", color="tab:blue", label="idle")
        left.set_xscale("log")
        left.set_xlabel("open orders")
        left.set_ylabel("lifecycles per second")
        holding = [r["worker_rss_holding_mb"] for r in rows]
        right.plot(xs, holding, "s:", color="tab:red", label="worker RSS")
        peak = [r["worker_peak_rss_mb"] for r in rows]
        right.plot(xs, peak, "^:", color="tab:orange", label="worker peak RSS")
        right.set_ylabel("worker memory (MB)")

    title = "Lifecycles and worker memory against open orders"
    plot_two_axes(path, title, "lower left", draw)
