"""The fault suite: ``make chaos`` (``python -m bench.chaos --help``).

Starts its own stack, each part a process of its own: a private PostgreSQL cluster on its own
port (stopped and started by the suite, so nothing else on the machine is touched), a Temporal
dev server on a SQLite file, the Twilio simulator, the worker and the API. It drives ``--n``
lifecycles through the HTTP API, paced over the fault schedule: submit, dispatch, accept,
complete, review, then the automated follow-up call through the simulator (or an agent, when
the calls could not settle it), with SMS at every step. Meanwhile:

- the worker is SIGKILLed every 2-5 s and started again;
- the API is SIGKILLed and started again, twice;
- the Temporal dev server is SIGKILLed and started again, once (same database file);
- PostgreSQL is stopped (``immediate``, as a crash) for 20 s, once;
- the simulator answers 500s, then does not answer at all, for 30 s.

The client behaves as a careful one: it retries what failed (5xx, no answer) with backoff,
submits with an ``Idempotency-Key``, and takes a 409 for a step the order has already taken
as done. Then it checks and prints: lost orders (not closed), duplicated or out-of-order
audit events, doubled calls per (order, attempt) and SMS per key, orders whose read model
differs from their workflow (``python -m api.cli verify --all``), server errors (a 5xx other
than 503/504), and the time to recover after each fault (from the restart to the first
command that succeeded after it). It exits 1 when any count is above zero, and writes
``bench/results/chaos-latest.json`` and ``chaos-latest.md``.

``--quick`` is the small version ``make test`` runs (a dozen lifecycles, the same faults,
shorter).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from api.database import Database
from bench.measure import RESULTS
from bench.stack import Callers, Stack, healthy, order_json, volunteer_json, wait_until_up
from core.db import make_engine
from core.dbadmin import temporary_database
from core.settings import ROOT, SIMULATOR_ACCOUNT_SID
from scripts.test_env import EmbeddedPostgres
from tests.helpers import free_port
from twilio_sim import SimControl

log = logging.getLogger("bench.chaos")
TOWNSHIP = "蓼皋街道"
SIM_TOKEN = "chaos-sim-token"
FROM_NUMBER = "+862388880000"
STATUS_RANK = {s: i for i, s in enumerate(
    ["pending", "dispatched", "accepted", "completed", "reviewed", "closed"]
)}  # fmt: skip
# Events each of these lifecycles has exactly once.
ONCE = ("submitted", "dispatched", "accepted", "completed", "reviewed", "follow_up_created")
Json = dict[str, Any]


@dataclass(frozen=True)
class Schedule:
    """When each fault starts (seconds into the run) and how long the slow ones last."""

    api_kills: tuple[float, ...] = (15.0, 80.0)
    temporal_kill: float = 30.0
    postgres_stop: float = 45.0
    postgres_down: float = 20.0
    sim_outage: float = 95.0
    sim_errors: float = 10.0
    sim_silence: float = 30.0
    worker_kill_every: tuple[float, float] = (2.0, 5.0)
    # Lifecycles start spread over this long, so traffic flows through every fault.
    length: float = 140.0

    def scaled(self, factor: float) -> Schedule:
        return Schedule(
            api_kills=tuple(t * factor for t in self.api_kills),
            temporal_kill=self.temporal_kill * factor,
            postgres_stop=self.postgres_stop * factor,
            postgres_down=self.postgres_down * factor,
            sim_outage=self.sim_outage * factor,
            sim_errors=self.sim_errors * factor,
            sim_silence=self.sim_silence * factor,
            worker_kill_every=self.worker_kill_every,
            length=self.length * factor,
        )


@dataclass
class Fault:
    kind: str
    at: float  # wall-clock time the fault began
    back: float  # wall-clock time the process was started again (or the outage ended)


@dataclass
class Request:
    sent: float
    done: float
    ok: bool
    command: bool  # a POST that goes through the workflow (needs worker and Temporal)


@dataclass
class Driver:
    """An HTTP client that retries as a careful client would, and remembers every attempt."""

    http: httpx.AsyncClient
    # How long one call may keep failing, and a lifecycle wait for its follow-up to settle.
    patience: float = 900.0
    requests: list[Request] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    retries: int = 0

    async def call(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        body: Json | None = None,
        done: Callable[[], Awaitable[Json | None]] | None = None,
    ) -> Json:
        """The answer once the call succeeded; ``done`` says whether a 409 means "already"."""
        deadline, pause = time.time() + self.patience, 0.2
        while True:
            sent = time.time()
            try:
                r: httpx.Response | None = await self.http.request(
                    method, url, json=body, headers=headers, timeout=60
                )
            except httpx.TransportError:
                r = None
            succeeded = r is not None and r.status_code < 300
            command = method == "POST" and url.startswith(("/api/orders/", "/api/follow-ups/"))
            self.requests.append(Request(sent, time.time(), succeeded, command))
            if r is not None and succeeded:
                answer: Json = r.json()
                return answer
            if r is not None and r.status_code >= 500 and r.status_code not in (503, 504):
                self.server_errors.append(f"{method} {url}: {r.status_code} {r.text[:300]}")
            if r is not None and r.status_code == 409 and done is not None:
                finished = await done()
                if finished is not None:
                    return finished
            elif r is not None and r.status_code < 500 and r.status_code not in (409, 429):
                raise RuntimeError(f"{method} {url}: {r.status_code} {r.text[:300]}")
            if time.time() > deadline:
                raise RuntimeError(f"{method} {url} did not succeed within {self.patience:.0f} s")
            self.retries += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 3.0)


@dataclass
class World:
    driver: Driver
    callers: Callers
    volunteers: list[int]
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    async def lifecycle(self, i: int) -> str:
        d, c = self.driver, self.callers
        key = {"Idempotency-Key": f"chaos-{self.run_id}-{i}"}
        order = await d.call(
            "POST", "/api/orders", {**c.resident, **key}, body=order_json(TOWNSHIP)
        )
        oid = order["id"]
        base = f"/api/orders/{oid}"
        vid = self.volunteers[i % len(self.volunteers)]
        helper = c.volunteers[vid]

        def reached(status: str) -> Callable[[], Awaitable[Json | None]]:
            async def check() -> Json | None:
                now = await d.call("GET", base, c.admin)
                return now if STATUS_RANK.get(now["status"], -1) >= STATUS_RANK[status] else None

            return check

        await d.call(
            "POST",
            f"{base}/dispatch",
            c.admin,
            body={"volunteer_id": vid},
            done=reached("dispatched"),
        )
        await d.call("POST", f"{base}/accept", helper, done=reached("accepted"))
        done = {"summary": "药已送到", "hours": 1}
        await d.call("POST", f"{base}/complete", helper, body=done, done=reached("completed"))
        rating = {"rating": "satisfied"}
        await d.call("POST", f"{base}/review", c.resident, body=rating, done=reached("reviewed"))
        # The automated call settles the follow-up, or hands it to the call center's queue.
        deadline = time.time() + d.patience
        while time.time() < deadline:
            now = await d.call("GET", base, c.admin)
            follow_up = now["follow_up"]
            if now["status"] == "closed":
                return str(oid)
            if follow_up and follow_up["status"] == "open":
                result = {"method": "phone", "outcome": "confirmed"}
                await d.call(
                    "POST",
                    f"/api/follow-ups/{follow_up['id']}/result",
                    c.agent,
                    body=result,
                    done=reached("closed"),
                )
                return str(oid)
            await asyncio.sleep(0.5)
        raise RuntimeError(f"order {oid} did not close")


@dataclass
class Chaos:
    stack: Stack
    cluster: EmbeddedPostgres
    sim: SimControl
    schedule: Schedule
    rng: random.Random
    faults: list[Fault] = field(default_factory=list)
    stopping: bool = False

    async def workers(self) -> None:
        """SIGKILL the worker 2-5 s after it starts polling, and start it again, until told
        to stop. (Its start takes seconds on a busy machine: counted from the start, the
        kills would leave it no time to work at all.)"""
        low, high = self.schedule.worker_kill_every
        while not self.stopping:
            await asyncio.sleep(self.rng.uniform(low, high))
            if self.stopping:
                return
            at = time.time()
            log_file = self.stack.workdir / "worker.log"
            seen = log_file.stat().st_size
            await asyncio.to_thread(self.stack.kill, "worker")
            self.stack.restart("worker")
            await _logged(log_file, seen, b"worker polling")
            self.faults.append(Fault("worker", at, time.time()))

    async def _bounce(self, name: str) -> None:
        at = time.time()
        await asyncio.to_thread(self.stack.kill, name)
        self.stack.restart(name)
        self.faults.append(Fault(name, at, time.time()))

    async def others(self, t0: float) -> None:
        """The API, Temporal, PostgreSQL and Twilio faults, each at its time."""
        s = self.schedule
        plan: list[tuple[float, str]] = [(t, "api") for t in s.api_kills]
        plan += [(s.temporal_kill, "temporal"), (s.postgres_stop, "postgres")]
        plan += [(s.sim_outage, "sim")]
        for at, kind in sorted(plan):
            await asyncio.sleep(max(0.0, t0 + at - time.time()))
            log.info("fault: %s", kind)
            if kind in ("api", "temporal"):
                await self._bounce(kind)
            elif kind == "postgres":
                began = time.time()
                await asyncio.to_thread(self.cluster.stop, "immediate")
                await asyncio.sleep(s.postgres_down)
                await asyncio.to_thread(self.cluster.start)
                self.faults.append(Fault("postgres", began, time.time()))
            else:
                began = time.time()
                await asyncio.to_thread(self.sim.outage, "error", s.sim_errors)
                await asyncio.sleep(s.sim_errors)
                await asyncio.to_thread(self.sim.outage, "hang", s.sim_silence)
                await asyncio.sleep(s.sim_silence)
                self.faults.append(Fault("twilio", began, time.time()))


async def _logged(path: Path, offset: int, line: bytes, within: float = 120.0) -> None:
    """Wait until ``line`` appears in the log past ``offset`` (a restarted process is up)."""
    deadline = time.time() + within
    while time.time() < deadline:
        with path.open("rb") as f:
            f.seek(offset)
            if line in f.read():
                return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{path.name}: no {line!r} within {within:.0f} s")


# --- checks ----------------------------------------------------------------------------------


def audit_problems(url: str, orders: list[str]) -> dict[str, list[str]]:
    """Per order: events not numbered 1, 2, 3 … in time order, or a step recorded twice."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT o.public_id, e.seq, e.event, e.at FROM order_events e "
                    "JOIN orders o ON o.id = e.order_id WHERE o.public_id = ANY(:ids) "
                    "ORDER BY o.public_id, e.seq"
                ),
                {"ids": orders},
            ).all()
    finally:
        engine.dispose()
    trails: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        trails[row.public_id].append(row)
    duplicated, out_of_order = [], []
    for oid, trail in trails.items():
        counts = Counter(r.event for r in trail)
        if any(counts[e] != 1 for e in ONCE) or counts["closed"] != 1:
            duplicated.append(f"{oid}: {dict(counts)}")
        seqs, times = [r.seq for r in trail], [r.at for r in trail]
        if seqs != list(range(1, len(seqs) + 1)) or times != sorted(times):
            out_of_order.append(f"{oid}: seq {seqs}")
    return {"duplicated": duplicated, "out_of_order": out_of_order}


def doubled_calls(url: str, calls: list[Json]) -> list[str]:
    """More than one call row per (follow-up, attempt), or Twilio asked twice for one row."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT follow_up_id, attempt, count(*) AS n FROM follow_up_calls "
                    "GROUP BY follow_up_id, attempt HAVING count(*) > 1"
                )
            ).all()
    finally:
        engine.dispose()
    found = [f"follow-up {r.follow_up_id} attempt {r.attempt}: {r.n} rows" for r in rows]
    per_row = Counter(_id_in(c.get("url"), r"/calls/(\d+)/") for c in calls)
    found += [f"call row {k}: placed {n} times" for k, n in per_row.items() if k and n > 1]
    return found


def doubled_sms(messages: list[Json]) -> list[str]:
    per_key = Counter(_id_in(m.get("status_callback"), r"/sms/(\d+)/") for m in messages)
    return [f"sms row {k}: sent {n} times" for k, n in per_key.items() if k and n > 1]


def _id_in(url: str | None, pattern: str) -> str | None:
    found = re.search(pattern, url or "")
    return found.group(1) if found else None


def verify(stack: Stack) -> tuple[int, str]:
    """``python -m api.cli verify --all``: how many orders drifted or did not answer."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "verify", "--all"],
        cwd=ROOT,
        env=stack.env("chaos"),
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines() or [done.stderr.strip()]
    summary = lines[-1]
    numbers = dict(re.findall(r"(drifted|unanswered) (\d+)", summary))
    if not numbers:
        return 1, f"verify failed: {done.stderr.strip()[-300:]}"
    # Which orders and what in them: a mismatch must say where to look.
    drifted = [line for line in lines[:-1] if line.strip()][:10]
    return int(numbers["drifted"]) + int(numbers["unanswered"]), "; ".join([*drifted, summary])


def recovery(
    faults: list[Fault], requests: list[Request], sim_times: list[float]
) -> dict[str, Any]:
    """Seconds from each fault's end to the first success that needed what had failed."""
    per_kind: dict[str, list[float]] = defaultdict(list)
    for fault in faults:
        if fault.kind == "twilio":
            after = [t - fault.back for t in sim_times if t >= fault.back]
        else:
            commands_only = fault.kind in ("worker", "temporal")
            after = [
                r.done - fault.back
                for r in requests
                if r.ok and r.sent >= fault.back and (r.command or not commands_only)
            ]
        if after:
            per_kind[fault.kind].append(min(after))
    return {kind: _stats(values) for kind, values in per_kind.items()}


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "median_s": round(statistics.median(ordered), 2),
        "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "max_s": round(ordered[-1], 2),
    }


def _sim_created(items: list[Json]) -> list[float]:
    return [parsedate_to_datetime(i["resource"]["date_created"]).timestamp() for i in items]


# --- the run ---------------------------------------------------------------------------------


def postgres_binaries() -> Path | None:
    """The newest local PostgreSQL's server binaries (Debian's), else the ``pg`` extra's."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    schedule = Schedule(worker_kill_every=args.worker_kill_every)
    if args.quick:
        schedule = Schedule(
            **{
                **asdict(schedule.scaled(0.3)),
                "postgres_down": 5.0,
                "sim_errors": 3.0,
                "sim_silence": 5.0,
            }
        )
    cluster = EmbeddedPostgres(
        workdir / "pg", port=free_port(), bin_dir=postgres_binaries(), durable=True
    )
    admin_url = await asyncio.to_thread(cluster.start)
    try:
        with temporary_database(admin_url, prefix="fourorders_chaos") as url:
            return await _drive(args, workdir, url, cluster, schedule)
    finally:
        await asyncio.to_thread(cluster.stop)


async def _drive(
    args: argparse.Namespace,
    workdir: Path,
    url: str,
    cluster: EmbeddedPostgres,
    schedule: Schedule,
) -> dict[str, Any]:
    stack = Stack.with_temporal(workdir, url)
    sim_url = f"http://127.0.0.1:{free_port()}"
    extra = {
        "ENVIRONMENT": "test",
        "TWILIO_ACCOUNT_SID": SIMULATOR_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": SIM_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": sim_url,
        "PUBLIC_BASE_URL": stack.api_url,
        "CALLING_HOURS": "00:00-24:00",
        "FOLLOW_UP_MAX_CALLS": "2",
        "FOLLOW_UP_RETRY_DELAY": "5s",
        "FOLLOW_UP_CALL_TIMEOUT": "20s" if args.quick else "60s",
        "FOLLOW_UP_AFTER_REVIEW": "1s",
        "DATABASE_POOL_SIZE": "20",
    }
    stack.extra_env.update(extra)
    sim = SimControl(sim_url)
    try:
        port = sim_url.rsplit(":", 1)[1]
        stack.start(
            "sim",
            [sys.executable, "-m", "twilio_sim", "--port", port, "--log-level", "WARNING"],
            stack.env("chaos"),
        )
        stack.start("worker", [sys.executable, "worker.py"], stack.env("chaos"))
        stack.start_api("chaos")
        limits = httpx.Limits(max_connections=args.concurrency * 2 + 20)
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60, limits=limits) as http:
            await wait_until_up(lambda: healthy(http), "API", within=180)
            await wait_until_up(lambda: asyncio.to_thread(sim.calls, settled=False), "simulator")
            db = Database(make_engine(url))
            callers = await Callers.sign_in(db, stack.settings())
            # The quick run's orders close within a minute or two: one stuck for minutes is
            # lost, and make test should say so without waiting a quarter of an hour.
            driver = Driver(http, patience=240.0 if args.quick else 900.0)
            volunteers = []
            for k in range(args.concurrency):
                body = volunteer_json(k, TOWNSHIP)
                created = await driver.call("POST", "/api/volunteers", callers.admin, body=body)
                volunteers.append(int(created["id"]))
                await callers.add_volunteer(db, stack.settings(), volunteers[-1])
            world = World(driver, callers, volunteers)
            chaos = Chaos(stack, cluster, sim, schedule, random.Random(args.seed))
            lost: list[str] = []
            gate = asyncio.Semaphore(args.concurrency)
            t0 = time.time()

            async def paced(i: int) -> str | None:
                await asyncio.sleep(max(0.0, t0 + i * schedule.length / args.n - time.time()))
                async with gate:
                    try:
                        return await world.lifecycle(i)
                    except Exception as exc:
                        log.warning("lifecycle %d failed: %s", i, exc)
                        lost.append(f"lifecycle {i}: {exc}")
                        return None

            log.info("%d lifecycles over %.0f s of faults", args.n, schedule.length)
            killing = asyncio.create_task(chaos.workers())
            others = asyncio.create_task(chaos.others(t0))
            results = await asyncio.gather(*(paced(i) for i in range(args.n)))
            await others
            chaos.stopping = True
            await killing
            driven_s = time.time() - t0
            closed = [oid for oid in results if oid is not None]
            log.info("driven in %.0f s; checking", driven_s)

            calls = await asyncio.to_thread(sim.calls, settled=True)
            messages = await asyncio.to_thread(sim.messages, settled=True)
            audit = audit_problems(url, closed)
            mismatched, verify_line = await asyncio.to_thread(verify, stack)
            counts = {
                "lost": len(lost) + len(_not_closed(url, closed)),
                "duplicated": len(audit["duplicated"]),
                "out_of_order": len(audit["out_of_order"]),
                "doubled_calls": len(doubled_calls(url, calls)),
                "doubled_sms": len(doubled_sms(messages)),
                "mismatched": mismatched,
                "server_errors": len(driver.server_errors),
            }
            return {
                "counts": counts,
                "lifecycles": args.n,
                "closed": len(closed),
                "driven_s": round(driven_s, 1),
                "client_retries": driver.retries,
                "calls_placed": len(calls),
                "sms_sent": len(messages),
                "faults": dict(Counter(f.kind for f in chaos.faults)),
                "recovery": recovery(chaos.faults, driver.requests, _sim_created(calls + messages)),
                "verify": verify_line,
                "schedule": asdict(schedule),
                "details": {
                    "lost": lost[:20],
                    "server_errors": driver.server_errors[:20],
                    **{k: v[:20] for k, v in audit.items()},
                    "doubled_calls": doubled_calls(url, calls)[:20],
                    "doubled_sms": doubled_sms(messages)[:20],
                },
            }
    finally:
        sim.close()
        stack.stop_all()


def _not_closed(url: str, orders: list[str]) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.scalars(
                    text(
                        "SELECT public_id FROM orders "
                        "WHERE public_id = ANY(:ids) AND status <> 'closed'"
                    ),
                    {"ids": orders},
                )
            )
    finally:
        engine.dispose()


def markdown(results: dict[str, Any]) -> str:
    counts = results["counts"]
    lines = [
        "# Fault suite (`make chaos`)",
        "",
        f"`{results['command']}` on {results['machine']}, {results['started_at']}: "
        f"{results['lifecycles']} lifecycles, {results['closed']} closed, driven in "
        f"{results['driven_s']} s with {results['client_retries']} client retries; "
        f"{results['calls_placed']} calls and {results['sms_sent']} SMS through the simulator.",
        "",
        "| check | count |",
        "|---|---|",
        *(f"| {name.replace('_', ' ')} | {value} |" for name, value in counts.items()),
        "",
        f"Faults: {', '.join(f'{k} ×{v}' for k, v in results['faults'].items())}. "
        f"Verify: `{results['verify']}`.",
        "",
        "| recovery after | faults | median s | p95 s | max s |",
        "|---|---|---|---|---|",
        *(
            f"| {kind} | {r['count']} | {r['median_s']} | {r['p95_s']} | {r['max_s']} |"
            for kind, r in results["recovery"].items()
        ),
        "",
        "Recovery: from the restart (the worker: from its polling again; PostgreSQL and "
        "Twilio: from the outage's end) to the first success that needed what had failed (a "
        "command for the worker and Temporal, any request for the API and PostgreSQL, a call "
        "or SMS reaching the simulator for Twilio).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--n", type=int, default=300, help="lifecycles (default 300)")
    parser.add_argument(
        "--concurrency", type=int, default=100, help="lifecycles in flight at most (and volunteers)"
    )
    parser.add_argument("--seed", type=int, default=17, help="the worker kills' timing")
    parser.add_argument(
        "--worker-kill-every",
        type=lambda text: tuple(float(x) for x in text.split(",")),
        default=(2.0, 5.0),
        help="seconds of polling before each worker kill, drawn from LOW,HIGH (default 2,5)",
    )
    parser.add_argument("--quick", action="store_true", help="the small version make test runs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the working folder (logs, Temporal's database) for a post-mortem",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    started = datetime.now(UTC)
    with contextlib.ExitStack() as stack:
        if args.keep:
            workdir = Path(tempfile.mkdtemp(prefix="fourorders-chaos-"))
            log.info("working folder, kept: %s", workdir)
        else:
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="fourorders-chaos-"))
            )
        workdir.chmod(0o755)  # PostgreSQL runs as nobody when we are root
        results = asyncio.run(run(args, workdir))
    results.update(
        started_at=started.isoformat(timespec="seconds"),
        seconds=round((datetime.now(UTC) - started).total_seconds(), 1),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        command="python -m bench.chaos " + " ".join(sys.argv[1:] if argv is None else argv),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "chaos-latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    report = markdown(results)
    (args.out / "chaos-latest.md").write_text(report)
    print(report)
    bad = {k: v for k, v in results["counts"].items() if v}
    if bad:
        print(f"FAILED: {bad}\n{json.dumps(results['details'], indent=2, ensure_ascii=False)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
