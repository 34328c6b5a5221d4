"""A worker SIGKILLed mid-lifecycle: the order still completes and nothing doubles."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from api.database import Database
from core.settings import ROOT, Settings
from tests.helpers import WHOLE_LOOP, events
from tests.integration.test_http_lifecycle import (
    ok,
    order_placed,
    register,
    wait_for_follow_up,
)
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
