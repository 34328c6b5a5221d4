"""The least Temporal needs for one lifecycle: the bare baseline the project is measured against.

``BareLifecycle`` receives the same five messages as an order (dispatch, accept, complete,
review, follow-up result, as Updates) and runs the same six activities (here no-ops), on
the same server with the same worker settings, driven straight from the SDK.

``python -m bench.baseline`` runs its worker (what the benchmark starts).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.worker import Worker

NOOP = "bare_noop"


@dataclass
class BareInput:
    lifecycle: int


@dataclass
class BareStep:
    step: str


@dataclass
class BareResult:
    steps: int


@activity.defn(name=NOOP)
def bare_noop(step: BareStep) -> BareResult:
    return BareResult(steps=1)


@workflow.defn
class BareLifecycle:
    def __init__(self) -> None:
        self._stage = 0
        self._steps = 0

    @workflow.run
    async def run(self, inp: BareInput) -> BareResult:
        await workflow.wait_condition(lambda: self._stage >= 4)  # reviewed
        await self._noop("follow_up_created")
        await workflow.wait_condition(lambda: self._stage >= 5)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return BareResult(steps=self._steps)

    async def _noop(self, step: str) -> None:
        await workflow.execute_activity(
            NOOP,
            BareStep(step),
            result_type=BareResult,
            start_to_close_timeout=timedelta(seconds=30),
        )
        self._steps += 1

    async def _advance(self, stage: int, step: str) -> BareResult:
        self._stage = stage
        await self._noop(step)
        return BareResult(steps=self._steps)

    @workflow.update
    async def dispatch(self, step: BareStep) -> BareResult:
        return await self._advance(1, step.step)

    @workflow.update
    async def accept(self, step: BareStep) -> BareResult:
        return await self._advance(2, step.step)

    @workflow.update
    async def complete(self, step: BareStep) -> BareResult:
        return await self._advance(3, step.step)

    @workflow.update
    async def review(self, step: BareStep) -> BareResult:
        return await self._advance(4, step.step)

    @workflow.update
    async def follow_up(self, step: BareStep) -> BareResult:
        return await self._advance(5, step.step)


async def main() -> None:
    # Same settings as worker.py reads, so the comparison is like for like.
    from core.settings import get_settings
    from core.temporal import connect

    settings = get_settings()
    client = await connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=settings.worker_max_concurrent_activities) as pool:
        async with Worker(
            client,
            task_queue=settings.temporal_task_queue,
            workflows=[BareLifecycle],
            activities=[bare_noop],
            activity_executor=pool,
            max_concurrent_activities=settings.worker_max_concurrent_activities,
            max_cached_workflows=settings.worker_max_cached_workflows,
        ):
            logging.getLogger("baseline").info("worker polling %s", settings.temporal_task_queue)
            await stop.wait()


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(main())
