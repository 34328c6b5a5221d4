"""Which orders a principal may see, and as whom: the one place the visibility rules live.

- an admin: orders in their townships (all of them for a county admin);
- a call-center agent: orders whose follow-up has opened (in their townships, if any);
- a volunteer: orders dispatched, offered or assigned to them (and those they accepted), and,
  for a leader, orders dispatched to a unit they lead;
- a resident: their own orders; an order link from our SMS: that one order.

Anything else reads as "not found", exactly like an order that does not exist, so order ids
never leak whose they are. What each may then read of an order is ``Viewer``'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from api.stores.errors import Conflict, NotFound
from core.models import FollowUp, Order, OrderEvent, OrderOffer
from core.security import Principal
from core.vocab import EventName, OrderStatus, Role
from workflows.errors import ALREADY_TAKEN

# From acceptance until the order is done, the volunteer needs to reach the resident.
HOLDING = frozenset({OrderStatus.ACCEPTED, OrderStatus.COMPLETED, OrderStatus.REVIEWED})


def visible(principal: Principal) -> ColumnElement[bool]:
    """The orders ``principal`` may know exist, as a SQL condition."""
    allowed: list[ColumnElement[bool]] = []
    if principal.has(Role.ADMIN):
        allowed.append(in_scope(principal))
    if principal.has(Role.AGENT):
        allowed.append(and_(in_scope(principal), exists().where(FollowUp.order_id == Order.id)))
    if principal.has(Role.VOLUNTEER) and principal.volunteer_id is not None:
        allowed.append(_volunteers(principal.volunteer_id, principal.led_units))
    if principal.has(Role.RESIDENT) and principal.resident_id is not None:
        allowed.append(Order.resident_id == principal.resident_id)
    if principal.order is not None:
        allowed.append(Order.public_id == principal.order)
    if not allowed:
        return false()
    if principal.only_order is not None:
        return and_(Order.public_id == principal.only_order, or_(*allowed))
    return or_(*allowed)


def in_scope(principal: Principal) -> ColumnElement[bool]:
    """A staff member's townships (every township for the county)."""
    if principal.townships is None:
        return true()
    return Order.township.in_(principal.townships)


def _volunteers(volunteer_id: int, led_units: tuple[int, ...]) -> ColumnElement[bool]:
    offered = select(OrderOffer.order_id).where(OrderOffer.volunteer_id == volunteer_id)
    mine: list[ColumnElement[bool]] = [
        Order.volunteer_id == volunteer_id,
        Order.id.in_(offered),
    ]
    if led_units:
        mine.append(Order.unit_id.in_(led_units))
    return or_(*mine)


class Viewer(Enum):
    """As whom a principal reads one order (the first that applies, most rights first)."""

    STAFF = "staff"
    OWNER = "owner"
    HOLDER = "holder"  # the volunteer who accepted it, until it closes
    VOLUNTEER = "volunteer"  # offered, dispatched, a leader's unit, or no longer holding it


@dataclass(frozen=True)
class OrderRef:
    """An order the caller may see: its internal id and what the rules look at."""

    id: int
    public_id: str
    township: str
    status: OrderStatus
    resident_id: int | None
    volunteer_id: int | None
    viewer: Viewer
    # Set when the workflow ended outside the API (see the reconciler): its status.
    workflow_lost: str | None = None


def resolve(session: Session, principal: Principal, public_id: str) -> OrderRef:
    """The order behind ``public_id`` if ``principal`` may see it, else ``NotFound``."""
    return _ref(session, principal, Order.public_id == public_id, visible(principal), public_id)


def resolve_offered(session: Session, principal: Principal, public_id: str) -> OrderRef:
    """As ``resolve``, for a volunteer answering an offer: an open call they were offered that
    another volunteer took first is 409 ``AlreadyTaken``, not 404. (The offers end when the
    winner's acceptance is recorded, so a loser of the race may resolve the order after that.)
    """
    try:
        return resolve(session, principal, public_id)
    except NotFound:
        me = principal.volunteer_id
        if me is None or principal.only_order not in (None, public_id):
            raise
        calls = session.scalars(
            select(OrderEvent.data)
            .join(Order, Order.id == OrderEvent.order_id)
            .where(Order.public_id == public_id, OrderEvent.event == EventName.OPEN_CALL)
        )
        if any(me in (data or {}).get("offered_to", ()) for data in calls):
            raise Conflict(ALREADY_TAKEN, "another volunteer accepted this order first") from None
        raise


def placed_by(session: Session, principal: Principal, public_id: str) -> OrderRef:
    """The order ``principal`` just placed: theirs, or as staff who took the call."""
    return _ref(session, principal, Order.public_id == public_id, true(), public_id)


def _ref(
    session: Session,
    principal: Principal,
    which: ColumnElement[bool],
    allowed: ColumnElement[bool],
    public_id: str,
) -> OrderRef:
    row = session.execute(
        select(
            Order.id,
            Order.public_id,
            Order.township,
            Order.status,
            Order.resident_id,
            Order.volunteer_id,
            Order.workflow_lost_status,
        ).where(which, allowed)
    ).first()
    if row is None:
        raise NotFound("order", public_id)
    status = OrderStatus(row.status)
    return OrderRef(
        id=row.id,
        public_id=row.public_id,
        township=row.township,
        status=status,
        resident_id=row.resident_id,
        volunteer_id=row.volunteer_id,
        viewer=_viewer(principal, row.resident_id, row.volunteer_id, row.public_id, status),
        workflow_lost=row.workflow_lost_status,
    )


def _viewer(
    principal: Principal,
    resident_id: int | None,
    volunteer_id: int | None,
    public_id: str,
    status: OrderStatus,
) -> Viewer:
    # ``visible`` already let this principal see the order; here only the kind of view.
    if principal.has(Role.ADMIN, Role.AGENT):
        return Viewer.STAFF
    owner = principal.order == public_id or (
        principal.resident_id is not None and principal.resident_id == resident_id
    )
    if owner:
        return Viewer.OWNER
    if volunteer_id is not None and volunteer_id == principal.volunteer_id and status in HOLDING:
        return Viewer.HOLDER
    return Viewer.VOLUNTEER
