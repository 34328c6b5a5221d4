"""Totals for publicity (媒体融合+文明实践): counts and recent services, no personal data.

Recent services name the day, the township, the service category and the hours: never a
resident, an address, a reason or a volunteer.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.schemas import reports as out
from core.models import Category, Order
from core.service_hours_sql import (
    COMPLETED,
    RATED_AFTER_FOLLOW_UP,
    REACHED,
    VERIFIED,
    VERIFIED_HOURS,
    count_if,
)
from core.vocab import Rating

RECENT = 10
SATISFIED = Order.rating.in_([Rating.VERY_SATISFIED.value, Rating.SATISFIED.value])


def totals(session: Session, *, timezone: str) -> out.PublicTotals:
    completed, hours, volunteers, reached, rated, satisfied = session.execute(
        select(
            func.count(),
            VERIFIED_HOURS,
            func.count(func.distinct(Order.volunteer_id)),
            count_if(REACHED),
            count_if(RATED_AFTER_FOLLOW_UP),
            count_if(RATED_AFTER_FOLLOW_UP & SATISFIED),
        ).where(COMPLETED)
    ).one()
    zone = ZoneInfo(timezone)
    recent = session.execute(
        select(Order.completed_at, Order.township, Category.name, Order.hours)
        .join(Category, Category.code == Order.category_code)
        .where(VERIFIED)
        .order_by(Order.completed_at.desc(), Order.id.desc())
        .limit(RECENT)
    )
    return out.PublicTotals(
        orders_completed=completed,
        verified_hours=round(float(hours), 2),
        volunteers_serving=volunteers,
        follow_up_rate=reached / completed if completed else None,
        satisfied_share=satisfied / rated if rated else None,
        recent=[
            out.RecentService(
                completed_on=r.completed_at.astimezone(zone).date().isoformat(),
                township=r.township,
                category=r.name,
                hours=r.hours,
            )
            for r in recent
        ],
    )
