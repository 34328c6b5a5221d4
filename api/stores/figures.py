"""Each figure the staff's screens count, defined once.

The to-close board, the order list's filters, the escalations and complaints lists and the
supervision screen (the overview report) all count with these, so the same word shows the
same number everywhere:

- 在办 (``STILL_OPEN``): pending, dispatched or accepted.
- 超时 (``OVERDUE``): an order that passed its 72-hour deadline before it was done; the
  board's column is those still open (``OVERDUE & STILL_OPEN``, 超时未办结).
- 督办 (``ESCALATED``): overdue orders the center escalated, level by level (超时督办); the
  escalations list holds one row per level.
- 待中心处理 (``NEEDS_CENTER``): what no timer settles by itself: nobody to dispatch to, a
  lost workflow, a resident's hurry (催办), an open complaint.
- 投诉 (``complaints``): every complaint, whether the resident made it or the follow-up
  recorded it, and how many are resolved.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from core.models import Complaint, Order
from core.vocab import OPEN_STATUSES, ComplaintStatus

STILL_OPEN: ColumnElement[bool] = Order.status.in_([s.value for s in OPEN_STATUSES])
OVERDUE: ColumnElement[bool] = Order.overdue.is_(True)
ESCALATED: ColumnElement[bool] = Order.escalation_level > 0
COMPLAINT_OPEN: ColumnElement[bool] = exists().where(
    Complaint.order_id == Order.id, Complaint.status == ComplaintStatus.OPEN.value
)
NEEDS_CENTER: ColumnElement[bool] = or_(
    and_(
        STILL_OPEN,
        or_(
            Order.undispatchable.is_(True),
            Order.workflow_lost_at.is_not(None),
            Order.hurry_count > 0,
        ),
    ),
    COMPLAINT_OPEN,
)


def complaints(session: Session, where: Sequence[ColumnElement[bool]]) -> tuple[int, int]:
    """The complaints about the orders ``where`` selects: (all of them, those resolved)."""
    total, resolved = session.execute(
        select(
            func.count(),
            func.count().filter(Complaint.status == ComplaintStatus.RESOLVED.value),
        )
        .select_from(Complaint)
        .join(Order, Order.id == Complaint.order_id)
        .where(*where)
    ).one()
    return int(total), int(resolved)
