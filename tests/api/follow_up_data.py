"""Read-model rows for the call-center and report tests, and the app without Temporal.

The rows are written straight to the tables the worker fills, with known values, so the
tests can assert exact queue orders and exact report figures.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.database import Database
from api.main import create_app
from core.models import Complaint, FollowUp, FollowUpCall, Order, OrderNote, Township
from core.settings import Settings
from core.vocab import QUEUE_PRIORITY, FollowUpStatus, OrderStatus, QueueReason

BASE = datetime(2031, 3, 1, 2, 0, tzinfo=UTC)
PHONE = "13800138000"
MASKED = "138****8000"


def add_township(session: Session) -> str:
    name = f"测试镇-{uuid.uuid4().hex[:8]}"
    session.add(Township(name=name, name_en="Test township", position=1000))
    session.flush()
    return name


def add_order(
    session: Session,
    township: str,
    *,
    status: OrderStatus = OrderStatus.REVIEWED,
    completed_at: datetime | None = BASE,
    review_rating: str | None = "satisfied",
    volunteer_id: int | None = None,
) -> int:
    order = Order(
        item_code="care.elderly_visit",
        category_code="care",
        township=township,
        reason="帮忙买药",
        address="蓼皋街道 龙井社区 3 组 12 号",
        resident_name="龙秀英",
        resident_phone=PHONE,
        status=status.value,
        volunteer_id=volunteer_id,
        submitted_at=BASE - timedelta(days=1),
        deadline_at=BASE + timedelta(days=2),
        completed_at=completed_at,
        review_rating=review_rating,
    )
    session.add(order)
    session.flush()
    return order.id


def add_follow_up(
    session: Session,
    order_id: int,
    *,
    status: FollowUpStatus = FollowUpStatus.OPEN,
    created_at: datetime = BASE,
    queue_reason: QueueReason | None = None,
    queued_at: datetime | None = None,
    note: str | None = None,
    **fields: Any,
) -> int:
    """A follow-up; an open one is queued (``no_automated_call``) at ``created_at`` unless told."""
    if status == FollowUpStatus.OPEN and queue_reason is None:
        queue_reason = QueueReason.NO_AUTOMATED_CALL
    if queue_reason is not None:
        fields.setdefault("priority", QUEUE_PRIORITY[queue_reason])
        queued_at = queued_at or created_at
    note_id = _note(session, order_id, "follow_up_notes", note) if note else None
    follow_up = FollowUp(
        order_id=order_id,
        status=status.value,
        created_at=created_at,
        queue_reason=queue_reason.value if queue_reason is not None else None,
        queued_at=queued_at,
        note_id=note_id,
        **fields,
    )
    session.add(follow_up)
    session.flush()
    return follow_up.id


def add_call(
    session: Session, order_id: int, follow_up_id: int, attempt: int, **fields: Any
) -> int:
    call = FollowUpCall(
        order_id=order_id,
        follow_up_id=follow_up_id,
        attempt=attempt,
        to_number="+86" + PHONE,
        **fields,
    )
    session.add(call)
    session.flush()
    return call.id


def add_complaint(
    session: Session, order_id: int, follow_up_id: int, *, created_at: datetime, note: str
) -> int:
    complaint = Complaint(
        order_id=order_id,
        follow_up_id=follow_up_id,
        status="open",
        created_at=created_at,
        note_id=_note(session, order_id, "follow_up_notes", note),
    )
    session.add(complaint)
    session.flush()
    return complaint.id


def set_claim(
    session: Session, follow_up_id: int, agent_id: int | None, expires_at: datetime | None
) -> None:
    session.execute(
        update(FollowUp)
        .where(FollowUp.id == follow_up_id)
        .values(claimed_by=agent_id, claim_expires_at=expires_at)
    )


def follow_up_row(session: Session, follow_up_id: int) -> FollowUp:
    row = session.get(FollowUp, follow_up_id)
    assert row is not None
    session.expunge(row)
    return row


def _note(session: Session, order_id: int, kind: str, body: str) -> str:
    note_id = str(uuid.uuid4())
    session.add(OrderNote(id=note_id, order_id=order_id, kind=kind, body=body))
    session.flush()
    return note_id


class NoTemporal:
    """``app.state.temporal`` for an app run without Temporal: any use of it fails the test.

    These tests cover what the API answers from the database alone; whatever reaches an
    order's workflow is tested against the real server in ``tests/integration``.
    """

    def __getattr__(self, name: str) -> NoReturn:
        raise AssertionError(
            f"this test runs without Temporal: the app reached for temporal.{name}; "
            "test that in tests/integration against the dev server"
        )


@asynccontextmanager
async def api_client(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app on ``db``, its lifespan skipped: no Temporal connection is made."""
    app = create_app(settings)
    app.state.settings = settings
    app.state.database = db
    app.state.temporal = NoTemporal()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=30
    ) as client:
        yield client
