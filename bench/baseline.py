"""The least Temporal needs for one lifecycle: the bare baseline the project is measured against.

``BareLifecycle`` receives the same five messages as an order (dispatch, accept, complete,
review, follow-up result, as Updates) and runs the same six activities (here no-ops), on
the same server with the same worker settings, driven straight from the SDK.

With ``BareInput.loop_timers`` it also does the Temporal work the four-order loop itself
requires of any implementation: the 72-hour deadline timer, the accept timeout and the review
window (each started and cancelled as in an order's history), the status search attribute
set at start and upserted at every step. The difference between the two baselines is what
the loop costs Temporal; the rest of the gap to the project is the project's own.

``python -m bench.baseline`` runs its worker (what the benchmark starts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

NOOP = "bare_noop"
# The project's search attribute of the same name (registered on the server).
STATUS = SearchAttributeKey.for_keyword("OrderStatus")
STAGES = ("pending", "dispatched", "accepted", "completed", "reviewed", "closed")


@dataclass
class BareInput:
    lifecycle: int
    loop_timers: bool = False


def start_attributes(inp: BareInput) -> TypedSearchAttributes | None:
    """What a lifecycle starts with: the status attribute, when it is to be kept."""
    if not inp.loop_timers:
        return None
    return TypedSearchAttributes([SearchAttributePair(STATUS, STAGES[0])])


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
    @workflow.init
    def __init__(self, inp: BareInput) -> None:
        self._stage = 0
        self._steps = 0
        self._loop = inp.loop_timers

    @workflow.run
    async def run(self, inp: BareInput) -> BareResult:
        if inp.loop_timers:
            deadline = asyncio.create_task(self._until(3, timedelta(hours=72)))  # completed
            await self._until(1)  # dispatched
            await self._until(2, timedelta(hours=4))  # accepted, or the accept timeout
            await self._until(3)
            await self._until(4, timedelta(days=3))  # reviewed, or the review window
            await deadline
        else:
            await self._until(4)  # reviewed
        await self._noop("follow_up_created")
        await self._until(5)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return BareResult(steps=self._steps)

    async def _until(self, stage: int, within: timedelta | None = None) -> None:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._stage >= stage, timeout=within)

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
        if self._loop:
            workflow.upsert_search_attributes([STATUS.value_set(STAGES[stage])])
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
