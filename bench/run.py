"""The lifecycle benchmark: ``make bench`` (or ``python -m bench.run --help``).

Starts its own stack on this machine: a Temporal dev server (SQLite file, WAL, as
``make run``), a fresh PostgreSQL database, the project's worker and API as separate
processes, and the bare baseline worker. Then, in one run:

1. ``--n`` full lifecycles at ``--concurrency`` through the HTTP API, and the same number
   of bare lifecycles straight from the SDK: throughput and the ratio project / baseline.
2. Submits at a fixed ``--rate`` for ``--rate-seconds``: submit latency, and the time until
   the new order is visible as pending in the admin list.
3. A concurrency sweep of both (for the plot).
4. ``--open-orders`` orders left waiting on their 72-hour timers: worker memory, history
   size per order, and lifecycle throughput while they wait.

Writes ``bench/results/latest.json``, ``latest.md`` and ``concurrency.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from temporalio.client import Client

from api.database import Database
from bench.baseline import BareInput, BareLifecycle, BareStep, start_attributes
from core.db import make_engine
from core.dbadmin import temporary_database
from core.settings import ROOT, Settings
from core.temporal import dev_server_command
from core.vocab import Role
from tests import signin
from tests.helpers import free_port

log = logging.getLogger("bench")
RESULTS = ROOT / "bench" / "results"
ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
BIN = Path(sys.executable).parent


# --- measuring ---------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50_ms": round(pct(values, 50) * 1000, 1),
        "p95_ms": round(pct(values, 95) * 1000, 1),
        "p99_ms": round(pct(values, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else float("nan"),
    }


@dataclass
class Timings:
    by_name: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: int = 0

    async def time(self, name: str, call: Awaitable[Any]) -> Any:
        start = time.perf_counter()
        result = await call
        self.by_name[name].append(time.perf_counter() - start)
        return result

    def report(self) -> dict[str, dict[str, float]]:
        return {name: summary_ms(v) for name, v in sorted(self.by_name.items())}


def peak_rss_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_cpu_seconds() -> float:
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text_ = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text_:
            total += cpu_seconds(int(stat.parent.name))
    return total


@dataclass
class CpuMeter:
    """CPU seconds each part of the stack spends during a phase."""

    pids: dict[str, int]
    start: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        now = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        now["postgresql"] = postgres_cpu_seconds()
        now["benchmark driver"] = time.process_time()
        return now

    def __enter__(self) -> CpuMeter:
        self.start = self._now()
        return self

    def per_lifecycle_ms(self, lifecycles: int) -> dict[str, float]:
        end = self._now()
        return {
            name: round((end[name] - self.start[name]) / max(lifecycles, 1) * 1000, 2)
            for name in end
        }

    def __exit__(self, *exc: object) -> None:
        return None


async def run_many(
    n: int,
    concurrency: int,
    one: Callable[[int, int], Awaitable[None]],
    *,
    tolerate_errors: bool = False,
) -> tuple[float, int]:
    """Run ``one(i, slot)`` for i < n with ``concurrency`` in flight; return (seconds, errors)."""
    counter = iter(range(n))
    errors = 0

    async def lane(slot: int) -> None:
        nonlocal errors
        for i in counter:
            try:
                await one(i, slot)
            except Exception as exc:
                errors += 1
                log.warning("lifecycle %s failed: %r", i, exc)

    start = time.perf_counter()
    await asyncio.gather(*(lane(s) for s in range(concurrency)))
    if errors > n // 10 and not tolerate_errors:
        raise RuntimeError(f"{errors} of {n} lifecycles failed; see the warnings above")
    return time.perf_counter() - start, errors


async def measured(
    n: int,
    concurrency: int,
    one: Callable[[int, int], Awaitable[None]],
    timings: Timings,
    *,
    tolerate_errors: bool = False,
) -> dict[str, Any]:
    seconds, errors = await run_many(n, concurrency, one, tolerate_errors=tolerate_errors)
    return {
        "n": n,
        "concurrency": concurrency,
        "seconds": round(seconds, 2),
        "errors": errors,
        "lifecycles_per_s": round((n - errors) / seconds, 2),
        "latency": timings.report(),
    }


# --- the stack ---------------------------------------------------------------------------


@dataclass
class Stack:
    workdir: Path
    database_url: str
    temporal_address: str
    api_url: str
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # How each process was started, so the fault suite can start it again after a kill.
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = field(default_factory=dict)
    # Settings every process of this stack gets on top of ``env()``'s (the fault suite's).
    extra_env: dict[str, str] = field(default_factory=dict)
    # A fresh secret per run (production refuses to start without one), shared by every
    # process and by the driver, which signs its callers' tokens with it.
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def env(self, task_queue: str, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_TASK_QUEUE": task_queue,
            "ENVIRONMENT": "production",
            "JWT_SECRET": self.jwt_secret,
            # A run lasts longer than a sign-in, and one resident orders thousands of times.
            "ACCESS_TOKEN_TTL": "24h",
            "ORDER_SUBMIT_PER_RESIDENT": "1000000000/day",
            "ORDER_SUBMIT_PER_IP": "1000000000/minute",
            **self.extra_env,
            **extra,
        }

    def settings(self) -> Settings:
        """The settings the API reads, as the driver needs them to sign tokens."""
        return Settings(
            environment="production",
            database_url=self.database_url,
            jwt_secret=SecretStr(self.jwt_secret),
            access_token_ttl=timedelta(hours=24),
        )

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
        out = (self.workdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        self.commands[name] = (argv, env)
        return proc.pid

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        proc = self.procs.pop(name)
        proc.kill()
        proc.wait()

    def restart(self, name: str) -> int:
        argv, env = self.commands[name]
        return self.start(name, argv, env)

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)

    @classmethod
    def with_temporal(cls, workdir: Path, database_url: str) -> Stack:
        """A stack whose Temporal dev server (SQLite file, as ``make run``) is starting."""
        temporal_port = free_port()
        stack = cls(
            workdir=workdir,
            database_url=database_url,
            temporal_address=f"127.0.0.1:{temporal_port}",
            api_url=f"http://127.0.0.1:{free_port()}",
        )
        stack.start(
            "temporal",
            [
                *dev_server_command(
                    str(BIN / "temporal"), db_file=workdir / "temporal.db", port=temporal_port
                ),
                "--headless",
                "--http-port",
                str(free_port()),
                "--metrics-port",
                str(free_port()),
            ],
        )
        return stack

    def start_api(self, task_queue: str) -> int:
        port = self.api_url.rsplit(":", 1)[1]
        return self.start(
            "api",
            [
                *(sys.executable, "-m", "uvicorn", "api.main:app"),
                *("--host", "127.0.0.1", "--port", port),
                *("--log-level", "warning", "--no-access-log"),
            ],
            self.env(task_queue),
        )


async def wait_until_up(check: Callable[[], Awaitable[Any]], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            await check()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not come up") from None
            await asyncio.sleep(0.3)


# --- drivers -----------------------------------------------------------------------------


def order_json(township: str) -> dict[str, str]:
    return {
        "item_code": "care.errands",
        "reason": "需要代买药品",
        "address": "蓼皋街道龙井社区3组12号",
        "township": township,
        "resident_name": "龙秀英",
    }


def volunteer_json(k: int, township: str) -> dict[str, Any]:
    """The ``k``-th volunteer the fault and hot-spot runs register: room for many orders."""
    return {
        "name": f"志愿者{k}",
        "phone": f"1390000{k:04d}",
        "township": township,
        "skills": ["care"],
        "max_open_orders": 20,
    }


@dataclass
class Callers:
    """Who drives the lifecycles, each signed in: the resident, an admin, an agent, the
    volunteers (tokens signed as sign-in signs them, so the bench sends no SMS)."""

    admin: dict[str, str]
    agent: dict[str, str]
    resident: dict[str, str]
    volunteers: dict[int, dict[str, str]] = field(default_factory=dict)

    @classmethod
    async def sign_in(cls, db: Database, settings: Settings) -> Callers:
        return cls(
            admin=await signin.staff(db, settings, Role.ADMIN),
            agent=await signin.staff(db, settings, Role.AGENT),
            resident=await signin.resident(db, settings),
        )

    async def add_volunteer(self, db: Database, settings: Settings, volunteer_id: int) -> None:
        self.volunteers[volunteer_id] = await signin.volunteer(db, settings, volunteer_id)


def ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json()


async def project_lifecycle(
    http: httpx.AsyncClient,
    timings: Timings,
    callers: Callers,
    volunteer: int,
    township: str,
    *,
    unit: tuple[int, int] | None = None,
) -> None:
    """One order round the loop; with ``unit`` (its id, its leader) through the unit's leader."""
    resident, admin, agent = callers.resident, callers.admin, callers.agent
    helper = callers.volunteers[volunteer]
    submitted = http.post("/api/orders", json=order_json(township), headers=resident)
    oid = ok(await timings.time("submit", submitted))["id"]
    base = f"/api/orders/{oid}"
    target = {"volunteer_id": volunteer} if unit is None else {"unit_id": unit[0]}
    ok(await timings.time("dispatch", http.post(f"{base}/dispatch", json=target, headers=admin)))
    if unit is not None:
        leader = callers.volunteers[unit[1]]
        assign = http.post(f"{base}/assign", json={"volunteer_id": volunteer}, headers=leader)
        ok(await timings.time("assign", assign))
    ok(await timings.time("accept", http.post(f"{base}/accept", headers=helper)))
    done = {"summary": "药已送到", "hours": 1}
    ok(await timings.time("complete", http.post(f"{base}/complete", json=done, headers=helper)))
    rating = {"rating": "satisfied"}
    ok(await timings.time("review", http.post(f"{base}/review", json=rating, headers=resident)))
    while True:  # the follow-up task opens right after the review, asynchronously
        follow_up = ok(await timings.time("get_order", http.get(base, headers=agent)))["follow_up"]
        if follow_up:
            break
        await asyncio.sleep(0.01)
    result = {"method": "phone", "outcome": "confirmed"}
    recorded = http.post(f"/api/follow-ups/{follow_up['id']}/result", json=result, headers=agent)
    closed = ok(await timings.time("follow_up_result", recorded))
    if closed["status"] != "closed":
        raise RuntimeError(f"order {oid} ended {closed['status']}")


async def bare_lifecycle(
    client: Client, timings: Timings, task_queue: str, i: int, *, loop_timers: bool = False
) -> None:
    inp = BareInput(i, loop_timers=loop_timers)
    handle = await timings.time(
        "start",
        client.start_workflow(
            BareLifecycle.run,
            inp,
            id=f"bare-{uuid.uuid4().hex}",
            task_queue=task_queue,
            search_attributes=start_attributes(inp),
        ),
    )
    for name, update in (
        ("dispatch", BareLifecycle.dispatch),
        ("accept", BareLifecycle.accept),
        ("complete", BareLifecycle.complete),
        ("review", BareLifecycle.review),
        ("follow_up", BareLifecycle.follow_up),
    ):
        await timings.time(name, handle.execute_update(update, BareStep(name)))
    await handle.result()


@dataclass
class Bench:
    stack: Stack
    http: httpx.AsyncClient
    client: Client
    volunteers: list[int]
    project_queue: str
    baseline_queue: str
    callers: Callers

    async def township(self, prefix: str) -> str:
        """A township of the phase's own, so its list queries see only its orders."""
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        body = {"name": name, "name_en": name}
        ok(await self.http.post("/api/townships", json=body, headers=self.callers.admin))
        return name

    async def project(
        self, n: int, concurrency: int, *, tolerate_errors: bool = False
    ) -> dict[str, Any]:
        timings = Timings()
        township = await self.township("bench")

        async def one(_i: int, slot: int) -> None:
            volunteer = self.volunteers[slot % len(self.volunteers)]
            await timings.time(
                "lifecycle",
                project_lifecycle(self.http, timings, self.callers, volunteer, township),
            )

        return await measured(n, concurrency, one, timings, tolerate_errors=tolerate_errors)

    async def baseline(
        self, n: int, concurrency: int, *, loop_timers: bool = False
    ) -> dict[str, Any]:
        timings = Timings()

        async def one(i: int, _slot: int) -> None:
            await timings.time(
                "lifecycle",
                bare_lifecycle(
                    self.client, timings, self.baseline_queue, i, loop_timers=loop_timers
                ),
            )

        return await measured(n, concurrency, one, timings)

    async def submit_rate(self, rate: float, seconds: float) -> dict[str, Any]:
        """Open loop: ``rate`` submits a second, each followed until listed as pending."""
        timings = Timings()
        township = await self.township("bench-rate")
        visible: list[float] = []

        async def one() -> None:
            start = time.perf_counter()
            submitted = self.http.post(
                "/api/orders", json=order_json(township), headers=self.callers.resident
            )
            order = ok(await timings.time("submit", submitted))
            params: dict[str, str | int] = {"status": "pending", "township": township, "limit": 200}
            while True:
                listed = ok(
                    await self.http.get("/api/orders", params=params, headers=self.callers.admin)
                )
                if any(o["id"] == order["id"] for o in listed["items"]):
                    visible.append(time.perf_counter() - start)
                    return
                await asyncio.sleep(0.005)

        tasks = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for k in range(total):
            delay = start + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        return {
            "rate_per_s": rate,
            "submits": total,
            "errors": sum(isinstance(r, Exception) for r in results),
            "submit": summary_ms(timings.by_name["submit"]),
            "visible_as_pending": summary_ms(visible),
        }

    async def hold_open_orders(self, count: int, concurrency: int) -> dict[str, Any]:
        township = await self.township("bench-open")
        timings = Timings()
        ids: list[str] = []

        async def one(_i: int, _slot: int) -> None:
            submitted = self.http.post(
                "/api/orders", json=order_json(township), headers=self.callers.resident
            )
            ids.append(ok(await timings.time("submit", submitted))["id"])

        seconds, errors = await run_many(count, concurrency, one)
        # Wait until the worker has run every sampled order's first task (its 72-hour
        # timer started): only then is the history what an open order holds.
        sample = [
            ok(await self.http.get(f"/api/orders/{oid}", headers=self.callers.admin))["workflow_id"]
            for oid in ids[:: max(1, len(ids) // 20)][:20] + ids[-10:]
        ]
        settle_start = time.perf_counter()
        while True:
            histories = [
                await self.client.get_workflow_handle(wid).fetch_history() for wid in sample
            ]
            if all(
                any(e.HasField("timer_started_event_attributes") for e in h.events)
                for h in histories
            ):
                break
            await asyncio.sleep(1)
        settled = time.perf_counter() - settle_start
        sizes = [len(h.to_json().encode()) for h in histories]
        events = [len(h.events) for h in histories]
        return {
            "orders": count,
            "errors": errors,
            "submit_seconds": round(seconds, 2),
            "settle_seconds_after_submits": round(settled, 2),
            "submits_per_s": round((count - errors) / seconds, 2),
            "submit": summary_ms(timings.by_name["submit"]),
            "history_bytes_per_open_order": round(statistics.fmean(sizes)),
            "history_events_per_open_order": round(statistics.fmean(events), 1),
        }


# --- report ------------------------------------------------------------------------------


def markdown(results: dict[str, Any]) -> str:
    main = results["main"]
    p, b = main["project"], main["baseline"]
    loop = main.get("loop_baseline")
    runs = [p, b] + ([loop] if loop else [])
    total = [round(sum(r["cpu_ms_per_lifecycle"].values()), 1) for r in runs]
    lines = [
        "# Lifecycle benchmark",
        "",
        f"Run {results['started_at']} on {results['machine']} with `{results['command']}`.",
        "",
        "## Project against bare Temporal",
        "",
        "| | lifecycles/s | errors | worker peak RSS |",
        "|---|---:|---:|---:|",
        f"| project (HTTP API, worker, PostgreSQL) | {p['lifecycles_per_s']} | {p['errors']} "
        f"| {main['project_worker_memory']['peak_rss_mb']} MB |",
        f"| bare baseline (SDK, no-op activities) | {b['lifecycles_per_s']} | {b['errors']} "
        f"| {main['baseline_worker_memory']['peak_rss_mb']} MB |",
        *(
            [
                f"| bare baseline + the loop's timers and status attribute "
                f"| {loop['lifecycles_per_s']} | {loop['errors']} | |"
            ]
            if loop
            else []
        ),
        "",
        f"**ratio = project / baseline = {main['ratio']}** at N={p['n']}, concurrency "
        f"{p['concurrency']} (target ≥ 0.85).",
        *(
            [
                "",
                f"Against the baseline that also starts and cancels the loop's three timers "
                f"(deadline, accept timeout, review window) and keeps the status search "
                f"attribute, as any implementation of the loop must: "
                f"**{main['ratio_to_loop_baseline']}**.",
            ]
            if loop
            else []
        ),
        "",
        "### CPU per lifecycle (ms), by process",
        "",
        "All processes share the machine's cores, so throughput is about cores ÷ CPU per "
        "lifecycle: the ratio cannot exceed baseline CPU ÷ project CPU.",
        "",
        "| process | project run | baseline run |" + (" loop baseline run |" if loop else ""),
        "|---|---:|---:|" + ("---:|" if loop else ""),
        *[
            f"| {name} | " + " | ".join(str(r["cpu_ms_per_lifecycle"][name]) for r in runs) + " |"
            for name in p["cpu_ms_per_lifecycle"]
        ],
        "| **total** | " + " | ".join(f"**{t}**" for t in total) + " |",
        "",
        "### API latency per endpoint (project run)",
        "",
        "| endpoint | count | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, s in p["latency"].items():
        lines.append(f"| {name} | {s['count']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} |")
    r = results["submit_rate"]
    lines += [
        "",
        f"## Submits at {r['rate_per_s']}/s ({r['submits']} submits, {r['errors']} errors)",
        "",
        "| | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|",
        f"| submit | {r['submit']['p50_ms']} | {r['submit']['p95_ms']} | {r['submit']['p99_ms']} |",
        f"| submit → visible as pending in the list | {r['visible_as_pending']['p50_ms']} "
        f"| {r['visible_as_pending']['p95_ms']} | {r['visible_as_pending']['p99_ms']} |",
        "",
        "Target: submit p99 ≤ 250 ms at 20 submits/s.",
        "",
        "## Concurrency sweep",
        "",
        "| concurrency | project lifecycles/s | project lifecycle p99 ms | baseline lifecycles/s "
        "| ratio |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in results["sweep"]:
        lines.append(
            f"| {row['concurrency']} | {row['project_lifecycles_per_s']} "
            f"| {row['project_p99_ms']} | {row['baseline_lifecycles_per_s']} | {row['ratio']} |"
        )
    o = results.get("open_orders")
    if o:
        lines += [
            "",
            f"## {o['orders']} open orders waiting on their 72-hour timers",
            "",
            f"- submitted at {o['submits_per_s']}/s (p99 {o['submit']['p99_ms']} ms), "
            f"{o['errors']} errors; every first workflow task done "
            f"{o['settle_seconds_after_submits']} s after the last submit",
            f"- history per open order: {o['history_events_per_open_order']} events, "
            f"{o['history_bytes_per_open_order']} bytes",
            f"- worker RSS: {o['worker_rss_before_mb']} MB before, "
            f"{o['worker_rss_after_mb']} MB holding them (peak {o['worker_peak_rss_mb']} MB)",
            f"- after the burst, {o['quiet_seconds_after_settle']} s until one lifecycle ran "
            "about as fast as before it",
            f"- lifecycles/s while they wait: {o['lifecycles_per_s_while_holding']} "
            f"({o['lifecycle_errors_while_holding']} errors) against "
            f"{o['lifecycles_per_s_reference']} without them "
            f"(N={o['lifecycle_n']}, concurrency {o['lifecycle_concurrency']})",
        ]
    lines += ["", "![lifecycles/s and p99 against concurrency](concurrency.png)", ""]
    return "\n".join(lines)


def plot(sweep: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [row["concurrency"] for row in sweep]
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(
        xs, [r["project_lifecycles_per_s"] for r in sweep], "o-", label="project lifecycles/s"
    )
    left.plot(
        xs,
        [r["baseline_lifecycles_per_s"] for r in sweep],
        "s--",
        label="bare baseline lifecycles/s",
    )
    left.set_xlabel("concurrent lifecycles")
    left.set_ylabel("lifecycles per second")
    right = left.twinx()
    right.plot(
        xs,
        [r["project_p99_ms"] for r in sweep],
        "^:",
        color="tab:red",
        label="project lifecycle p99",
    )
    right.set_ylabel("lifecycle p99 (ms)")
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles, [str(h.get_label()) for h in handles], loc="upper left", fontsize=8)
    left.set_title("Four-order lifecycles against concurrency")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# --- main --------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, workdir: Path, database_url: str) -> dict[str, Any]:
    stack = Stack.with_temporal(workdir, database_url)
    try:
        client: Client | None = None

        async def connect() -> None:
            nonlocal client
            client = await Client.connect(stack.temporal_address)

        await wait_until_up(connect, "Temporal")
        assert client is not None
        project_queue, baseline_queue = "bench-project", "bench-baseline"
        worker_pid = stack.start("worker", [sys.executable, "worker.py"], stack.env(project_queue))
        baseline_pid = stack.start(
            "baseline", [sys.executable, "-m", "bench.baseline"], stack.env(baseline_queue)
        )
        api_pid = stack.start_api(project_queue)
        limits = httpx.Limits(max_connections=args.concurrency * 2 + 20)
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=120, limits=limits) as http:
            await wait_until_up(lambda: _healthy(http), "API")
            db, settings = Database(make_engine(database_url)), stack.settings()
            callers = await Callers.sign_in(db, settings)
            volunteers = []
            for k in range(max(args.concurrency, *args.sweep)):
                body = {
                    "name": f"志愿者{k}",
                    "phone": f"1390000{k:04d}",
                    "township": "蓼皋街道",
                    "skills": ["care"],
                }
                created = await http.post("/api/volunteers", json=body, headers=callers.admin)
                volunteers.append(ok(created)["id"])
                await callers.add_volunteer(db, settings, volunteers[-1])
            b = Bench(stack, http, client, volunteers, project_queue, baseline_queue, callers)

            log.info("warm-up")
            await b.project(min(20, args.n), min(5, args.concurrency))
            await b.baseline(min(20, args.n), min(5, args.concurrency))

            log.info("main: %d lifecycles at concurrency %d", args.n, args.concurrency)
            pids = {
                "temporal server": stack.procs["temporal"].pid,
                "project worker": worker_pid,
                "api": api_pid,
                "baseline worker": baseline_pid,
            }
            with CpuMeter(pids) as meter:
                project = await b.project(args.n, args.concurrency)
            project["cpu_ms_per_lifecycle"] = meter.per_lifecycle_ms(args.n)
            log.info("project: %s lifecycles/s", project["lifecycles_per_s"])
            with CpuMeter(pids) as meter:
                baseline = await b.baseline(args.n, args.concurrency)
            baseline["cpu_ms_per_lifecycle"] = meter.per_lifecycle_ms(args.n)
            log.info("baseline: %s lifecycles/s", baseline["lifecycles_per_s"])
            with CpuMeter(pids) as meter:
                loop_baseline = await b.baseline(args.n, args.concurrency, loop_timers=True)
            loop_baseline["cpu_ms_per_lifecycle"] = meter.per_lifecycle_ms(args.n)
            log.info(
                "baseline with the loop's timers: %s lifecycles/s",
                loop_baseline["lifecycles_per_s"],
            )
            main = {
                "project": project,
                "baseline": baseline,
                "loop_baseline": loop_baseline,
                "ratio": round(project["lifecycles_per_s"] / baseline["lifecycles_per_s"], 3),
                "ratio_to_loop_baseline": round(
                    project["lifecycles_per_s"] / loop_baseline["lifecycles_per_s"], 3
                ),
                "project_worker_memory": peak_rss_mb(worker_pid),
                "baseline_worker_memory": peak_rss_mb(baseline_pid),
            }

            save(args.out, {"main": main})
            log.info("submits at %s/s for %ss", args.rate, args.rate_seconds)
            rate = await b.submit_rate(args.rate, args.rate_seconds)

            sweep = []
            for c in args.sweep:
                log.info("sweep: concurrency %d", c)
                pr = await b.project(args.sweep_n, c)
                ba = await b.baseline(args.sweep_n, c)
                sweep.append(
                    {
                        "concurrency": c,
                        "n": args.sweep_n,
                        "project_lifecycles_per_s": pr["lifecycles_per_s"],
                        "baseline_lifecycles_per_s": ba["lifecycles_per_s"],
                        "ratio": round(pr["lifecycles_per_s"] / ba["lifecycles_per_s"], 3),
                        "project_p99_ms": pr["latency"]["lifecycle"]["p99_ms"],
                        "project_errors": pr["errors"],
                        "baseline_errors": ba["errors"],
                    }
                )

            open_orders: dict[str, Any] | None = None
            if args.open_orders:
                log.info("holding %d open orders", args.open_orders)
                reference = await b.project(args.sweep_n, args.concurrency)
                before = peak_rss_mb(worker_pid)["rss_mb"]
                open_orders = await b.hold_open_orders(args.open_orders, args.concurrency)
                save(
                    args.out,
                    {"main": main, "submit_rate": rate, "sweep": sweep, "open": open_orders},
                )
                # Until a single lifecycle runs about as fast as before, the stack is still
                # digesting the burst; how long that takes is a figure of its own.
                reference_p50 = reference["latency"]["lifecycle"]["p50_ms"] / 1000
                probe_start = time.perf_counter()
                while time.perf_counter() - probe_start < 600:
                    probe = await b.project(1, 1, tolerate_errors=True)
                    if not probe["errors"] and probe["seconds"] < 2 * reference_p50:
                        break
                    await asyncio.sleep(5)
                open_orders["quiet_seconds_after_settle"] = round(
                    time.perf_counter() - probe_start, 1
                )
                holding = await b.project(args.sweep_n, args.concurrency, tolerate_errors=True)
                mem = peak_rss_mb(worker_pid)
                open_orders.update(
                    worker_rss_before_mb=before,
                    worker_rss_after_mb=mem["rss_mb"],
                    worker_peak_rss_mb=mem["peak_rss_mb"],
                    lifecycle_n=args.sweep_n,
                    lifecycle_concurrency=args.concurrency,
                    lifecycles_per_s_reference=reference["lifecycles_per_s"],
                    lifecycles_per_s_while_holding=holding["lifecycles_per_s"],
                    lifecycle_errors_while_holding=holding["errors"],
                )
        return {"main": main, "submit_rate": rate, "sweep": sweep, "open_orders": open_orders}
    finally:
        stack.stop_all()


def save(out: Path, partial: dict[str, Any]) -> None:
    """Keep what a long run has measured so far, should a later phase fail."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "partial.json").write_text(json.dumps(partial, indent=2, ensure_ascii=False))


async def _healthy(http: httpx.AsyncClient) -> None:
    ok(await http.get("/healthz"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000, help="lifecycles in the main comparison")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="submits per second")
    parser.add_argument("--rate-seconds", type=float, default=15.0)
    parser.add_argument(
        "--sweep", type=lambda s: [int(x) for x in s.split(",")], default=[5, 10, 25, 50]
    )
    parser.add_argument("--sweep-n", type=int, default=300)
    parser.add_argument("--open-orders", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
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
        command="python -m bench.run " + " ".join(sys.argv[1:]),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (args.out / "latest.md").write_text(markdown(results))
    plot(results["sweep"], args.out / "concurrency.png")
    print(markdown(results))


if __name__ == "__main__":
    main()
