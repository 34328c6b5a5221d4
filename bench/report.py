"""A benchmark run's verdicts against its targets, and its markdown."""

from __future__ import annotations

from typing import Any

from bench import scaling

# The performance targets.
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
    """The performance targets against what this run measured (those of the sections it ran)."""
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
    lines = [
        "# Lifecycle benchmark",
        "",
        f"Run {results['started_at']} on {results['machine']} in {results['seconds']} s:",
        "",
        f"```sh\n{results['command']}\n```",
        "",
        "## The performance targets",
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
