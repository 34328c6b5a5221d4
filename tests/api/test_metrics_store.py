"""The loop's figures for Prometheus (``api/stores/metrics.py``), on PostgreSQL and SQLite.

Orders in every state that matters are written straight into the read model; the figures
must move by exactly those orders (the PostgreSQL database is shared with other tests, so
the store is read before and after).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from api.database import Database
from api.stores.metrics import LoopFigures, loop_figures
from core.db import utcnow
from core.models import FollowUp, Order, Township

NOW = utcnow()


def order(township: str, status: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "item_code": "care.elderly_visit",
        "category_code": "care",
        "township": township,
        "reason": "事由",
        "address": "地址",
        "resident_name": "某人",
        "resident_phone": "+8613800000000",
        "status": status,
        "submitted_at": NOW - timedelta(hours=1),
        "deadline_at": NOW + timedelta(hours=71),
        "workflow_started_at": NOW - timedelta(hours=1),
    }
    return row | fields


def seed(session: Session, township: str) -> None:
    session.execute(insert(Township).values(name=township, name_en="Metrics", position=999))
    late = NOW - timedelta(minutes=2)
    rows = [
        order(township, "pending"),
        # The deadline passed two minutes ago and the escalation never landed: lagging.
        order(township, "accepted", deadline_at=late),
        # Overdue and escalated four times (one label for 3 and above).
        order(township, "accepted", deadline_at=NOW - timedelta(days=4), overdue=True,
              escalation_level=4),
        # No workflow five minutes after submission: lagging. A fresh one is not yet.
        order(township, "dispatched", workflow_started_at=None,
              submitted_at=NOW - timedelta(minutes=5)),
        order(township, "pending", workflow_started_at=None, submitted_at=NOW),
        # Its workflow was terminated in the Temporal UI.
        order(township, "pending", workflow_lost_at=NOW, workflow_lost_status="terminated"),
        order(township, "reviewed"),
        order(township, "closed", completed_at=NOW),
    ]  # fmt: skip
    ids = [session.scalars(insert(Order).values(**row).returning(Order.id)).one() for row in rows]
    session.execute(
        insert(FollowUp),
        [
            {"order_id": ids[-2], "status": "open", "created_at": NOW,
             "queued_at": NOW - timedelta(hours=30)},
            {"order_id": ids[-1], "status": "done", "created_at": NOW, "done_at": NOW,
             "outcome": "complaint"},
        ],
    )  # fmt: skip


async def test_the_figures_count_what_the_read_model_holds(each_database: Database) -> None:
    township = f"指标镇-{uuid.uuid4().hex[:8]}"

    def figures(session: Session) -> LoopFigures:
        return loop_figures(session, now=NOW)

    before = await each_database.run(figures)
    await each_database.run(seed, township)
    after = await each_database.run(figures)

    assert {k: n for k, n in after.unfinished.items() if k[1] == township} == {
        ("pending", township): 3,
        ("accepted", township): 2,
        ("dispatched", township): 1,
        ("reviewed", township): 1,
    }
    assert after.overdue[township] == 1
    assert after.escalated["3+"] - before.escalated["3+"] == 1
    assert after.lagging - before.lagging == 2
    assert after.lost_workflow - before.lost_workflow == 1
    assert after.follow_up_queue - before.follow_up_queue == 1
    assert after.follow_up_oldest_at is not None
    assert after.follow_up_oldest_at <= NOW - timedelta(hours=30)
    assert isinstance(after.follow_up_oldest_at, datetime)
    assert after.follow_ups_done["complaint"] - before.follow_ups_done["complaint"] == 1
