"""The fault suite's small version: a dozen lifecycles through every fault ``make chaos``
injects (worker kills, API and Temporal restarts, PostgreSQL down, Twilio failing), and
nothing lost, doubled, mismatched or answered with a server error."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from core.settings import ROOT


async def test_a_dozen_lifecycles_through_every_fault_lose_and_double_nothing(
    tmp_path: Path,
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.chaos",
        "--quick",
        "--n",
        "12",
        "--concurrency",
        "6",
        "--out",
        str(tmp_path),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    results = json.loads((tmp_path / "chaos-latest.json").read_text())
    assert await proc.wait() == 0, out.decode()[-4000:]
    assert results["closed"] == 12
    assert all(count == 0 for count in results["counts"].values()), results["counts"]
    assert {"worker", "api", "temporal", "postgres", "twilio"} <= set(results["faults"])
