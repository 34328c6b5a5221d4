"""A volunteer's inbox: what waits for their answer, what they hold, open calls.

The service and the place only: no resident's name, phone, address or reason (those come
with ``/contact`` once the volunteer has accepted).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, RowMapping, and_, func, select
from sqlalchemy.orm import Session

from api import schemas
from core.models import CatalogItem, Order, OrderEvent, OrderOffer, Village
from core.quiet_hours import OfferTimeouts
from core.service_hours import HoursKind, hours_kind
from core.vocab import EventName, OrderStatus

# The steps that start an offer's wait for an answer (see the workflow's dispatch loop).
OFFERING = (
    EventName.DISPATCHED.value,
    EventName.REDISPATCHED.value,
    EventName.OPEN_CALL.value,
    EventName.ASSIGNED.value,
    EventName.DECLINED.value,
    EventName.ACCEPT_TIMEOUT.value,
)
_HELD = (OrderStatus.ACCEPTED.value, OrderStatus.COMPLETED.value, OrderStatus.REVIEWED.value)
_LIMIT = 200
# The volunteer's past orders the app lists, newest first.
PAST_LIMIT = 100


def inbox(
    session: Session, volunteer_id: int, led_units: tuple[int, ...], timeouts: OfferTimeouts
) -> schemas.InboxOut:
    dispatched = Order.status == OrderStatus.DISPATCHED.value
    offered_to_me = select(OrderOffer.order_id).where(OrderOffer.volunteer_id == volunteer_id)
    mine = Order.volunteer_id == volunteer_id
    if led_units:
        mine = mine | (Order.volunteer_id.is_(None) & Order.unit_id.in_(led_units))
    return schemas.InboxOut(
        offered=_items(session, and_(dispatched, mine), timeouts),
        assigned=_items(
            session, and_(Order.status.in_(_HELD), Order.volunteer_id == volunteer_id), timeouts
        ),
        open_calls=_items(session, and_(dispatched, Order.id.in_(offered_to_me)), timeouts),
    )


def _items(
    session: Session, which: ColumnElement[bool], timeouts: OfferTimeouts
) -> list[schemas.InboxItem]:
    offered_at = (
        select(func.max(OrderEvent.at))
        .where(OrderEvent.order_id == Order.id, OrderEvent.event.in_(OFFERING))
        .correlate(Order)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Order.public_id,
            Order.number,
            Order.item_code,
            Order.category_code,
            Order.township,
            Order.status,
            Order.deadline_at,
            Order.volunteer_id,
            Order.unit_id,
            CatalogItem.name.label("service"),
            Village.name.label("village"),
            offered_at.label("offered_at"),
        )
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .outerjoin(Village, Village.id == Order.village_id)
        .where(which)
        .order_by(Order.deadline_at, Order.id)
        .limit(_LIMIT)
    ).all()
    return [_item(row._mapping, timeouts) for row in rows]


def _item(row: RowMapping, timeouts: OfferTimeouts) -> schemas.InboxItem:
    accept_by = None
    if row["status"] == OrderStatus.DISPATCHED.value and row["offered_at"] is not None:
        leader = row["unit_id"] is not None and row["volunteer_id"] is None
        accept_by = timeouts.accept_by(row["offered_at"], leader=leader)
    return schemas.InboxItem(
        order_id=row["public_id"],
        number=row["number"],
        service=row["service"],
        item_code=row["item_code"],
        category=row["category_code"],
        township=row["township"],
        village=row["village"],
        status=OrderStatus(row["status"]),
        due_at=row["deadline_at"],
        accept_by=accept_by,
    )


def past_orders(session: Session, volunteer_id: int) -> list[schemas.PastOrder]:
    """The orders the volunteer completed, newest first: the service, the place, the hours and
    the rating, as their record counts them; no resident's personal data."""
    rows = session.execute(
        select(
            Order.public_id,
            Order.number,
            Order.township,
            Order.status,
            Order.completed_at,
            Order.hours,
            Order.deadline_at,
            Order.review_rating,
            Order.rating,
            Order.follow_up_outcome,
            Order.checked_in_at,
            Order.checked_out_at,
            CatalogItem.name.label("service"),
            Village.name.label("village"),
        )
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .outerjoin(Village, Village.id == Order.village_id)
        .where(Order.volunteer_id == volunteer_id, Order.completed_at.is_not(None))
        .order_by(Order.completed_at.desc(), Order.id.desc())
        .limit(PAST_LIMIT)
    ).all()
    return [
        schemas.PastOrder(
            order_id=r.public_id,
            number=r.number,
            service=r.service,
            township=r.township,
            village=r.village,
            status=OrderStatus(r.status),
            completed_at=r.completed_at,
            hours=r.hours,
            on_time=r.completed_at <= r.deadline_at,
            rating=r.rating or r.review_rating,
            hours_counted=hours_kind(
                r.follow_up_outcome,
                checked_in_and_out=r.checked_in_at is not None and r.checked_out_at is not None,
            )
            is HoursKind.VERIFIED,
        )
        for r in rows
    ]
