"""The lifecycle benchmark: ``make bench`` (or ``python -m bench.run --help``).

Starts its own stack on this machine: a Temporal dev server (SQLite file, WAL, as
``make run``), a fresh PostgreSQL database, the project's worker and API as separate
processes, and the bare baseline worker. Then, in one run:

Each section is chosen with ``--sections`` (all by default, at issue 15's sizes; ``--quick``
for a smoke run of every one), and issue 15's targets are judged at the top of the results:

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
import itertools
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
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import SecretStr
from sqlalchemy import make_url
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


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving ``database``, by process id: its
    process title names the database, so other databases on the same server do not count."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().decode(errors="replace")
            if title.startswith("postgres: ") and f" {database} " in title:
                found[int(cmdline.parent.name)] = cpu_seconds(int(cmdline.parent.name))
        except (OSError, IndexError, ValueError):
            continue  # it exited meanwhile
    return found


@dataclass
class CpuMeter:
    """CPU seconds each part of the stack spends during a phase.

    PostgreSQL counts the backends of ``database`` only (the server's shared background
    processes serve every database on it); a backend that exits during the phase loses
    what it spent since the phase began, which connection pools make rare."""

    pids: dict[str, int]
    database: str
    start: dict[str, float] = field(default_factory=dict)
    backends: dict[int, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        now = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        now["benchmark driver"] = time.process_time()
        return now

    def __enter__(self) -> CpuMeter:
        self.start = self._now()
        self.backends = postgres_backends(self.database)
        return self

    def per_lifecycle_ms(self, lifecycles: int) -> dict[str, float]:
        end = self._now()
        spent = {name: end[name] - self.start[name] for name in end}
        spent["postgresql"] = sum(
            cpu - self.backends.get(pid, 0.0)
            for pid, cpu in postgres_backends(self.database).items()
        )
        return {
            name: round(seconds / max(lifecycles, 1) * 1000, 2) for name, seconds in spent.items()
        }

    def __exit__(self, *exc: object) -> None:
        return None


# Processes that are not the system under test: the load generator and the idle baseline.
NOT_THE_SYSTEM = frozenset({"benchmark driver", "baseline worker"})


def system_cpu_ms(cpu_ms: dict[str, float]) -> float:
    """CPU per lifecycle of the system: Temporal, workers, APIs and PostgreSQL."""
    return round(sum(v for k, v in cpu_ms.items() if k not in NOT_THE_SYSTEM), 2)


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


async def open_loop(
    rate: float, total: int, one: Callable[[int], Coroutine[Any, Any, None]]
) -> tuple[list[BaseException | None], float]:
    """Start ``one(k)`` for k < total, ``rate`` a second on a fixed schedule; return each
    outcome (an exception or None) and how late the latest start was against the schedule."""
    tasks: list[asyncio.Task[None]] = []
    late = 0.0
    start = time.perf_counter()
    for k in range(total):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        late = max(late, -delay)
        tasks.append(asyncio.create_task(one(k)))
    return await asyncio.gather(*tasks, return_exceptions=True), late


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

    @property
    def database(self) -> str:
        """The application database's name."""
        return str(make_url(self.database_url).database)

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

    def start_api(
        self, task_queue: str, *, name: str = "api", url: str | None = None, **extra: str
    ) -> int:
        """The API as ``name`` on ``url`` (the stack's own by default), with ``extra`` settings."""
        port = (url or self.api_url).rsplit(":", 1)[1]
        return self.start(
            name,
            [
                *(sys.executable, "-m", "uvicorn", "api.main:app"),
                *("--host", "127.0.0.1", "--port", port),
                *("--log-level", "warning", "--no-access-log"),
                # Longer than the clients' pools keep an idle connection (httpx: 5 s, uvicorn's
                # default too): else the server closes one just as a request goes out on it,
                # and the request fails with a ReadError that no server ever saw.
                *("--timeout-keep-alive", "30"),
            ],
            self.env(task_queue, **extra),
        )


async def temporal_client(stack: Stack) -> Client:
    """A client of the stack's Temporal server, once it answers (the SDK's plain converter:
    the bare baseline is what a Temporal user writes by default)."""
    connected: list[Client] = []

    async def connect() -> None:
        connected.append(await Client.connect(stack.temporal_address))

    await wait_until_up(connect, "Temporal")
    return connected[-1]


async def wait_until_up(
    check: Callable[[], Awaitable[Any]], what: str, within: float = 180
) -> None:
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


class RoundRobin:
    """Several API processes behind one client, each request to the next, as a load balancer
    would: a lifecycle's commands land on different processes."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self._next = itertools.cycle(clients)

    def post(self, url: str, **kwargs: Any) -> Awaitable[httpx.Response]:
        return next(self._next).post(url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Awaitable[httpx.Response]:
        return next(self._next).get(url, **kwargs)


Http = httpx.AsyncClient | RoundRobin


async def project_lifecycle(
    http: Http,
    timings: Timings,
    callers: Callers,
    volunteer: int,
    township: str,
    *,
    unit: tuple[int, int] | None = None,
) -> str:
    """One order round the loop; with ``unit`` (its id, its leader) through the unit's leader.
    Returns the order's id."""
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
    while True:
        # The follow-up task opens right after the review, asynchronously; until it does,
        # the order is not the call center's to see (404).
        read = await timings.time("get_order", http.get(base, headers=agent))
        if read.status_code != 404 and (follow_up := ok(read)["follow_up"]):
            break
        await asyncio.sleep(0.01)
    result = {"method": "phone", "outcome": "confirmed"}
    recorded = http.post(f"/api/follow-ups/{follow_up['id']}/result", json=result, headers=agent)
    closed = ok(await timings.time("follow_up_result", recorded))
    if closed["status"] != "closed":
        raise RuntimeError(f"order {oid} ended {closed['status']}")
    return str(oid)


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
    db: Database

    async def township(self, prefix: str) -> str:
        """A township of the phase's own, so its list queries see only its orders."""
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        body = {"name": name, "name_en": name}
        ok(await self.http.post("/api/townships", json=body, headers=self.callers.admin))
        return name

    async def project(
        self,
        n: int,
        concurrency: int,
        *,
        tolerate_errors: bool = False,
        http: Http | None = None,
        orders: list[str] | None = None,
    ) -> dict[str, Any]:
        """``n`` lifecycles through ``http`` (the stack's API by default); each order's id is
        appended to ``orders`` when given."""
        timings = Timings()
        township = await self.township("bench")

        async def one(_i: int, slot: int) -> None:
            volunteer = self.volunteers[slot % len(self.volunteers)]
            oid = await timings.time(
                "lifecycle",
                project_lifecycle(http or self.http, timings, self.callers, volunteer, township),
            )
            if orders is not None:
                orders.append(oid)

        return await measured(n, concurrency, one, timings, tolerate_errors=tolerate_errors)

    async def steady(self, rate: float, seconds: float) -> dict[str, Any]:
        """Open loop: a lifecycle starts every 1/``rate`` s whatever the others are doing, so
        a slow command shows as its own latency instead of slowing the load down."""
        timings = Timings()
        township = await self.township("bench-steady")

        async def one(i: int) -> None:
            volunteer = self.volunteers[i % len(self.volunteers)]
            await timings.time(
                "lifecycle",
                project_lifecycle(self.http, timings, self.callers, volunteer, township),
            )

        total = int(rate * seconds)
        results, late = await open_loop(rate, total, one)
        errors = [r for r in results if isinstance(r, Exception)]
        for error in errors[:5]:
            log.warning("steady lifecycle failed: %r", error)
        return {
            "rate_per_s": rate,
            "seconds": seconds,
            "lifecycles": total,
            "errors": len(errors),
            "start_late_max_ms": round(late * 1000, 1),
            "latency": timings.report(),
        }

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
            # The newest 50 (an admin's first page; newer orders than this one are at most a
            # second's submits): a page of 200 twenty times a second loaded the API more than
            # the submits the probe measures.
            params: dict[str, str | int] = {"status": "pending", "township": township, "limit": 50}
            while True:
                listed = ok(
                    await self.http.get("/api/orders", params=params, headers=self.callers.admin)
                )
                if any(o["id"] == order["id"] for o in listed["items"]):
                    visible.append(time.perf_counter() - start)
                    return
                await asyncio.sleep(0.005)

        total = int(rate * seconds)
        results, _late = await open_loop(rate, total, lambda _i: one())
        return {
            "rate_per_s": rate,
            "submits": total,
            "errors": sum(isinstance(r, Exception) for r in results),
            "submit": summary_ms(timings.by_name["submit"]),
            "visible_as_pending": summary_ms(visible),
        }


# --- report ------------------------------------------------------------------------------


# Issue 15's targets.
THROUGHPUT_RATIO = 0.85
CPU_RATIO = 1.1
COMMAND_P99_MS = 100.0
SUBMIT_P99_MS = 100.0
ESCALATION_P99_MS = 1000.0
HOLDING_RATIO = 0.9
WORKER_RSS_MB = 600.0
# The commands of a lifecycle that the steady-rate target covers.
COMMANDS = ("submit", "dispatch", "accept", "complete", "review", "follow_up_result", "get_order")


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 15's targets against what this run measured (those of the sections it ran)."""
    rows: list[dict[str, Any]] = []

    def add(target: str, measured: str, passed: bool) -> None:
        rows.append({"target": target, "measured": measured, "pass": passed})

    if main := results.get("main"):
        p = main["project"]
        add(
            f"lifecycles/s ≥ {THROUGHPUT_RATIO} × bare baseline "
            f"(N={p['n']}, concurrency {p['concurrency']})",
            f"{p['lifecycles_per_s']} / {main['baseline']['lifecycles_per_s']} = {main['ratio']}",
            main["ratio"] >= THROUGHPUT_RATIO and p["errors"] == 0,
        )
        cpu = main["cpu"]
        add(
            f"system CPU per lifecycle ≤ {CPU_RATIO} × bare baseline's",
            f"{cpu['system_ms']} / {cpu['baseline_ms']} ms = {cpu['ratio']}",
            cpu["ratio"] <= CPU_RATIO,
        )
    if steady := results.get("steady"):
        worst = max(COMMANDS, key=lambda c: steady["latency"].get(c, {}).get("p99_ms", 0))
        p99 = steady["latency"].get(worst, {}).get("p99_ms", float("nan"))
        add(
            f"every command's p99 ≤ {COMMAND_P99_MS:g} ms at {steady['rate_per_s']} lifecycles/s",
            f"worst: {worst} {p99} ms, {steady['errors']} errors",
            all(steady["latency"][c]["p99_ms"] <= COMMAND_P99_MS for c in COMMANDS)
            and steady["errors"] == 0,
        )
    if rate := results.get("submit_rate"):
        add(
            f"submit p99 ≤ {SUBMIT_P99_MS:g} ms at {rate['rate_per_s']} submits/s",
            f"{rate['submit']['p99_ms']} ms, {rate['errors']} errors",
            rate["submit"]["p99_ms"] <= SUBMIT_P99_MS and rate["errors"] == 0,
        )
    if esc := results.get("escalation"):
        lag = esc["in_read_model"]
        add(
            f"escalation lag p99 ≤ {ESCALATION_P99_MS:g} ms with {esc['open_before']} open",
            f"{lag['p99_ms']} ms (max {lag['max_ms']}), {esc['missing']} never escalated",
            lag["p99_ms"] <= ESCALATION_P99_MS and esc["missing"] == 0 and esc["errors"] == 0,
        )
    if scale := results.get("scale"):
        top = max(scale["rows"], key=lambda r: r["open_orders"])
        add(
            f"with {top['open_orders']} open: lifecycles/s ≥ {HOLDING_RATIO} × idle",
            f"{top['lifecycles_per_s']} / {scale['idle']['lifecycles_per_s']} "
            f"= {top['ratio_to_idle']}",
            top["ratio_to_idle"] >= HOLDING_RATIO and top["lifecycle_errors"] == 0,
        )
        add(
            f"with {top['open_orders']} open: worker RSS < {WORKER_RSS_MB:g} MB",
            f"{top['worker_rss_holding_mb']} MB holding, peak {top['worker_peak_rss_mb']} MB",
            top["worker_peak_rss_mb"] < WORKER_RSS_MB,
        )
    if out := results.get("scaleout"):
        add(
            "two workers + two APIs: no errors, no step recorded twice",
            f"{out['two']['errors']} errors, {len(out['duplicated'])} doubled, "
            f"{len(out['out_of_order'])} out of order in {out['orders_checked']} orders; "
            f"CPU two/one {out['cpu_ratio_two_to_one']}",
            out["two"]["errors"] == 0 and not out["duplicated"] and not out["out_of_order"],
        )
    return rows


def markdown(results: dict[str, Any]) -> str:
    from bench import scaling  # it imports this module

    lines = [
        "# Lifecycle benchmark",
        "",
        f"Run {results['started_at']} on {results['machine']} in {results['seconds']} s:",
        "",
        f"```sh\n{results['command']}\n```",
        "",
        "## Issue 15's targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
        *(
            f"| {v['target']} | {v['measured']} | {'PASS' if v['pass'] else '**FAIL**'} |"
            for v in results["targets"]
        ),
    ]
    for key, render in (
        ("main", _main_markdown),
        ("steady", _steady_markdown),
        ("submit_rate", _rate_markdown),
        ("sweep", _sweep_markdown),
        ("scaleout", scaling.scale_out_markdown),
        ("escalation", scaling.escalation_markdown),
        ("scale", scaling.scale_markdown),
    ):
        if results.get(key):
            lines += ["", *render(results[key])]
    return "\n".join(lines) + "\n"


def _main_markdown(main: dict[str, Any]) -> list[str]:
    p, b = main["project"], main["baseline"]
    loop = main.get("loop_baseline")
    runs = [p, b] + ([loop] if loop else [])
    total = [round(sum(r["cpu_ms_per_lifecycle"].values()), 1) for r in runs]
    cpu = main["cpu"]
    lines = [
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
        f"{p['concurrency']} (target ≥ {THROUGHPUT_RATIO}).",
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
        f"The system without the load generator (Temporal server, project worker, API, "
        f"PostgreSQL): **{cpu['system_ms']} ms** per lifecycle; the bare baseline's (Temporal "
        f"server, baseline worker): **{cpu['baseline_ms']} ms**; ratio **{cpu['ratio']}** "
        f"(target ≤ {CPU_RATIO}).",
        "",
        "### API latency per endpoint (project run)",
        "",
        *_latency_table(p["latency"]),
    ]
    return lines


def _latency_table(
    latency: dict[str, dict[str, float]], p99_target: float | None = None
) -> list[str]:
    """Per endpoint; with ``p99_target``, each command judged against it."""
    verdict = "" if p99_target is None else " |"
    lines = [
        "| endpoint | count | p50 ms | p95 ms | p99 ms |" + verdict,
        "|---|---:|---:|---:|---:|" + ("---|" if verdict else ""),
    ]
    for name, s in latency.items():
        row = f"| {name} | {s['count']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} |"
        if p99_target is not None:
            judged = "PASS" if s["p99_ms"] <= p99_target else "**FAIL**"
            row += f" {judged if name in COMMANDS else ''} |"
        lines.append(row)
    return lines


def _steady_markdown(steady: dict[str, Any]) -> list[str]:
    return [
        f"## A steady {steady['rate_per_s']} lifecycles/s for {steady['seconds']:g} s",
        "",
        f"Open loop: a lifecycle starts every {1 / steady['rate_per_s']:g} s whatever the "
        f"others are doing ({steady['lifecycles']} lifecycles, {steady['errors']} errors; "
        f"the latest start {steady['start_late_max_ms']} ms behind schedule). "
        f"Target: each command's p99 ≤ {COMMAND_P99_MS:g} ms.",
        "",
        *_latency_table(steady["latency"], COMMAND_P99_MS),
    ]


def _rate_markdown(r: dict[str, Any]) -> list[str]:
    return [
        f"## Submits at {r['rate_per_s']}/s ({r['submits']} submits, {r['errors']} errors)",
        "",
        "| | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|",
        f"| submit | {r['submit']['p50_ms']} | {r['submit']['p95_ms']} | {r['submit']['p99_ms']} |",
        f"| submit → visible as pending in the list | {r['visible_as_pending']['p50_ms']} "
        f"| {r['visible_as_pending']['p95_ms']} | {r['visible_as_pending']['p99_ms']} |",
        "",
        f"Target: submit p99 ≤ {SUBMIT_P99_MS:g} ms at 20 submits/s.",
    ]


def _sweep_markdown(sweep: list[dict[str, Any]]) -> list[str]:
    return [
        "## Concurrency sweep",
        "",
        "| concurrency | project lifecycles/s | project lifecycle p99 ms | baseline lifecycles/s "
        "| ratio |",
        "|---:|---:|---:|---:|---:|",
        *(
            f"| {row['concurrency']} | {row['project_lifecycles_per_s']} "
            f"| {row['project_p99_ms']} | {row['baseline_lifecycles_per_s']} | {row['ratio']} |"
            for row in sweep
        ),
        "",
        "![lifecycles/s and p99 against concurrency](concurrency.png)",
    ]


def plot_two_axes(
    path: Path,
    title: str,
    legend_at: Literal["upper left", "lower left"],
    draw: Callable[[Any, Any], None],
) -> None:
    """A plot with a left and a right y axis, which ``draw(left, right)`` fills, and one legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, left = plt.subplots(figsize=(7, 4))
    right = left.twinx()
    draw(left, right)
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles, [str(h.get_label()) for h in handles], loc=legend_at, fontsize=8)
    left.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot(sweep: list[dict[str, Any]], path: Path) -> None:
    xs = [row["concurrency"] for row in sweep]

    def draw(left: Any, right: Any) -> None:
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
        right.plot(
            xs,
            [r["project_p99_ms"] for r in sweep],
            "^:",
            color="tab:red",
            label="project lifecycle p99",
        )
        right.set_ylabel("lifecycle p99 (ms)")

    plot_two_axes(path, "Four-order lifecycles against concurrency", "upper left", draw)


# --- main --------------------------------------------------------------------------------


SECTIONS = ("main", "steady", "rate", "sweep", "scaleout", "escalation", "scale")


async def bench(args: argparse.Namespace, workdir: Path, database_url: str) -> dict[str, Any]:
    from bench import scaling  # it imports this module

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
            await wait_until_up(lambda: _healthy(http), "API")
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
    from bench import scaling  # it imports this module

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


async def _healthy(http: httpx.AsyncClient) -> None:
    ok(await http.get("/healthz"))


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
