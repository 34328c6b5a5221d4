"""The lifecycle benchmark: ``make bench`` (or ``python -m bench.run --help``).

Starts its own stack on this machine: a Temporal dev server (SQLite file, WAL, as
``make run``), a fresh PostgreSQL database, the project's worker and API as separate
processes, and the bare baseline worker. Then, in one run:

Each section is chosen with ``--sections`` (all by default, at the targets' sizes; ``--quick``
for a smoke run of every one), and the performance targets are judged at the top of the results:

- ``main``: ``--n`` full lifecycles at ``--concurrency`` through the HTTP API, and the same
  number of bare lifecycles straight from the SDK: throughput, the ratio project / baseline,
  and CPU per lifecycle of the system (Temporal, worker, API, PostgreSQL; not the load
  generator) against the baseline's (Temporal, baseline worker).
- ``steady``: a lifecycle started every 1/``--steady-rate`` s for ``--steady-seconds``
  (open loop): each command's latency.
- ``rate``: submits at a fixed ``--rate`` for ``--rate-seconds``: submit latency, and the
  time until the new order is visible as pending in the admin list.
- ``sweep``: a concurrency sweep of both (for ``concurrency.png``).
- ``scaleout``, ``escalation``, ``scale``: two workers and two APIs; the lag from a deadline
  to its escalation while ``--escalation-open`` orders wait; the cost of ``--scale`` open
  orders (``scale.png``). See ``bench/scaling.py``.

Writes ``bench/results/latest.json``, ``latest.md`` and the plots.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from api.database import Database
from bench import scaling
from bench.measure import ADMIN_URL, RESULTS, CpuMeter, peak_rss_mb, system_cpu_ms
from bench.plots import plot
from bench.report import markdown, verdicts
from bench.stack import Bench, Callers, Stack, healthy, ok, temporal_client, wait_until_up
from core.db import make_engine
from core.dbadmin import temporary_database

log = logging.getLogger("bench")


SECTIONS = ("main", "steady", "rate", "sweep", "scaleout", "escalation", "scale")


async def bench(args: argparse.Namespace, workdir: Path, database_url: str) -> dict[str, Any]:
    stack = Stack.with_temporal(workdir, database_url)
    results: dict[str, Any] = {}
    try:
        client = await temporal_client(stack)
        project_queue, baseline_queue = "bench-project", "bench-baseline"
        worker_pid = stack.start("worker", [sys.executable, "worker.py"], stack.env(project_queue))
        baseline_pid = stack.start(
            "baseline", [sys.executable, "-m", "bench.baseline"], stack.env(baseline_queue)
        )
        api_pid = stack.start_api(project_queue)
        widest = max([args.concurrency, args.fill_concurrency, *args.sweep])
        limits = httpx.Limits(max_connections=widest * 2 + 20)
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=120, limits=limits) as http:
            await wait_until_up(lambda: healthy(http), "API")
            db, settings = Database(make_engine(database_url)), stack.settings()
            callers = await Callers.sign_in(db, settings)
            volunteers = []
            for k in range(max([args.concurrency, *args.sweep])):
                body = {
                    "name": f"志愿者{k}",
                    "phone": f"1390000{k:04d}",
                    "township": "蓼皋街道",
                    "skills": ["care"],
                }
                created = await http.post("/api/volunteers", json=body, headers=callers.admin)
                volunteers.append(ok(created)["id"])
                await callers.add_volunteer(db, settings, volunteers[-1])
            b = Bench(stack, http, client, volunteers, project_queue, baseline_queue, callers, db)

            log.info("warm-up")
            await b.project(min(20, args.n), min(5, args.concurrency))
            await b.baseline(min(20, args.n), min(5, args.concurrency))

            if "main" in args.sections:
                pids = {
                    "temporal server": stack.procs["temporal"].pid,
                    "project worker": worker_pid,
                    "api": api_pid,
                    "baseline worker": baseline_pid,
                }
                results["main"] = await main_comparison(b, args.n, args.concurrency, pids)
                save(args.out, results)
            if "steady" in args.sections:
                log.info("steady: %s lifecycles/s for %ss", args.steady_rate, args.steady_seconds)
                results["steady"] = await b.steady(args.steady_rate, args.steady_seconds)
                save(args.out, results)
            if "rate" in args.sections:
                log.info("submits at %s/s for %ss", args.rate, args.rate_seconds)
                results["submit_rate"] = await b.submit_rate(args.rate, args.rate_seconds)
                save(args.out, results)
            if "sweep" in args.sections:
                results["sweep"] = await sweep(b, args.sweep, args.sweep_n)
                save(args.out, results)
            # Before the open orders pile up, so both runs see the same database.
            if "scaleout" in args.sections:
                log.info("scale-out: %d lifecycles, one worker then two", args.scaleout_n)
                results["scaleout"] = await scaling.scale_out(b, args.scaleout_n, args.concurrency)
                save(args.out, results)
            await open_orders(b, args, results)
        return results
    finally:
        stack.stop_all()


async def main_comparison(
    b: Bench, n: int, concurrency: int, pids: dict[str, int]
) -> dict[str, Any]:
    """Targets 1 and 2: throughput and CPU per lifecycle against the bare baseline."""
    log.info("main: %d lifecycles at concurrency %d", n, concurrency)
    with CpuMeter(pids, b.stack.database) as meter:
        project = await b.project(n, concurrency)
    project["cpu_ms_per_lifecycle"] = meter.per_lifecycle_ms(n)
    log.info("project: %s lifecycles/s", project["lifecycles_per_s"])
    with CpuMeter(pids, b.stack.database) as meter:
        baseline = await b.baseline(n, concurrency)
    baseline["cpu_ms_per_lifecycle"] = meter.per_lifecycle_ms(n)
    log.info("baseline: %s lifecycles/s", baseline["lifecycles_per_s"])
    with CpuMeter(pids, b.stack.database) as meter:
        loop_baseline = await b.baseline(n, concurrency, loop_timers=True)
    loop_baseline["cpu_ms_per_lifecycle"] = meter.per_lifecycle_ms(n)
    log.info("baseline with the loop's timers: %s lifecycles/s", loop_baseline["lifecycles_per_s"])
    bare = baseline["cpu_ms_per_lifecycle"]
    system = system_cpu_ms(project["cpu_ms_per_lifecycle"])
    bare_ms = round(bare["temporal server"] + bare["baseline worker"], 2)
    return {
        "project": project,
        "baseline": baseline,
        "loop_baseline": loop_baseline,
        "ratio": round(project["lifecycles_per_s"] / baseline["lifecycles_per_s"], 3),
        "ratio_to_loop_baseline": round(
            project["lifecycles_per_s"] / loop_baseline["lifecycles_per_s"], 3
        ),
        "cpu": {"system_ms": system, "baseline_ms": bare_ms, "ratio": round(system / bare_ms, 3)},
        "project_worker_memory": peak_rss_mb(pids["project worker"]),
        "baseline_worker_memory": peak_rss_mb(pids["baseline worker"]),
    }


async def sweep(b: Bench, concurrencies: list[int], n: int) -> list[dict[str, Any]]:
    rows = []
    for c in concurrencies:
        log.info("sweep: concurrency %d", c)
        pr = await b.project(n, c)
        ba = await b.baseline(n, c)
        rows.append(
            {
                "concurrency": c,
                "n": n,
                "project_lifecycles_per_s": pr["lifecycles_per_s"],
                "baseline_lifecycles_per_s": ba["lifecycles_per_s"],
                "ratio": round(pr["lifecycles_per_s"] / ba["lifecycles_per_s"], 3),
                "project_p99_ms": pr["latency"]["lifecycle"]["p99_ms"],
                "project_errors": pr["errors"],
                "baseline_errors": ba["errors"],
            }
        )
    return rows


async def open_orders(b: Bench, args: argparse.Namespace, results: dict[str, Any]) -> None:
    """The scale levels in ascending order, and the escalation run once
    ``--escalation-open`` orders are open: the orders one level leaves open count towards the
    next, so 100,000 are submitted once, not 111,000 times over."""
    scale = "scale" in args.sections
    escalate = "escalation" in args.sections
    if not (scale or escalate):
        return
    levels = sorted(
        set(args.scale if scale else []) | ({args.escalation_open} if escalate else set())
    )
    filler = scaling.OpenOrders(b, await b.township("bench-open"), args.fill_concurrency)
    rows: list[dict[str, Any]] = []
    idle: dict[str, Any] | None = None
    if scale:
        log.info("scale: idle reference")
        idle = await b.project(args.scale_n, args.concurrency)
        idle["open_orders"] = scaling.open_order_count(b.stack.database_url)
    for level in levels:
        log.info("open orders: topping up to %d", level)
        if scale and level in args.scale:
            assert idle is not None
            rows.append(await scaling.scale_row(b, filler, level, idle, args))
            results["scale"] = {
                "idle": idle,
                "n": args.scale_n,
                "concurrency": args.concurrency,
                "fill_concurrency": args.fill_concurrency,
                "rows": rows,
            }
        else:
            await filler.top_up(level)
        save(args.out, results)
        if escalate and level == args.escalation_open:
            open_before = scaling.open_order_count(b.stack.database_url)
            log.info("escalation lag: %d orders with %d open", args.escalation_orders, open_before)
            results["escalation"] = {
                "open_before": open_before,
                **await scaling.escalation_lag(
                    b,
                    orders=args.escalation_orders,
                    deadline_s=args.escalation_deadline,
                    spread_s=args.escalation_spread,
                    wait_s=args.escalation_wait,
                ),
            }
            save(args.out, results)


def save(out: Path, partial: dict[str, Any]) -> None:
    """Keep what a long run has measured so far, should a later phase fail."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "partial.json").write_text(json.dumps(partial, indent=2, ensure_ascii=False))


def _ints(text_: str) -> list[int]:
    return [int(x) for x in text_.split(",") if x]


def _sections(text_: str) -> list[str]:
    chosen = [x for x in text_.split(",") if x]
    if unknown := set(chosen) - set(SECTIONS):
        raise argparse.ArgumentTypeError(f"unknown sections {sorted(unknown)}; know {SECTIONS}")
    return chosen


# A smoke run of every section in about a minute: the sizes, not the shape, shrink.
QUICK: dict[str, Any] = {
    "n": 10,
    "concurrency": 3,
    "steady_seconds": 3.0,
    "rate": 5.0,
    "rate_seconds": 2.0,
    "sweep": [3],
    "sweep_n": 6,
    "scale": [20, 40],
    "scale_n": 5,
    "fill_concurrency": 10,
    "quiet_within": 20.0,
    "escalation_open": 20,
    "escalation_orders": 3,
    "escalation_deadline": 8,
    "escalation_spread": 1.0,
    "escalation_wait": 30.0,
    "scaleout_n": 6,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--sections",
        type=_sections,
        default=list(SECTIONS),
        help=f"comma-separated, of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke-test sizes for every section (flags given as well still win)",
    )
    parser.add_argument("--n", type=int, default=1000, help="lifecycles in the main comparison")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--steady-rate", type=float, default=2.0, help="lifecycles started per second"
    )
    parser.add_argument("--steady-seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=20.0, help="submits per second")
    parser.add_argument("--rate-seconds", type=float, default=15.0)
    parser.add_argument("--sweep", type=_ints, default=[5, 10, 25, 50])
    parser.add_argument("--sweep-n", type=int, default=300)
    parser.add_argument(
        "--scale",
        type=_ints,
        default=[1000, 10_000, 100_000],
        help="open-order levels, comma-separated",
    )
    parser.add_argument(
        "--scale-n", type=int, default=300, help="lifecycles measured at each level"
    )
    parser.add_argument(
        "--quiet-within",
        type=float,
        default=600.0,
        help="at most this long, s, for a lifecycle as fast as idle after each level's burst",
    )
    parser.add_argument(
        "--fill-concurrency", type=int, default=128, help="submits in flight while filling"
    )
    parser.add_argument(
        "--escalation-open", type=int, default=10_000, help="open orders while escalations run"
    )
    parser.add_argument("--escalation-orders", type=int, default=200)
    parser.add_argument(
        "--escalation-deadline", type=int, default=30, help="their completion deadline, s"
    )
    parser.add_argument(
        "--escalation-spread", type=float, default=60.0, help="seconds to submit them over"
    )
    parser.add_argument(
        "--escalation-wait", type=float, default=60.0, help="after the last deadline, s"
    )
    parser.add_argument("--scaleout-n", type=int, default=500)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        given = {a.split("=")[0] for a in (argv if argv is not None else sys.argv[1:])}
        for key, value in QUICK.items():
            if "--" + key.replace("_", "-") not in given:
                setattr(args, key, value)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    started = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory(prefix="fourorders-bench-") as tmp,
        temporary_database(ADMIN_URL, prefix="fourorders_bench") as url,
    ):
        results = asyncio.run(bench(args, Path(tmp), url))
    results.update(
        started_at=started.isoformat(timespec="seconds"),
        seconds=round((datetime.now(UTC) - started).total_seconds(), 1),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        command="python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv),
    )
    results["targets"] = verdicts(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (args.out / "latest.md").write_text(markdown(results))
    if results.get("sweep"):
        plot(results["sweep"], args.out / "concurrency.png")
    if results.get("scale"):
        from bench.scaling import plot_scale

        plot_scale(results["scale"], args.out / "scale.png")
    print(markdown(results))


if __name__ == "__main__":
    main()
