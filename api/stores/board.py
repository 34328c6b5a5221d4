"""The to-close board (销号清单): the admin's open orders by what the center must do next."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from api import schemas
from api.stores.access import in_scope
from api.stores.figures import COMPLAINT_OPEN, NEEDS_CENTER, OVERDUE, STILL_OPEN
from api.stores.order_lists import summary
from core.models import Order
from core.security import Principal
from core.vocab import OrderStatus


def _columns() -> dict[str, ColumnElement[bool]]:
    """Each column's condition (``figures``); an order may stand in more than one."""
    return {
        "pending": Order.status == OrderStatus.PENDING.value,
        "dispatched": Order.status == OrderStatus.DISPATCHED.value,
        "accepted": Order.status == OrderStatus.ACCEPTED.value,
        "overdue": and_(STILL_OPEN, OVERDUE),
        "supervised": NEEDS_CENTER,
    }


def board(
    session: Session, viewer: Principal, *, township: str | None, limit: int, now: datetime
) -> schemas.BoardOut:
    """Counts for every column in one query, then the ``limit`` nearest deadlines of each."""
    scope = in_scope(viewer)
    if township is not None:
        scope = and_(scope, Order.township == township)
    columns = _columns()
    counted = session.execute(
        select(
            *(
                func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(name)
                for name, cond in columns.items()
            )
        ).where(scope)
    ).one()
    lists = {
        name: [
            summary(o)
            for o in session.scalars(
                select(Order).where(scope, cond).order_by(Order.deadline_at, Order.id).limit(limit)
            )
        ]
        for name, cond in columns.items()
    }
    listed = {o.id for column in lists.values() for o in column}
    complained = session.scalars(
        select(Order.public_id).where(Order.public_id.in_(listed), COMPLAINT_OPEN)
    )
    return schemas.BoardOut(
        counts={name: int(counted._mapping[name]) for name in columns},
        columns=lists,
        complaint_open=sorted(complained),
        at=now,
    )
