"""The audit log: who read a resident's contact or changed what, when, and from where.

Append-only (the database refuses UPDATE and DELETE on it); entries name accounts and
orders by id, never the personal data itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import schemas
from api.stores.rows import from_row, total_rows
from core.models import AuditEntry
from core.security import Principal


def record(
    session: Session,
    actor: Principal | str,
    action: str,
    target: str,
    *,
    ip: str | None,
    **detail: Any,
) -> None:
    """Write one entry in the caller's transaction: it lands exactly when the change does."""
    session.add(
        AuditEntry(
            actor=actor if isinstance(actor, str) else actor.subject,
            action=action,
            target=target,
            ip=ip,
            detail=detail,
        )
    )


def list_audit(
    session: Session,
    *,
    actor: str | None,
    action: str | None,
    target: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> schemas.Page[schemas.AuditOut]:
    query = select(AuditEntry)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    total = total_rows(session, query)
    rows = session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    )
    return schemas.Page[schemas.AuditOut](
        items=[from_row(schemas.AuditOut, row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
