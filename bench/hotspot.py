"""Many orders for one volunteer at once: ``make bench-hotspot`` (``python -m bench.hotspot``).

A popular helper, or a unit's leader handing out a batch, makes every transition of those
orders touch the same volunteer row. This starts its own stack (a Temporal dev server, a
fresh PostgreSQL database, the worker and the API as separate processes, as ``make bench``
does), drives ``--n`` full lifecycles through the HTTP API at ``--concurrency``, all for one
volunteer (or, with ``--team``, dispatched to one unit whose leader assigns them to its
members), and prints:

- the seconds the lifecycles took, and how many closed;
- the deadlocks PostgreSQL counted in the database meanwhile (``pg_stat_database``);
- every volunteer counter that differs from a recount of their orders.

It exits non-zero when any order did not close, any deadlock happened, or a counter drifted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from api.database import Database
from bench.measure import ADMIN_URL, Timings
from bench.stack import (
    Callers,
    Stack,
    healthy,
    ok,
    project_lifecycle,
    volunteer_json,
    wait_until_up,
)
from core.db import make_engine
from core.dbadmin import temporary_database
from core.matching import counter_drift

log = logging.getLogger("bench.hotspot")
TOWNSHIP = "蓼皋街道"


def deadlocks(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.scalar(
                text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            )
        return int(found or 0)
    finally:
        engine.dispose()


def drift(url: str, volunteer_ids: list[int]) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return counter_drift(conn, volunteer_ids)
    finally:
        engine.dispose()


async def drive(args: argparse.Namespace, workdir: Path, url: str) -> dict[str, Any]:
    stack = Stack.with_temporal(workdir, url)
    try:
        queue = "bench-hotspot"
        stack.start("worker", [sys.executable, "worker.py"], stack.env(queue))
        stack.start_api(queue)
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=120) as http:
            await wait_until_up(lambda: healthy(http), "API", within=120)
            timings = Timings()
            settings = stack.settings()
            db = Database(make_engine(url))
            callers = await Callers.sign_in(db, settings)

            async def register(k: int) -> int:
                body = volunteer_json(k, TOWNSHIP)
                created = await http.post("/api/volunteers", json=body, headers=callers.admin)
                volunteer = int(ok(created)["id"])
                return volunteer

            if args.team:
                leader = await register(0)
                members = [await register(k) for k in (1, 2)]
                unit = {"kind": "team", "name": "忙碌队", "township": TOWNSHIP, "leader_id": leader}
                admin = callers.admin
                unit_id = ok(await http.post("/api/units", json=unit, headers=admin))["id"]
                for m in members:
                    moved = {"unit_id": unit_id}
                    ok(await http.post(f"/api/volunteers/{m}/transfer", json=moved, headers=admin))
                for v in (leader, *members):
                    await callers.add_volunteer(db, settings, v)
                watched = members

                async def one(i: int) -> None:
                    member = members[i % len(members)]
                    await project_lifecycle(
                        http, timings, callers, member, TOWNSHIP, unit=(unit_id, leader)
                    )
            else:
                helper = await register(0)
                await callers.add_volunteer(db, settings, helper)
                watched = [helper]

                async def one(i: int) -> None:
                    await project_lifecycle(http, timings, callers, helper, TOWNSHIP)

            before = deadlocks(url)
            gate = asyncio.Semaphore(args.concurrency)
            failures: list[str] = []

            async def lane(i: int) -> None:
                async with gate:
                    try:
                        await asyncio.wait_for(one(i), timeout=args.timeout)
                    except Exception as exc:  # report every failure, whatever it was
                        failures.append(f"lifecycle {i}: {type(exc).__name__}: {exc}"[:300])

            started = time.perf_counter()
            await asyncio.gather(*(lane(i) for i in range(args.n)))
            seconds = time.perf_counter() - started
        stack.stop("api")
        stack.stop("worker")  # its backends exit and report their statistics
        await asyncio.sleep(1)
        return {
            "mode": "team (one leader assigns)" if args.team else "one volunteer",
            "n": args.n,
            "concurrency": args.concurrency,
            "seconds": round(seconds, 1),
            "closed": args.n - len(failures),
            "deadlocks": deadlocks(url) - before,
            "counter_drift": drift(url, watched),
            "failures": failures[:5],
            "latency": timings.report(),
        }
    finally:
        stack.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20, help="lifecycles")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--team", action="store_true", help="through one unit's leader")
    parser.add_argument(
        "--timeout", type=float, default=180, help="seconds before a lifecycle counts as stuck"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with (
        tempfile.TemporaryDirectory(prefix="fourorders-hotspot-") as tmp,
        temporary_database(ADMIN_URL, prefix="fourorders_hotspot") as url,
    ):
        result = asyncio.run(drive(args, Path(tmp), url))
    print(f"{result['mode']}: {result['n']} lifecycles at concurrency {result['concurrency']}")
    print(f"  closed     {result['closed']} of {result['n']} in {result['seconds']} s")
    print(f"  deadlocks  {result['deadlocks']}")
    print(f"  counters   {'exact' if not result['counter_drift'] else result['counter_drift']}")
    for name, figures in result["latency"].items():
        print(f"  {name:<10} p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms")
    for failure in result["failures"]:
        print(f"  {failure}")
    bad = result["closed"] < result["n"] or result["deadlocks"] or result["counter_drift"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
