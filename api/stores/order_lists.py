"""Lists of orders: the admins' filtered list, a resident's own, a volunteer's offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, or_, select
from sqlalchemy.orm import Session

from api import schemas
from api.stores import audit
from api.stores.access import visible
from api.stores.errors import NotFound
from api.stores.figures import OVERDUE, STILL_OPEN
from api.stores.rows import from_row, total_rows
from core.models import (
    Order,
    OrderOffer,
    Unit,
    Volunteer,
)
from core.order_numbers import squeezed, typed
from core.phones import e164
from core.security import Principal
from core.vocab import OrderStatus


def residents_orders(
    session: Session, resident: Principal, *, limit: int, offset: int
) -> schemas.Page[schemas.OrderSummary]:
    """A resident's own orders, newest first."""
    query = select(Order).where(Order.resident_id == resident.resident_id)
    return _newest_first(session, query, limit=limit, offset=offset)


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    # 在办: pending, dispatched or accepted (``figures.STILL_OPEN``).
    still_open: bool | None = None
    overdue: bool | None = None
    undispatchable: bool | None = None
    township: str | None = None
    category: str | None = None
    item: str | None = None
    volunteer_id: int | None = None
    # Orders whose workflow ended outside the API (see the reconciler).
    lost: bool | None = None
    submitted_from: datetime | None = None
    submitted_before: datetime | None = None
    # What staff typed to find an order: its number, the resident's phone (whole, or its
    # last four digits) or name (see ``searched``).
    search: str | None = None


def list_orders(
    session: Session,
    flt: OrderFilter,
    *,
    viewer: Principal,
    limit: int,
    offset: int,
    ip: str | None = None,
    country_code: str = "86",
) -> schemas.Page[schemas.OrderSummary]:
    """Orders the viewer may see, newest first (staff: their townships; residents: theirs).

    A search by the resident's phone or name is audited (what was typed is not kept: it is
    personal data, and erasure must find it nowhere).
    """
    query = select(Order).where(
        visible(viewer), *chosen(session, flt, viewer=viewer, ip=ip, country_code=country_code)
    )
    return _newest_first(session, query, limit=limit, offset=offset)


def chosen(
    session: Session,
    flt: OrderFilter,
    *,
    viewer: Principal,
    ip: str | None,
    country_code: str,
) -> list[ColumnElement[bool]]:
    """The filter as SQL conditions: the list and its export select the same orders."""
    where: list[ColumnElement[bool]] = []
    if flt.search is not None:
        condition, personal = searched(flt.search, country_code=country_code)
        where.append(condition)
        if personal is not None:
            audit.record(session, viewer, "orders.search", "orders", ip=ip, by=personal)
    if flt.status is not None:
        where.append(Order.status == flt.status.value)
    if flt.still_open is not None:
        where.append(STILL_OPEN if flt.still_open else ~STILL_OPEN)
    if flt.overdue is not None:
        where.append(OVERDUE if flt.overdue else ~OVERDUE)
    if flt.undispatchable is not None:
        where.append(Order.undispatchable.is_(flt.undispatchable))
    if flt.township is not None:
        where.append(Order.township == flt.township)
    if flt.category is not None:
        where.append(Order.category_code == flt.category)
    if flt.item is not None:
        where.append(Order.item_code == flt.item)
    if flt.volunteer_id is not None:
        where.append(Order.volunteer_id == flt.volunteer_id)
    if flt.lost is not None:
        where.append(
            Order.workflow_lost_at.is_not(None) if flt.lost else Order.workflow_lost_at.is_(None)
        )
    if flt.submitted_from is not None:
        where.append(Order.submitted_at >= flt.submitted_from)
    if flt.submitted_before is not None:
        where.append(Order.submitted_at < flt.submitted_before)
    return where


def searched(text: str, *, country_code: str) -> tuple[ColumnElement[bool], str | None]:
    """The orders ``text`` finds, and what personal data it was (``phone``, ``name``), if any.

    Four digits are the last four of the resident's phone; eight to ten an order's number;
    eleven or more (or ``+``…) a whole phone, or a number. Anything else is the start of
    the name the order was placed under.
    """
    number = typed(text)
    compact = squeezed(text)
    if compact.isdigit() and len(compact) == 4:
        return Order.resident_phone.endswith(compact), "phone"
    if number is not None and len(number) <= 10:
        return Order.number == number, None
    phone = e164(compact, country_code=country_code) if compact.lstrip("+").isdigit() else None
    if phone is not None:
        return or_(Order.resident_phone == phone, Order.number == compact), "phone"
    return Order.resident_name.startswith(text.strip(), autoescape=True), "name"


# What a list reads of each order: its summary's columns. Whole ORM objects (some forty
# columns, personal data among them, each tracked by the session) made a township's page
# of 200 take half as long again (14-17 ms against 10-11), and admins' screens poll it.
_SUMMARY_COLUMNS = (
    Order.public_id,
    Order.workflow_lost_status,
    *(
        getattr(Order, name)
        for name in schemas.OrderSummary.model_fields
        if name not in ("id", "workflow_lost")
    ),
)


def _newest_first(
    session: Session, query: Select[Order], *, limit: int, offset: int
) -> schemas.Page[schemas.OrderSummary]:
    """One page of orders, newest first, with the count of them all."""
    total = total_rows(session, query)
    rows = session.execute(
        query.with_only_columns(*_SUMMARY_COLUMNS)
        .order_by(Order.submitted_at.desc(), Order.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return schemas.Page[schemas.OrderSummary](
        items=[summary(o) for o in rows], total=total, limit=limit, offset=offset
    )


def summary(o: Order | Row[Any]) -> schemas.OrderSummary:
    """An order's list entry, from its row or from its summary's columns."""
    return from_row(schemas.OrderSummary, o, id=o.public_id, workflow_lost=o.workflow_lost_status)


def offers_for(session: Session, volunteer_id: int) -> list[schemas.OrderSummary]:
    """What waits for this volunteer's answer: direct dispatches, open calls, their unit's."""
    if session.get(Volunteer, volunteer_id) is None:
        raise NotFound("volunteer", volunteer_id)
    offered = select(OrderOffer.order_id).where(OrderOffer.volunteer_id == volunteer_id)
    led = select(Unit.id).where(Unit.leader_id == volunteer_id, Unit.active.is_(True))
    rows = session.scalars(
        select(Order)
        .where(
            Order.status == OrderStatus.DISPATCHED.value,
            (Order.volunteer_id == volunteer_id)
            | Order.id.in_(offered)
            | (Order.volunteer_id.is_(None) & Order.unit_id.in_(led)),
        )
        .order_by(Order.deadline_at)
        .limit(200)
    )
    return [summary(o) for o in rows]
