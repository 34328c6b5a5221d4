"""The read model as its workflows project it: each order's row as a snapshot, its repair."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.contracts import OrderSnapshot
from activities.database import project_order
from core.models import Order, OrderOffer
from core.vocab import OPEN_STATUSES, Rating

_COMPARED = tuple(f.name for f in fields(OrderSnapshot))
_SPECIAL = frozenset({"seq", "review_rating", "rating", "offered_to"})


def orders_to_verify(
    session: Session, *, township: str | None, closed_too: bool
) -> list[tuple[int, str]]:
    """(id, public id) of the orders whose workflow should still answer, oldest first."""
    query = select(Order.id, Order.public_id).where(
        Order.workflow_started_at.is_not(None), Order.workflow_lost_status.is_(None)
    )
    if not closed_too:
        query = query.where(Order.status.in_([s.value for s in OPEN_STATUSES]))
    if township is not None:
        query = query.where(Order.township == township)
    return [(i, p) for i, p in session.execute(query.order_by(Order.id)).all()]


def row_snapshot(session: Session, order_id: int) -> OrderSnapshot:
    """The order's read-model columns, as a projection would have written them.

    Every snapshot field is the order's column of the same name, but ``seq`` (``last_seq``),
    the ratings (codes in the row) and ``offered_to`` (the ``order_offers`` rows).
    """
    o = session.get_one(Order, order_id)
    offered = session.scalars(
        select(OrderOffer.volunteer_id).where(OrderOffer.order_id == order_id)
    )
    columns = {name: getattr(o, name) for name in _COMPARED if name not in _SPECIAL}
    return OrderSnapshot(
        **columns,
        seq=o.last_seq,
        review_rating=Rating(o.review_rating) if o.review_rating else None,
        rating=Rating(o.rating) if o.rating else None,
        offered_to=sorted(offered),
    )


def drift(row: OrderSnapshot, workflow: OrderSnapshot) -> list[str]:
    """The columns where the read model differs from the workflow's state."""
    differ = []
    for name in _COMPARED:
        ours, theirs = getattr(row, name), getattr(workflow, name)
        if name == "offered_to":
            ours, theirs = sorted(ours), sorted(theirs)
        elif name == "hours" and ours is not None and theirs is not None:
            ours, theirs = round(ours, 2), round(theirs, 2)
        if ours != theirs:
            differ.append(name)
    return differ


def repair(session: Session, order_id: int, workflow: OrderSnapshot) -> bool:
    """Write the workflow's state into the order's row (never over a newer projection)."""
    return project_order(session.connection(), order_id, workflow, repair=True)
