"""The benchmark's baselines do the Temporal work they claim to, compared with a real order.

The baselines are the loop as a Temporal user would write it by default, with regular
activities: they are held to an order's history from before the projections became local
activities (``tests/histories_v4``), and today's order to the same messages and timers with
no activity task at all.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.baseline import BareInput, BareLifecycle, BareStep, bare_noop, start_attributes
from tests.helpers import HISTORIES

# What an order's history holds that the comparison is about.
KINDS = (
    "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED",
    "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED",
    "EVENT_TYPE_TIMER_STARTED",
    "EVENT_TYPE_TIMER_CANCELED",
    "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
)


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client


async def bare_counts(client: Client, *, loop_timers: bool) -> Counter[str]:
    queue = f"bare-{uuid.uuid4().hex[:8]}"
    inp = BareInput(1, loop_timers=loop_timers)
    with ThreadPoolExecutor(max_workers=4) as pool:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[BareLifecycle],
            activities=[bare_noop],
            activity_executor=pool,
            max_concurrent_activities=4,
        ):
            handle = await client.start_workflow(
                BareLifecycle.run,
                inp,
                id=f"bare-{uuid.uuid4().hex}",
                task_queue=queue,
                search_attributes=start_attributes(inp),
            )
            for update in (
                BareLifecycle.dispatch,
                BareLifecycle.accept,
                BareLifecycle.complete,
                BareLifecycle.review,
                BareLifecycle.follow_up,
            ):
                await handle.execute_update(update, BareStep("step"))
            assert (await handle.result()).steps == 6
            history = await handle.fetch_history()
    return Counter(EventType.Name(e.event_type) for e in history.events)


def order_counts(histories: Path = HISTORIES.parent / "histories_v4") -> Counter[str]:
    recorded = histories / "test_full_lifecycle_persists_every_transition_once-1.json"
    return Counter(e["eventType"] for e in json.loads(recorded.read_text())["events"])


async def test_the_loop_baseline_does_an_orders_temporal_work(client: Client) -> None:
    order = order_counts()
    loop = await bare_counts(client, loop_timers=True)
    assert {k: loop[k] for k in KINDS} == {k: order[k] for k in KINDS}


async def test_the_bare_baseline_has_the_messages_and_activities_only(client: Client) -> None:
    order = order_counts()
    bare = await bare_counts(client, loop_timers=False)
    same = KINDS[:2]
    assert {k: bare[k] for k in same} == {k: order[k] for k in same}
    assert all(bare[k] == 0 for k in KINDS[2:])


async def test_todays_order_does_the_loops_work_with_no_activity_task(client: Client) -> None:
    today, loop = order_counts(HISTORIES), await bare_counts(client, loop_timers=True)
    assert today["EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"] == 0
    assert today["EVENT_TYPE_MARKER_RECORDED"] >= loop["EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"]
    same = ("EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED", "EVENT_TYPE_TIMER_STARTED")
    assert {k: today[k] for k in same} == {k: loop[k] for k in same}
    assert sum(today.values()) < sum(loop.values())
