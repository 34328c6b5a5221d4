"""Many orders for one volunteer (or one unit's leader) at once: no deadlock, exact counters.

Every transition of an order that moves a volunteer's counters locks that volunteer's row.
When twenty orders for the same volunteer move at the same time, those locks meet each other
and the foreign-key locks the order updates take: this drives that load through the HTTP API
on PostgreSQL and fails on any deadlock the server counted, any order left open, and any
counter that differs from a recount.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select, text
from temporalio.client import Client

from core.db import make_engine
from core.matching import counter_drift
from core.models import Volunteer
from core.settings import Settings
from tests.integration.test_dispatch_http import new_team, volunteer
from tests.integration.test_http_lifecycle import finish, ok, order_placed
from tests.signin import Caller, People
from worker import build_worker

LIFECYCLES = 20
CONCURRENCY = 10


@pytest.fixture
async def busy_worker(
    temporal: Client, database_url: str, live_settings: Settings
) -> AsyncIterator[Engine]:
    """A worker on an engine of its own, closed before the test reads the deadlock count.

    PostgreSQL's statistics (``pg_stat_database.deadlocks``) are flushed by each backend
    when it exits, at the latest: closing the worker's connections makes the count exact.
    """
    engine = make_engine(database_url, pool_size=live_settings.worker_max_concurrent_activities)
    with ThreadPoolExecutor(max_workers=live_settings.worker_max_concurrent_activities) as pool:
        async with build_worker(temporal, engine, live_settings, executor=pool):
            yield engine
    engine.dispose()


def deadlocks(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            )
            or 0
        )


async def settled_deadlocks(engine: Engine) -> int:
    """The count once every closed backend has reported (exit flushes are asynchronous)."""
    seen = deadlocks(engine)
    for _ in range(10):
        await asyncio.sleep(0.3)
        now = deadlocks(engine)
        if now == seen:
            return now
        seen = now
    return seen


async def run_all(n: int, lifecycle: Callable[[int], Awaitable[None]]) -> None:
    """Run ``n`` lifecycles, ``CONCURRENCY`` at a time."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with gate:
            await lifecycle(i)

    await asyncio.gather(*(one(i) for i in range(n)))


async def check(
    engine: Engine, admin: Caller, order_ids: list[str], volunteer_ids: list[int]
) -> None:
    statuses = [(await ok(await admin.get(f"/api/orders/{o}")))["status"] for o in order_ids]
    assert statuses == ["closed"] * len(order_ids)
    with engine.connect() as conn:
        assert counter_drift(conn, volunteer_ids) == []
        completed = conn.scalar(
            select(func.sum(Volunteer.completed_orders)).where(Volunteer.id.in_(volunteer_ids))
        )
    assert completed == len(order_ids)


async def test_twenty_lifecycles_for_one_volunteer_never_deadlock(
    people: People, busy_worker: Engine, engine: Engine, township: str
) -> None:
    admin = await people.admin()
    helper = await volunteer(admin, township, skills=["care"], max_open_orders=20)
    before = await settled_deadlocks(engine)
    order_ids: list[str] = []

    async def lifecycle(_: int) -> None:
        order_id = await order_placed(people, township)
        order_ids.append(order_id)
        await ok(
            await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": helper})
        )
        await finish(people, order_id, helper)

    await run_all(LIFECYCLES, lifecycle)
    busy_worker.dispose()  # its backends exit and report their statistics
    assert await settled_deadlocks(engine) - before == 0
    await check(engine, admin, order_ids, [helper])
    await ok(await admin.patch(f"/api/volunteers/{helper}", json={"active": False}))


async def test_a_leader_assigning_twenty_orders_at_once_never_deadlocks(
    people: People, busy_worker: Engine, engine: Engine, township: str
) -> None:
    admin = await people.admin()
    leader = await volunteer(admin, township, max_open_orders=20)
    members = [await volunteer(admin, township, max_open_orders=20) for _ in range(2)]
    unit = await new_team(admin, township, leader, "忙碌队")
    for member in members:
        await ok(
            await admin.post(f"/api/volunteers/{member}/transfer", json={"unit_id": unit["id"]})
        )
    as_leader = await people.volunteer(leader)
    before = await settled_deadlocks(engine)

    # The unit's orders are all placed first, so the leader hands out twenty at once.
    order_ids = [await order_placed(people, township) for _ in range(LIFECYCLES)]

    async def lifecycle(i: int) -> None:
        order_id = order_ids[i]
        await ok(await admin.post(f"/api/orders/{order_id}/dispatch", json={"unit_id": unit["id"]}))
        member = members[i % len(members)]
        await ok(
            await as_leader.post(f"/api/orders/{order_id}/assign", json={"volunteer_id": member})
        )
        await finish(people, order_id, member)

    await run_all(LIFECYCLES, lifecycle)
    busy_worker.dispose()
    assert await settled_deadlocks(engine) - before == 0
    await check(engine, admin, order_ids, members)
    for v in (leader, *members):
        await ok(await admin.patch(f"/api/volunteers/{v}", json={"active": False}))
