"""The API's cost per lifecycle, A against B, back to back on one stack.

``python -m bench.profile_api --other /path/to/a/checkout`` starts one Temporal dev server,
one worker and two API processes on the same database and task queue: this checkout's
("this") and another checkout's ("other", e.g. ``git worktree add /tmp/base main``), both
with this interpreter. It then drives ``--n`` lifecycles through each in turn, ``--rounds``
times, and prints each API's CPU ms per lifecycle, PostgreSQL's, and the commands' p50/p99.
Alternating on one stack is what makes the two comparable on a shared, noisy machine.
``--py-spy DIR`` records a flame graph of each API for its first round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from api.database import Database
from bench.measure import ADMIN_URL, BIN, CpuMeter, Timings, measured
from bench.stack import (
    Callers,
    Stack,
    healthy,
    ok,
    project_lifecycle,
    temporal_client,
    wait_until_up,
)
from core.db import make_engine
from core.dbadmin import temporary_database
from tests.helpers import free_port

log = logging.getLogger("bench.profile_api")
QUEUE = "profile-api"


def start_api(stack: Stack, name: str, cwd: Path) -> tuple[int, str]:
    port = free_port()
    argv = [
        *(sys.executable, "-m", "uvicorn", "api.main:app"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--log-level", "warning", "--no-access-log"),
    ]
    out = (stack.workdir / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        argv, cwd=cwd, env=stack.env(QUEUE), stdout=out, stderr=subprocess.STDOUT
    )
    stack.procs[name] = proc
    return proc.pid, f"http://127.0.0.1:{port}"


async def drive(
    http: httpx.AsyncClient, callers: Callers, volunteers: list[int], n: int, concurrency: int
) -> dict[str, Any]:
    timings = Timings()
    name = f"prof-{free_port()}"
    ok(
        await http.post(
            "/api/townships", json={"name": name, "name_en": name}, headers=callers.admin
        )
    )

    async def one(_i: int, slot: int) -> None:
        volunteer = volunteers[slot % len(volunteers)]
        await timings.time("lifecycle", project_lifecycle(http, timings, callers, volunteer, name))

    return await measured(n, concurrency, one, timings)


async def profile(
    args: argparse.Namespace, workdir: Path, database_url: str
) -> list[dict[str, Any]]:
    stack = Stack.with_temporal(workdir, database_url)
    try:
        await temporal_client(stack)
        stack.start("worker", [sys.executable, "worker.py"], stack.env(QUEUE))
        apis = {
            "this": start_api(stack, "api-this", Path.cwd()),
            "other": start_api(stack, "api-other", args.other),
        }
        https = {
            name: httpx.AsyncClient(base_url=url, timeout=120) for name, (_pid, url) in apis.items()
        }
        for http in https.values():
            await wait_until_up(partial(healthy, http), "API")
        db, settings = Database(make_engine(database_url)), stack.settings()
        callers = await Callers.sign_in(db, settings)
        volunteers = []
        for k in range(args.concurrency):
            body = {
                "name": f"志愿者{k}",
                "phone": f"1390000{k:04d}",
                "township": "蓼皋街道",
                "skills": ["care"],
            }
            created = await https["this"].post("/api/volunteers", json=body, headers=callers.admin)
            volunteers.append(ok(created)["id"])
            await callers.add_volunteer(db, settings, volunteers[-1])
        for http in https.values():
            await drive(http, callers, volunteers, 10, min(5, args.concurrency))
        rows = []
        for r in range(args.rounds):
            order = list(apis) if r % 2 == 0 else list(reversed(apis))
            for name in order:
                pid = apis[name][0]
                spy = None
                if args.py_spy and r < 2:
                    spy = await asyncio.create_subprocess_exec(
                        *(str(BIN / "py-spy"), "record", "--pid", str(pid), "--nonblocking"),
                        *("-o", str(args.py_spy / f"{name}-{r}.svg"), "--rate", "200"),
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                with CpuMeter({"api": pid}, stack.database) as meter:
                    result = await drive(https[name], callers, volunteers, args.n, args.concurrency)
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    await spy.wait()
                cpu = meter.per_lifecycle_ms(args.n)
                lat = result["latency"]
                row = {
                    "round": r,
                    "api": name,
                    "per_s": result["lifecycles_per_s"],
                    "api_cpu_ms": cpu["api"],
                    "pg_cpu_ms": cpu["postgresql"],
                    **{
                        f"{c}_p50": lat[c]["p50_ms"]
                        for c in (
                            "submit",
                            "dispatch",
                            "accept",
                            "complete",
                            "review",
                            "follow_up_result",
                        )
                    },
                    **{f"{c}_p99": lat[c]["p99_ms"] for c in ("dispatch", "accept", "complete")},
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
        for http in https.values():
            await http.aclose()
        return rows
    finally:
        stack.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--other", type=Path, required=True)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--py-spy", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    with (
        tempfile.TemporaryDirectory(prefix="profile-api-") as tmp,
        temporary_database(ADMIN_URL, prefix="profile_api") as database_url,
    ):
        rows = asyncio.run(profile(args, Path(tmp), database_url))
    for name in ("this", "other"):
        mine = [r for r in rows if r["api"] == name]
        keys = [k for k in mine[0] if k not in ("round", "api")]
        means = {k: round(sum(r[k] for r in mine) / len(mine), 1) for k in keys}
        print(name, json.dumps(means))


if __name__ == "__main__":
    main()
