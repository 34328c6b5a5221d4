"""Staff notes on an order: internal (never shown to residents or volunteers), audited.

Who wrote a note is the audit entry written with it (one record of it, which nobody can
change); the note itself holds only the text.
"""

from __future__ import annotations

from sqlalchemy import String, cast, literal, select
from sqlalchemy.orm import Session

from api import schemas
from api.stores import audit
from api.stores.access import OrderRef
from api.stores.orders import add_note
from core.models import AuditEntry, OrderNote, StaffAccount
from core.security import Principal
from core.vocab import STAFF_NOTE

ACTION = "order.note"


def _target(note_id: str) -> str:
    return f"note:{note_id}"


def add_staff_note(
    session: Session, order: OrderRef, text: str, author: Principal, *, ip: str | None
) -> schemas.NoteOut:
    note_id = add_note(session, order.id, STAFF_NOTE, text)
    audit.record(session, author, ACTION, _target(note_id), ip=ip, order=order.public_id)
    session.flush()
    [note] = staff_notes(session, order, only=note_id)
    return note


def staff_notes(
    session: Session, order: OrderRef, *, only: str | None = None
) -> list[schemas.NoteOut]:
    """The order's staff notes, oldest first, each with its author's username."""
    query = (
        select(OrderNote.id, OrderNote.body, OrderNote.created_at, StaffAccount.username)
        .outerjoin(
            AuditEntry,
            (AuditEntry.action == ACTION) & (AuditEntry.target == literal("note:") + OrderNote.id),
        )
        .outerjoin(
            StaffAccount,
            AuditEntry.actor == literal("staff:") + cast(StaffAccount.id, String),
        )
        .where(OrderNote.order_id == order.id, OrderNote.kind == STAFF_NOTE)
        .order_by(OrderNote.created_at, OrderNote.id)
    )
    if only is not None:
        query = query.where(OrderNote.id == only)
    return [
        schemas.NoteOut(
            id=row.id,
            order_id=order.public_id,
            text=row.body,
            author=row.username,
            created_at=row.created_at,
        )
        for row in session.execute(query)
    ]
