"""The stack a benchmark runs against (Temporal, PostgreSQL, the worker and the API as
processes), and the drivers that walk orders through it."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import make_url
from temporalio.client import Client

from api.database import Database
from bench.baseline import BareInput, BareLifecycle, BareStep, start_attributes
from bench.measure import BIN, Timings, measured, open_loop, summary_ms
from core.settings import ROOT, Settings
from core.temporal import dev_server_command
from core.vocab import Role
from tests import signin
from tests.helpers import free_port

log = logging.getLogger("bench")


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


# The drivers: one lifecycle through the API, or bare through the SDK.


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


async def healthy(http: httpx.AsyncClient) -> None:
    """Raises until the API answers its health check."""
    ok(await http.get("/healthz"))


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
