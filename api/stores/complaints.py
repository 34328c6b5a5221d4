"""Complaints the follow-ups recorded, until an admin resolves each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, case, select, update
from sqlalchemy.orm import Session, aliased

from api import schemas
from api.stores.access import OrderRef, in_scope
from api.stores.errors import COMPLAINT_OPEN, COMPLAINT_RESOLVED, Conflict, found
from api.stores.orders import add_note
from api.stores.rows import from_row, total_rows
from core.db import utcnow
from core.models import CatalogItem, Complaint, FollowUp, Order, OrderNote
from core.security import Principal
from core.vocab import ComplaintStatus


def list_complaints(
    session: Session,
    *,
    viewer: Principal,
    status: ComplaintStatus | None,
    township: str | None,
    limit: int,
    offset: int,
) -> schemas.Page[schemas.ComplaintOut]:
    """Complaints follow-ups recorded; open ones oldest first (the admins' to-do list),
    otherwise newest first. Only those in the viewer's townships."""
    query = _complaint_query().where(in_scope(viewer))
    if status is not None:
        query = query.where(Complaint.status == status.value)
    if township is not None:
        query = query.where(Order.township == township)
    total = total_rows(session, query)
    order = (
        (Complaint.created_at, Complaint.id)
        if status == ComplaintStatus.OPEN
        else (Complaint.created_at.desc(), Complaint.id.desc())
    )
    rows = session.execute(query.order_by(*order).limit(limit).offset(offset)).all()
    return schemas.Page[schemas.ComplaintOut](
        items=[_complaint(row) for row in rows], total=total, limit=limit, offset=offset
    )


_ComplaintNote = aliased(OrderNote)
_ResolutionNote = aliased(OrderNote)
_FollowUpNote = aliased(OrderNote)


def open_by_resident(
    session: Session, order: OrderRef, text: str, *, now: datetime | None = None
) -> None:
    """The resident complains (投诉) about their order: an item on the admins' list.

    One open complaint per order: a second, while the first is open, is a ``Conflict``.
    """
    already = session.scalar(
        select(Complaint.id)
        .where(Complaint.order_id == order.id, Complaint.status == ComplaintStatus.OPEN.value)
        .with_for_update()
    )
    if already is not None:
        raise Conflict(COMPLAINT_OPEN, f"complaint {already} on this order is still open")
    note_id = add_note(session, order.id, "resident_complaint", text)
    session.flush()  # the note first: the complaint refers to it
    session.add(
        Complaint(
            order_id=order.id,
            follow_up_id=None,
            source="resident",
            status=ComplaintStatus.OPEN.value,
            created_at=now or utcnow(),
            note_id=note_id,
        )
    )


def open_on(session: Session, order_id: int, *, with_text: bool) -> schemas.OpenComplaint | None:
    """The complaint open on an order, if any (the resident's words only ``with_text``)."""
    row = session.execute(
        select(Complaint, _ComplaintNote.body)
        .outerjoin(_ComplaintNote, _ComplaintNote.id == Complaint.note_id)
        .where(Complaint.order_id == order_id, Complaint.status == ComplaintStatus.OPEN.value)
        .order_by(Complaint.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    open_, text = row
    return schemas.OpenComplaint.model_validate(
        {
            "id": open_.id,
            "source": open_.source,
            "created_at": open_.created_at,
            "text": text if with_text else None,
        }
    )


def _complaint_query() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Complaint,
            Order.public_id.label("order_id"),
            Order.number.label("order_number"),
            Order.item_code,
            CatalogItem.name.label("item_name"),
            Order.township,
            Order.volunteer_id,
            _ComplaintNote.body.label("note"),
            _ResolutionNote.body.label("resolution"),
            # A complaint the agent's follow-up joined: their note beside the resident's.
            case((FollowUp.note_id != Complaint.note_id, _FollowUpNote.body), else_=None).label(
                "follow_up_note"
            ),
        )
        .join(Order, Order.id == Complaint.order_id)
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .outerjoin(_ComplaintNote, _ComplaintNote.id == Complaint.note_id)
        .outerjoin(_ResolutionNote, _ResolutionNote.id == Complaint.resolution_note_id)
        .outerjoin(FollowUp, FollowUp.id == Complaint.follow_up_id)
        .outerjoin(_FollowUpNote, _FollowUpNote.id == FollowUp.note_id)
    )


def _complaint(row: Row[Any]) -> schemas.ComplaintOut:
    # The complaint's own columns, then the order's and the notes' under the names they bear.
    return from_row(schemas.ComplaintOut, row.Complaint, **row._asdict())


def complaint(session: Session, complaint_id: int, viewer: Principal) -> schemas.ComplaintOut:
    row = session.execute(
        _complaint_query().where(Complaint.id == complaint_id, in_scope(viewer))
    ).first()
    return _complaint(found(row, "complaint", complaint_id))


def resolve_complaint(
    session: Session,
    complaint_id: int,
    body: schemas.ResolveBody,
    viewer: Principal,
    *,
    now: datetime | None = None,
) -> schemas.ComplaintOut:
    """Mark a complaint resolved with the admin's note; a ``Conflict`` if it already is.

    The note is stored first and the complaint moves in one conditional update: of two
    admins resolving at once one wins, and the other's note is rolled back with its error.
    """
    order_id = session.scalar(
        select(Complaint.order_id)
        .join(Order, Order.id == Complaint.order_id)
        .where(Complaint.id == complaint_id, in_scope(viewer))
    )
    order_id = found(order_id, "complaint", complaint_id)
    note_id = add_note(session, order_id, "complaint_resolution", body.notes)
    session.flush()
    resolved = session.scalar(
        update(Complaint)
        .where(Complaint.id == complaint_id, Complaint.status == ComplaintStatus.OPEN.value)
        .values(
            status=ComplaintStatus.RESOLVED.value,
            resolved_at=now or utcnow(),
            resolved_by=viewer.staff_id,
            resolution_note_id=note_id,
        )
        .returning(Complaint.id)
        .execution_options(synchronize_session=False)
    )
    if resolved is None:
        done = session.execute(
            select(Complaint.resolved_at, Complaint.resolved_by).where(Complaint.id == complaint_id)
        ).one()
        when = done.resolved_at.isoformat() if done.resolved_at is not None else "earlier"
        raise Conflict(
            COMPLAINT_RESOLVED,
            f"complaint {complaint_id} was resolved by admin {done.resolved_by} at {when}",
        )
    return complaint(session, complaint_id, viewer)
