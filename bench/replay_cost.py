"""What Temporal's workflow sandbox costs our workflow: ``python -m bench.replay_cost``.

Replays every recorded history of the current version (``tests/histories``) with the
sandboxed and with the unsandboxed runner, in turns, and prints the CPU time per history
of each. Replay runs the workflow code and the SDK's conversions exactly as a worker does,
without a server, a database or a network, so the difference is the sandbox's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from tests.helpers import HISTORIES
from workflows.order import OrderWorkflow
from workflows.recognition.workflow import RecognitionWorkflow


def histories() -> list[WorkflowHistory]:
    return [
        WorkflowHistory.from_json(path.stem, path.read_text())
        for path in sorted(HISTORIES.glob("*.json"))
    ]


async def cpu_ms_per_history(runner: WorkflowRunner, recorded: list[WorkflowHistory]) -> float:
    replayer = Replayer(workflows=[OrderWorkflow, RecognitionWorkflow], workflow_runner=runner)
    started = time.process_time()
    for history in recorded:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            raise SystemExit(f"{history.workflow_id} does not replay: {result.replay_failure}")
    return (time.process_time() - started) * 1000 / len(recorded)


async def main(rounds: int) -> None:
    recorded = histories()
    runners: dict[str, WorkflowRunner] = {
        "sandboxed": SandboxedWorkflowRunner(),
        "unsandboxed": UnsandboxedWorkflowRunner(),
    }
    for runner in runners.values():  # warm both: imports, bytecode
        await cpu_ms_per_history(runner, recorded[:1])
    figures: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, runner in runners.items():
            figures[name].append(await cpu_ms_per_history(runner, recorded))
    medians = {name: statistics.median(values) for name, values in figures.items()}
    print(f"{len(recorded)} histories, {rounds} rounds, CPU ms per history (median):")
    for name, value in medians.items():
        print(f"  {name:12} {value:7.2f}")
    print(f"  sandboxed / unsandboxed = {medians['sandboxed'] / medians['unsandboxed']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
