"""Measuring a benchmark run: percentiles, timings, CPU and memory of each process."""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.settings import ROOT

log = logging.getLogger("bench")
RESULTS = ROOT / "bench" / "results"
ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
BIN = Path(sys.executable).parent


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
