"""The database activity applies each transition once, however often it runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from temporalio.testing import ActivityEnvironment

from activities.database import OrderStore
from activities.messages import EventRecord, OrderSnapshot, TransitionRecord
from api import queries
from api.database import Database
from core.db import make_engine
from core.migrate import upgrade
from core.models import Township
from core.settings import Settings
from core.vocab import Rating
from tests.helpers import escalation_levels, events, follow_up_of, order_body, order_row


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
        queries.create_order,
        order_body(township),
        idempotency_key=None,
        completion_sla=settings.completion_sla,
    )
    return submitted.order_id


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(
    request: pytest.FixtureRequest, database: Database, tmp_path: Path, township: str
) -> Iterator[Database]:
    """The same code on both supported databases: PostgreSQL, and SQLite for ``make run``."""
    if request.param == "postgresql":
        yield database
        return
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Township).values(name=township, name_en="Test", position=1))
    yield Database(engine)
    engine.dispose()


async def test_retried_transition_writes_once_and_old_snapshots_never_win(
    backend: Database, settings: Settings, township: str
) -> None:
    database = backend
    store = OrderStore(database.engine)
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
