"""Escalations: orders past their 72-hour deadline, level by level."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import schemas
from api.stores.access import in_scope
from api.stores.figures import STILL_OPEN
from api.stores.rows import from_row, total_rows
from core.models import Escalation, Order
from core.security import Principal


def list_escalations(
    session: Session,
    *,
    viewer: Principal,
    order_id: str | None,
    open_only: bool,
    limit: int,
    offset: int,
) -> schemas.Page[schemas.EscalationOut]:
    """Escalations in the viewer's townships, newest first."""
    query = (
        select(Escalation, Order)
        .join(Order, Order.id == Escalation.order_id)
        .where(in_scope(viewer))
    )
    if order_id is not None:
        query = query.where(Order.public_id == order_id)
    if open_only:
        query = query.where(STILL_OPEN)
    total = total_rows(session, query)
    rows = session.execute(
        query.order_by(Escalation.at.desc(), Escalation.id.desc()).limit(limit).offset(offset)
    ).all()
    return schemas.Page[schemas.EscalationOut](
        items=[
            from_row(
                schemas.EscalationOut,
                e,
                order_id=o.public_id,
                order_number=o.number,
                order_status=o.status,
                township=o.township,
                category_code=o.category_code,
                deadline_at=o.deadline_at,
            )
            for e, o in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )
