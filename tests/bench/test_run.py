"""The lifecycle benchmark's small version: every section of ``make bench`` at smoke sizes,
so none of them rots between the full runs on a quiet machine."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from bench.run import COMMANDS, QUICK, SECTIONS
from core.settings import ROOT


async def test_every_section_runs_at_smoke_sizes_and_judges_its_targets(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bench.run", "--quick", "--out", str(tmp_path)),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert await proc.wait() == 0, out.decode()[-4000:]
    results = json.loads((tmp_path / "latest.json").read_text())
    assert {"main", "steady", "submit_rate", "sweep", "scaleout", "escalation", "scale"} <= set(
        results
    ), f"{SECTIONS} not all run"

    cpu = results["main"]["cpu"]
    assert 0 < cpu["baseline_ms"] < cpu["system_ms"]
    steady = results["steady"]
    assert steady["errors"] == 0
    assert all(steady["latency"][c]["count"] >= steady["lifecycles"] for c in COMMANDS)

    # Orders the levels leave open count towards the next, and the escalation's join them.
    scale = results["scale"]
    levels = zip(scale["rows"], QUICK["scale"], strict=True)
    assert all(r["open_orders"] >= level for r, level in levels)
    assert all(r["submit_errors"] == 0 and r["lifecycle_errors"] == 0 for r in scale["rows"])
    assert all(
        r["db_bytes_per_order"] > 0 and r["history_bytes_per_order"] > 0 for r in scale["rows"]
    )
    assert scale["rows"][0]["worker_rss_holding_mb"] > 0
    assert all(r["backlog_reported"] for r in scale["rows"])

    escalation = results["escalation"]
    assert escalation["open_before"] >= QUICK["escalation_open"]
    assert escalation["escalated"] == escalation["orders"] == QUICK["escalation_orders"]
    assert escalation["missing"] == 0
    # Never before the deadline, and recorded no earlier than the timer fired.
    assert 0 <= escalation["timer_fired"]["p50_ms"] <= escalation["in_read_model"]["p50_ms"]

    out_ = results["scaleout"]
    assert out_["two"]["errors"] == 0
    assert out_["orders_checked"] == out_["n"] == QUICK["scaleout_n"]
    assert out_["duplicated"] == [] and out_["out_of_order"] == []
    assert out_["two"]["cpu_ms_per_lifecycle"]["worker 2"] > 0

    assert len(results["targets"]) == 8, results["targets"]
    markdown = (tmp_path / "latest.md").read_text()
    assert markdown.count("PASS") + markdown.count("FAIL") >= 8 + len(COMMANDS)
    assert "python -m bench.run --quick" in markdown
    assert (tmp_path / "scale.png").stat().st_size > 0
    assert (tmp_path / "concurrency.png").stat().st_size > 0
