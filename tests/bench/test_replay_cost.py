"""The sandbox's cost figure (``python -m bench.replay_cost``) keeps running on our histories."""

from __future__ import annotations

import pytest
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from bench import replay_cost
from core.settings import Settings
from worker import workflow_runner


async def test_both_runners_replay_every_history_and_the_figures_print(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await replay_cost.main(rounds=1)
    out = capsys.readouterr().out
    assert f"{len(replay_cost.histories())} histories" in out
    assert "sandboxed /" in out and "unsandboxed" in out


def test_the_worker_runs_unsandboxed_unless_told_otherwise() -> None:
    default = workflow_runner(Settings(environment="test"))
    assert isinstance(default, UnsandboxedWorkflowRunner)
    sandboxed = workflow_runner(Settings(environment="test", workflow_sandbox=True))
    assert isinstance(sandboxed, SandboxedWorkflowRunner)
