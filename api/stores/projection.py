"""The read model as its workflows project it: each order's row as a snapshot, its repair."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Escalation, FollowUp, Order, OrderEvent, OrderOffer
from core.read_model import project_order
from core.snapshot import RATINGS, ROW_COLUMN, ROW_FIELDS, SNAPSHOT_FIELDS, OrderSnapshot
from core.vocab import OPEN_STATUSES, FollowUpStatus, OrderStatus, Rating
from workflows.order.messages import OrderView

_PLAIN = tuple(n for n in ROW_FIELDS if n not in RATINGS and n not in ROW_COLUMN)


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
    columns = {name: getattr(o, name) for name in _PLAIN}
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
    for name in SNAPSHOT_FIELDS:
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
    return project_order(session.connection(), order_id, workflow)


@dataclass(frozen=True)
class Trail:
    """What a transition's projection writes beside the order's row, in the same transaction."""

    event_seqs: list[int]
    escalation_levels: list[int]
    follow_up: tuple[int, str] | None  # the order's follow-up row: (id, status)


def trail(session: Session, order_id: int) -> Trail:
    follow_up = session.execute(
        select(FollowUp.id, FollowUp.status).where(FollowUp.order_id == order_id)
    ).one_or_none()
    return Trail(
        event_seqs=list(
            session.scalars(
                select(OrderEvent.seq)
                .where(OrderEvent.order_id == order_id)
                .order_by(OrderEvent.seq)
            )
        ),
        escalation_levels=list(
            session.scalars(
                select(Escalation.level)
                .where(Escalation.order_id == order_id)
                .order_by(Escalation.level)
            )
        ),
        follow_up=(follow_up.id, follow_up.status) if follow_up else None,
    )


def trail_drift(found: Trail, shown: OrderView) -> list[str]:
    """Where the audit trail, the escalations or the follow-up disagree with the workflow.

    Only what the ``state`` query can tell: one event per transition numbered 1 to its
    ``seq``, one escalation row per level reached, and the follow-up the workflow holds in the
    status its view implies. Not repairable from it (events carry actors and data, a closed
    follow-up its result), so ``--repair`` leaves these alone and reports them again.
    """
    differ = []
    if found.event_seqs != list(range(1, shown.seq + 1)):
        differ.append("events")
    if found.escalation_levels != list(range(1, shown.escalation_level + 1)):
        differ.append("escalations")
    # None while its row commits and the id travels back to the workflow: nothing to hold yet.
    if shown.follow_up_id is not None and found.follow_up != (
        shown.follow_up_id,
        follow_up_status(shown).value,
    ):
        differ.append("follow_up")
    return differ


def follow_up_status(shown: OrderView) -> FollowUpStatus:
    """The follow-up row's status a workflow with a follow-up implies: its result closes the
    order, and it is in the staff queue once queued, else the automated calls still try."""
    if shown.status == OrderStatus.CLOSED:
        return FollowUpStatus.DONE
    return FollowUpStatus.OPEN if shown.follow_up_queued else FollowUpStatus.CALLING
