"""A worker SIGKILLed mid-lifecycle: the order still completes and nothing doubles; a worker
SIGTERMed mid-projection finishes it, and the workflow task that holds it, before it exits."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import Engine, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from api.database import Database
from core.models import Order
from core.settings import ROOT, Settings
from tests.helpers import WHOLE_LOOP, events, lock_waits
from tests.integration.test_http_lifecycle import (
    ok,
    order_placed,
    register,
    wait_for_follow_up,
)
from tests.polling import eventually
from tests.signin import People

WorkerProcess = asyncio.subprocess.Process


@pytest.fixture
async def spawn_worker(
    live_settings: Settings,
) -> AsyncIterator[Callable[[], Awaitable[WorkerProcess]]]:
    """Start ``python worker.py`` as its own process, as ``make run`` does."""
    started: list[WorkerProcess] = []
    env = {
        **os.environ,
        "DATABASE_URL": live_settings.database_url,
        "TEMPORAL_ADDRESS": live_settings.temporal_address,
        "TEMPORAL_TASK_QUEUE": live_settings.temporal_task_queue,
        "WORKER_SHUTDOWN_GRACE": "60s",
    }

    async def spawn() -> WorkerProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "worker.py",
            cwd=ROOT,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        started.append(proc)
        assert proc.stderr is not None
        async with asyncio.timeout(30):
            while b"worker polling" not in await proc.stderr.readline():
                pass
        return proc

    yield spawn
    for proc in started:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_sigkilled_worker_resumes_and_each_transition_lands_once(
    people: People,
    township: str,
    database: Database,
    spawn_worker: Callable[[], Awaitable[WorkerProcess]],
) -> None:
    admin = await people.admin()
    first = await spawn_worker()
    volunteer_id = await register(admin, township)
    volunteer = await people.volunteer(volunteer_id)
    order_id = await order_placed(people, township)
    await ok(
        await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer_id})
    )

    # Kill the worker while it holds the workflow in its cache, then send the next command
    # while no worker is running: it must wait, not fail, and land once a worker returns.
    first.send_signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    accept = asyncio.create_task(volunteer.post(f"/api/orders/{order_id}/accept"))
    await asyncio.sleep(0.5)
    assert not accept.done()

    second = await spawn_worker()
    assert (await ok(await accept))["status"] == "accepted"
    await ok(
        await volunteer.post(
            f"/api/orders/{order_id}/complete", json={"summary": "done", "hours": 1}
        )
    )
    resident = await people.resident()
    await ok(await resident.post(f"/api/orders/{order_id}/review", json={"rating": "satisfied"}))
    agent = await people.agent()
    follow_up = await wait_for_follow_up(agent, order_id)
    closed = await ok(
        await agent.post(
            f"/api/follow-ups/{follow_up['id']}/result",
            json={"method": "phone", "outcome": "confirmed"},
        )
    )
    assert closed["status"] == "closed"

    audit = await database.run(events, order_id)
    assert Counter(audit) == Counter(WHOLE_LOOP)

    # SIGTERM stops the worker cleanly, with no interpreter-exit crash.
    second.send_signal(signal.SIGTERM)
    assert second.stderr is not None
    rest = await second.stderr.read()
    assert await second.wait() == 0, rest.decode()
    assert b"PyGILState_Release" not in rest and b"Fatal Python error" not in rest


async def test_sigterm_lets_the_projection_in_flight_finish_before_the_worker_exits(
    people: People,
    township: str,
    engine: Engine,
    temporal: Client,
    spawn_worker: Callable[[], Awaitable[WorkerProcess]],
) -> None:
    admin = await people.admin()
    first = await spawn_worker()
    volunteer_id = await register(admin, township)
    order_id = await order_placed(people, township)
    with engine.connect() as conn, conn.begin():
        # Hold the order's row: the dispatch's projection waits for it inside the worker.
        conn.execute(select(Order.id).where(Order.public_id == order_id).with_for_update())
        dispatch = asyncio.create_task(
            admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer_id})
        )
        await eventually(
            lambda: asyncio.to_thread(lock_waits, engine),
            lambda waiting: waiting > 0,
            what="the projection waiting for the order's row",
        )
        first.send_signal(signal.SIGTERM)
        assert first.stderr is not None
        async with asyncio.timeout(30):
            while b"shutting down" not in await first.stderr.readline():
                pass
        # Told to stop, it still holds the attempt: it must not exit before the row is free.
        assert first.returncode is None
    # The row is free: the attempt finishes in this worker, which then exits cleanly.
    rest = await first.stderr.read()
    assert await first.wait() == 0, rest.decode()
    # The order goes on in the next worker.
    await spawn_worker()
    assert (await ok(await dispatch))["status"] == "dispatched"
    order = await ok(await admin.get(f"/api/orders/{order_id}"))
    history = await temporal.get_workflow_handle(order["workflow_id"]).fetch_history()
    # The projection is a local activity: its attempts are in its marker.
    projections = [
        json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    assert [(p["activity_type"], p["attempt"]) for p in projections] == [
        ("record_transition", 1)
    ], "the projection ran once, in the worker that was stopping"
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT not in [
        e.event_type for e in history.events
    ]
