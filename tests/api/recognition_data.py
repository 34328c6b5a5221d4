"""A known set of orders for the overview, service records, honour rolls and public totals.

In a township of its own (``T``) over one period starting ``BASE`` (Monday 3 May 2032,
10:00 county time), eight orders received a day apart:

| order | volunteer | dispatch/accept/complete (h after receipt) | reviewed | follow-up | hours |
|---|---|---|---|---|---|
| A | V1 (unit) | 1 / 2 / 10 | very satisfied | confirmed | 2 |
| B | V1 (unit) | 2 / 4 / 80 (late, overdue, escalated) | satisfied | corrected to average | 3 |
| C | V2 | 3 / 6 / 20 | average | complaint, dissatisfied (resolved) | 1.5 |
| D | V2 | 1 / 1 / 30 | dissatisfied | unreachable | 4 |
| E | V1 (unit) | 4 / 8 / 40 | never reviewed | waiting in the queue | 1 |
| F | V3 | 2 / - / - (overdue, escalated twice, still dispatched) | | | |
| G | - | cancelled before dispatch | | | |
| H | V3 | 1 / 2 / 5, by hotline, culture | very satisfied | confirmed | 2.5 |

Outside: one order received the day before ``BASE`` (confirmed, 10 h, V1), and one in
another township ``E`` (confirmed, 5 h, by its own volunteer).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.models import Complaint, FollowUp, Order, Unit, Volunteer
from core.vocab import ComplaintStatus, FollowUpStatus, OrderStatus
from tests.api.follow_up_data import ADDRESS, PHONE, add_township

BASE = datetime(2032, 5, 3, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai, a Monday
H = timedelta(hours=1)
D = timedelta(days=1)
SLA = timedelta(hours=72)


@dataclass
class World:
    township: str
    elsewhere: str
    unit: int
    v1: int
    v2: int
    v3: int
    v_elsewhere: int


def add_volunteer(session: Session, township: str, name: str, unit: int | None = None) -> int:
    volunteer = Volunteer(
        name=name,
        phone=f"+86139{uuid.uuid4().int % 10**8:08d}",
        township=township,
        unit_id=unit,
    )
    session.add(volunteer)
    session.flush()
    return volunteer.id


def add_order(
    session: Session,
    township: str,
    submitted: datetime,
    *,
    volunteer: int | None = None,
    dispatch: float | None = None,
    accept: float | None = None,
    complete: float | None = None,
    status: OrderStatus = OrderStatus.CLOSED,
    category: str = "care",
    item: str = "care.elderly_visit",
    channel: str = "web",
    review: str | None = None,
    rating: str | None = None,
    hours: float | None = None,
    follow_up: str | None = None,
    follow_up_status: FollowUpStatus = FollowUpStatus.DONE,
    complaint: ComplaintStatus | None = None,
    **fields: Any,
) -> int:
    def after(h: float | None) -> datetime | None:
        return None if h is None else submitted + h * H

    order = Order(
        item_code=item,
        category_code=category,
        channel=channel,
        township=township,
        reason="帮忙买药",
        address=ADDRESS,
        resident_name="龙秀英",
        resident_phone=PHONE,
        status=status.value,
        volunteer_id=volunteer,
        submitted_at=submitted,
        deadline_at=submitted + SLA,
        dispatched_at=after(dispatch),
        accepted_at=after(accept),
        completed_at=after(complete),
        review_rating=review,
        rating=rating or review,
        hours=hours,
        **fields,
    )
    session.add(order)
    session.flush()
    if follow_up is not None or follow_up_status != FollowUpStatus.DONE:
        done = follow_up_status == FollowUpStatus.DONE
        row = FollowUp(
            order_id=order.id,
            status=follow_up_status.value,
            created_at=submitted + (complete or 0) * H,
            done_at=submitted + ((complete or 0) + 2) * H if done else None,
            method="phone" if done else None,
            outcome=follow_up,
            rating=rating if follow_up in ("rating_corrected", "complaint") else None,
        )
        session.add(row)
        session.flush()
        if complaint is not None:
            session.add(
                Complaint(
                    order_id=order.id,
                    follow_up_id=row.id,
                    status=complaint.value,
                    created_at=submitted + (complete or 0) * H,
                )
            )
            session.flush()
    return order.id


def seed(session: Session, base: datetime = BASE) -> World:
    """The orders above, received from ``base`` on (a Monday, 10:00 county time)."""
    township = add_township(session)
    elsewhere = add_township(session)
    leader = add_volunteer(session, township, "队长")
    unit = Unit(kind="team", name=f"测试队-{uuid.uuid4().hex[:6]}", township=township)
    session.add(unit)
    session.flush()
    unit.leader_id = leader
    v1 = add_volunteer(session, township, "吴志强", unit.id)
    v2 = add_volunteer(session, township, "龙海燕")
    v3 = add_volunteer(session, township, "杨光明")
    v_elsewhere = add_volunteer(session, elsewhere, "麻小红")

    t = township
    add_order(session, t, base, volunteer=v1, dispatch=1, accept=2, complete=10,
           review="very_satisfied", follow_up="confirmed", hours=2)  # fmt: skip
    add_order(session, t, base + D, volunteer=v1, dispatch=2, accept=4, complete=80,
           review="satisfied", rating="average", follow_up="rating_corrected", hours=3,
           overdue=True, escalation_level=1)  # fmt: skip
    add_order(session, t, base + 2 * D, volunteer=v2, dispatch=3, accept=6, complete=20,
           review="average", rating="dissatisfied", follow_up="complaint", hours=1.5,
           complaint=ComplaintStatus.RESOLVED)  # fmt: skip
    add_order(session, t, base + 3 * D, volunteer=v2, dispatch=1, accept=1, complete=30,
           review="dissatisfied", follow_up="unreachable", hours=4)  # fmt: skip
    add_order(session, t, base + 4 * D, volunteer=v1, dispatch=4, accept=8, complete=40,
           status=OrderStatus.COMPLETED, follow_up_status=FollowUpStatus.OPEN, hours=1)  # fmt: skip
    add_order(session, t, base + 5 * D, volunteer=v3, dispatch=2, status=OrderStatus.DISPATCHED,
           overdue=True, escalation_level=2)  # fmt: skip
    add_order(session, t, base + 6 * D, status=OrderStatus.CANCELLED)
    add_order(session, t, base + 7 * D, volunteer=v3, dispatch=1, accept=2, complete=5,
           category="culture", item="culture.heritage", channel="hotline",
           review="very_satisfied", follow_up="confirmed", hours=2.5)  # fmt: skip

    add_order(session, t, base - D, volunteer=v1, dispatch=1, accept=1, complete=12,
           review="satisfied", follow_up="confirmed", hours=10)  # fmt: skip
    add_order(session, elsewhere, base + D, volunteer=v_elsewhere, dispatch=1, accept=1,
           complete=3, review="satisfied", follow_up="confirmed", hours=5)  # fmt: skip
    return World(township, elsewhere, unit.id, v1, v2, v3, v_elsewhere)
