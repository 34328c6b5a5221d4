"""Read-model rows for the call-center and report tests, the app without Temporal, and staff.

The rows are written straight to the tables the worker fills, with known values, so the
tests can assert exact queue orders and exact report figures. Staff sign in as sign-in
signs them in (``tests/signin.py``), each a real account whose id the tests compare with
``claimed_by``, ``agent_id`` and ``resolved_by``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.database import Database
from api.main import create_app
from core.models import Complaint, FollowUp, FollowUpCall, Order, OrderNote, Township
from core.security import read_token
from core.settings import Settings
from core.vocab import QUEUE_PRIORITY, FollowUpStatus, OrderStatus, QueueReason, Role
from tests import signin

BASE = datetime(2031, 3, 1, 2, 0, tzinfo=UTC)
# Residents' phones are stored in E.164; staff screens show them masked.
PHONE = "+8613800138000"
MASKED = "138****8000"
ADDRESS = "蓼皋街道 龙井社区 3 组 12 号"


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
        address=ADDRESS,
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
        to_number=PHONE,
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


def public_id(session: Session, order_id: int) -> str:
    """The order's public id: the only one the API shows."""
    found = session.scalar(select(Order.public_id).where(Order.id == order_id))
    assert found is not None
    return found


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


class StaffCaller(signin.Caller):
    """A staff member signed in on a client, with their account's id."""

    def __init__(self, client: httpx.AsyncClient, headers: signin.Headers, staff_id: int) -> None:
        super().__init__(client, headers)
        self.id = staff_id


class Staff:
    """Signs in staff on one client: every call is a new account (a new id)."""

    def __init__(self, client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
        self.client = client
        self.db = db
        self.settings = settings

    async def agent(self, *townships: str) -> StaffCaller:
        """A call-center agent (of the whole county unless ``townships``)."""
        return await self._sign_in(Role.AGENT, townships)

    async def admin(self, *townships: str) -> StaffCaller:
        """An admin (of the whole county unless ``townships``)."""
        return await self._sign_in(Role.ADMIN, townships)

    async def _sign_in(self, role: Role, townships: tuple[str, ...]) -> StaffCaller:
        headers = await signin.staff(self.db, self.settings, role, townships or None)
        token = headers["Authorization"].removeprefix("Bearer ")
        staff_id = read_token(token, secret=self.settings.signing_secret).staff_id
        assert staff_id is not None
        return StaffCaller(self.client, headers, staff_id)
