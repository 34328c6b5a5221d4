"""The worker's options that decide how fast orders recover after a worker dies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.client import Client

from core.settings import Settings
from core.timeouts import STICKY_SCHEDULE_TO_START, WORKFLOW_TASK_SLOTS
from worker import build_id, build_worker


async def test_a_worker_takes_few_workflow_tasks_and_gives_up_its_sticky_ones_soon(
    temporal: Client, engine: Engine, settings: Settings
) -> None:
    with ThreadPoolExecutor(max_workers=settings.worker_max_concurrent_activities) as executor:
        config = build_worker(temporal, engine, settings, executor=executor).config()
    # Every task a worker holds is lost with it, each for its whole timeout.
    assert config.get("max_concurrent_workflow_tasks") == WORKFLOW_TASK_SLOTS < 100
    assert timedelta(seconds=10) > STICKY_SCHEDULE_TO_START  # the SDK's default
    assert config.get("sticky_queue_schedule_to_start_timeout") == STICKY_SCHEDULE_TO_START
    assert config.get("build_id") == build_id()


def test_the_build_id_is_stable() -> None:
    assert build_id() == build_id()
    assert build_id().startswith("four-orders-")
