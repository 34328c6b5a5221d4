"""The database activity applies each transition once, however often it runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session
from temporalio.testing import ActivityEnvironment

from activities.contracts import EventRecord, TransitionRecord
from activities.database import OrderProjector
from api.database import Database
from api.stores import orders
from core.models import Township, Volunteer
from core.settings import Settings
from core.snapshot import OrderSnapshot
from core.vocab import Rating
from tests.helpers import (
    RESIDENT,
    add_volunteer,
    escalation_levels,
    events,
    follow_up_of,
    order_body,
    order_row,
)


def snapshot(seq: int, status: str, **changes: object) -> OrderSnapshot:
    base = OrderSnapshot(
        seq=seq,
        status=status,
        volunteer_id=None,
        overdue=False,
        escalation_level=0,
        review_rating=None,
        rating=None,
        hours=None,
        completed_at=None,
        closed_at=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def new_order(database: Database, settings: Settings, township: str) -> int:
    submitted = await database.run(
        orders.create_order,
        order_body(township),
        RESIDENT,
        idempotency_key=None,
        completion_sla=settings.completion_sla,
    )
    return submitted.order_id


@pytest.fixture
def backend(each_database: Database, township: str) -> Database:
    """Either database, with this test's township registered (a fresh SQLite file lacks it)."""
    if each_database.engine.dialect.name == "sqlite":
        with each_database.engine.begin() as conn:
            conn.execute(insert(Township).values(name=township, name_en="Test", position=1))
    return each_database


async def test_retried_transition_writes_once_and_old_snapshots_never_win(
    backend: Database, settings: Settings, township: str
) -> None:
    database = backend
    store = OrderProjector(database.engine)
    env = ActivityEnvironment()
    order_id = await new_order(database, settings, township)
    now = datetime.now(UTC)
    escalate = TransitionRecord(
        order_id=order_id,
        snapshot=snapshot(2, "pending", overdue=True, escalation_level=1),
        events=[EventRecord(seq=2, event="escalated", actor="system", at=now)],
        escalation_level=1,
        escalation_at=now,
    )
    first = env.run(store.record_transition, escalate)
    again = env.run(store.record_transition, escalate)
    assert (first.applied_events, again.applied_events) == (1, 0)
    assert await database.run(events, order_id) == ["submitted", "escalated"]
    assert await database.run(escalation_levels, order_id) == [1]

    later = TransitionRecord(
        order_id=order_id,
        snapshot=snapshot(
            3,
            "reviewed",
            overdue=True,
            escalation_level=1,
            review_rating=Rating.SATISFIED,
            rating=Rating.SATISFIED,
        ),
        events=[EventRecord(seq=3, event="follow_up_created", actor="system", at=now)],
        open_follow_up_at=now + timedelta(seconds=1),
    )
    opened = env.run(store.record_transition, later)
    reopened = env.run(store.record_transition, later)
    assert opened.follow_up_id is not None
    assert reopened.follow_up_id == opened.follow_up_id
    # A delayed retry of the older transition must not roll the order back.
    env.run(store.record_transition, escalate)
    order = await database.run(order_row, order_id)
    assert (order.status, order.last_seq, order.rating) == ("reviewed", 3, "satisfied")
    task = await database.run(follow_up_of, order_id)
    assert task is not None and task.status == "open"


async def test_a_transition_from_a_task_that_never_completed_gives_way_to_the_one_that_did(
    backend: Database, settings: Settings, township: str
) -> None:
    # The projection is a local activity: a worker killed after it committed, before its
    # workflow task completed, leaves a transition that is not in history. The task's next
    # attempt numbers its own transition the same, later (here: the order was cancelled
    # first), and the read model must say what history says.
    database, store, env = backend, OrderProjector(backend.engine), ActivityEnvironment()
    order_id = await new_order(database, settings, township)
    volunteer = await database.run(add_volunteer, township)
    lost_at = datetime.now(UTC)
    lost = TransitionRecord(
        order_id=order_id,
        snapshot=snapshot(2, "dispatched", volunteer_id=volunteer),
        events=[EventRecord(seq=2, event="dispatched", actor="admin:1", at=lost_at)],
    )
    kept_at = lost_at + timedelta(seconds=12)
    kept = TransitionRecord(
        order_id=order_id,
        snapshot=snapshot(2, "cancelled", closed_at=kept_at),
        events=[EventRecord(seq=2, event="cancelled", actor="resident:1", at=kept_at)],
    )
    assert env.run(store.record_transition, lost).applied_events == 1
    assert env.run(store.record_transition, kept).applied_events == 1
    assert env.run(store.record_transition, kept).applied_events == 0  # a plain retry: nothing
    assert await database.run(events, order_id) == ["submitted", "cancelled"]
    order = await database.run(order_row, order_id)
    assert (order.status, order.volunteer_id, order.last_seq) == ("cancelled", None, 2)
    assert order.closed_at is not None
    assert order.closed_at.replace(tzinfo=UTC) == kept_at
    # The volunteer the lost task dispatched to holds nothing.
    counted = await database.run(lambda s: s.get(Volunteer, volunteer))
    assert counted is not None and counted.open_orders == 0


async def test_volunteer_counters_follow_their_orders_and_retries_change_nothing(
    backend: Database, settings: Settings, township: str
) -> None:
    database = backend
    store = OrderProjector(database.engine)
    env = ActivityEnvironment()
    order_id = await new_order(database, settings, township)
    first = await database.run(add_volunteer, township)
    second = await database.run(add_volunteer, township)
    now = datetime.now(UTC)

    def step(seq: int, status: str, **changes: object) -> TransitionRecord:
        return TransitionRecord(
            order_id=order_id,
            snapshot=snapshot(seq, status, **changes),
            events=[EventRecord(seq=seq, event=status, actor="system", at=now)],
        )

    dispatched = step(2, "dispatched", volunteer_id=first)
    env.run(store.record_transition, dispatched)
    env.run(store.record_transition, dispatched)
    assert await database.run(counters, first) == (1, 0, 0, 0, 0)
    # Re-dispatched: the first is free again, the second holds it.
    env.run(store.record_transition, step(3, "dispatched", volunteer_id=second))
    assert await database.run(counters, first) == (0, 0, 0, 0, 0)
    assert await database.run(counters, second) == (1, 0, 0, 0, 0)
    done = step(4, "completed", volunteer_id=second, completed_at=now, hours=1.0)
    env.run(store.record_transition, done)
    assert await database.run(counters, second) == (0, 1, 1, 0, 0)
    rated = step(5, "reviewed", volunteer_id=second, completed_at=now, rating=Rating.SATISFIED)
    env.run(store.record_transition, rated)
    env.run(store.record_transition, rated)
    # A late retry of an older snapshot moves nothing.
    env.run(store.record_transition, dispatched)
    assert await database.run(counters, second) == (0, 1, 1, 1, 3)
    assert await database.run(counters, first) == (0, 0, 0, 0, 0)


def counters(session: Session, volunteer_id: int) -> tuple[int, int, int, int, int]:
    v = session.get(Volunteer, volunteer_id)
    assert v is not None
    session.refresh(v)
    return (v.open_orders, v.completed_orders, v.on_time_orders, v.rated_orders, v.rating_points)


async def test_the_first_dispatch_and_acceptance_are_stamped_once(
    backend: Database, settings: Settings, township: str
) -> None:
    """The reports' times: the first dispatch (or open call) and acceptance, from the events."""
    database = backend
    store = OrderProjector(database.engine)
    env = ActivityEnvironment()
    order_id = await new_order(database, settings, township)
    t0 = datetime(2031, 1, 1, tzinfo=UTC)

    def step(seq: int, event: str, at: datetime, status: str) -> TransitionRecord:
        return TransitionRecord(
            order_id=order_id,
            snapshot=snapshot(seq, status),
            events=[EventRecord(seq=seq, event=event, actor="admin", at=at)],
        )

    open_call = step(2, "open_call", t0, "dispatched")
    env.run(store.record_transition, open_call)
    env.run(store.record_transition, step(3, "dispatched", t0 + timedelta(hours=1), "dispatched"))
    accepted = step(4, "accepted", t0 + timedelta(hours=2), "accepted")
    env.run(store.record_transition, accepted)
    # A redispatch and a second acceptance, and retries, leave the first times alone.
    env.run(store.record_transition, step(5, "dispatched", t0 + timedelta(hours=3), "dispatched"))
    env.run(store.record_transition, step(6, "accepted", t0 + timedelta(hours=4), "accepted"))
    env.run(store.record_transition, accepted)
    env.run(store.record_transition, open_call)
    order = await database.run(order_row, order_id)
    assert (order.dispatched_at, order.accepted_at) == (t0, t0 + timedelta(hours=2))
