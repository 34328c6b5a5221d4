"""Orders: submitting (idempotent), the checks and notes before a command, and reads.

The workflow owns every status change; this writes only what precedes a workflow (the
submitted order) and the free text people type, whose id alone enters the workflow.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from api import schemas
from api.stores.errors import (
    IDEMPOTENCY_MISMATCH,
    NOT_UNIT_DISPATCH,
    Conflict,
    NotFound,
    found,
    unknown,
)
from api.stores.policies import policy_for
from api.stores.references import require_township, require_village, require_volunteer
from api.stores.rows import from_row, total_rows
from core.db import insert_ignore, utcnow
from core.models import (
    CatalogItem,
    FollowUp,
    Order,
    OrderEvent,
    OrderNote,
    OrderOffer,
    Unit,
    Volunteer,
)
from core.phones import mask_for_screen
from core.vocab import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    ActorKind,
    DispatchPolicy,
    EventName,
    OrderStatus,
    actor,
)
from workflows.errors import ORDER_FINISHED
from workflows.order import workflow_id


@dataclass(frozen=True)
class Submitted:
    order_id: int
    item_code: str
    category_code: str
    township: str
    submitted_at: datetime
    replayed: bool
    dispatch_policy: DispatchPolicy = DispatchPolicy.MANUAL


def request_hash(body: schemas.OrderCreate) -> str:
    return hashlib.sha256(
        json.dumps(body.model_dump(), sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def create_order(
    session: Session,
    body: schemas.OrderCreate,
    *,
    idempotency_key: str | None,
    completion_sla: timedelta,
) -> Submitted:
    """Insert the order and its ``submitted`` event, or return the one this key made."""
    digest = request_hash(body)
    if idempotency_key is not None:
        existing = _by_idempotency_key(session, idempotency_key, digest)
        if existing is not None:
            return existing
    item = session.get(CatalogItem, body.item_code)
    if item is None or not item.active:
        raise unknown("item_code", body.item_code)
    require_township(session, body.township)
    if body.village_id is not None:
        require_village(session, body.village_id, body.township)
    policy = policy_for(session, item.category_code)
    now = utcnow()
    # Insert-or-ignore on the key: a concurrent retry with the same key waits for the
    # first insert to commit, inserts nothing, and then reads the order the first one made.
    order_id = session.scalar(
        insert_ignore(session, Order.__table__, ("idempotency_key",))
        .values(
            item_code=item.code,
            category_code=item.category_code,
            township=body.township,
            village_id=body.village_id,
            dispatch_policy=policy.value,
            dispatch_attempts=0,
            undispatchable=False,
            reason=body.reason,
            address=body.address,
            resident_name=body.resident_name,
            resident_phone=body.resident_phone,
            status=OrderStatus.PENDING.value,
            submitted_at=now,
            deadline_at=now + completion_sla,
            overdue=False,
            escalation_level=0,
            last_seq=1,
            idempotency_key=idempotency_key,
            request_hash=digest,
            updated_at=now,
        )
        .returning(Order.__table__.c.id)
    )
    if order_id is None:
        assert idempotency_key is not None  # only a duplicate key can make the insert a no-op
        existing = _by_idempotency_key(session, idempotency_key, digest)
        assert existing is not None
        return existing
    session.add(
        OrderEvent(
            order_id=order_id,
            seq=1,
            event=EventName.SUBMITTED.value,
            actor=actor(ActorKind.RESIDENT),
            at=now,
            data={"item_code": item.code},
        )
    )
    return Submitted(
        order_id=order_id,
        item_code=item.code,
        category_code=item.category_code,
        township=body.township,
        submitted_at=now,
        replayed=False,
        dispatch_policy=policy,
    )


def _by_idempotency_key(session: Session, key: str, digest: str) -> Submitted | None:
    order = session.scalar(select(Order).where(Order.idempotency_key == key))
    if order is None:
        return None
    if order.request_hash != digest:
        raise Conflict(
            IDEMPOTENCY_MISMATCH,
            "this Idempotency-Key was used for a different request",
        )
    return _submitted(order, replayed=True)


def _submitted(order: Order, *, replayed: bool) -> Submitted:
    return Submitted(
        order_id=order.id,
        item_code=order.item_code,
        category_code=order.category_code,
        township=order.township,
        submitted_at=order.submitted_at,
        replayed=replayed,
        dispatch_policy=DispatchPolicy(order.dispatch_policy),
    )


def mark_workflow_started(session: Session, order_id: int) -> None:
    session.execute(
        update(Order)
        .where(Order.id == order_id, Order.workflow_started_at.is_(None))
        .values(workflow_started_at=utcnow())
    )


def submitted_order(session: Session, order_id: int) -> Submitted | None:
    """An order that is still open, as its workflow was (or should have been) started."""
    order = session.get(Order, order_id)
    if order is None or OrderStatus(order.status) not in OPEN_STATUSES:
        return None
    return _submitted(order, replayed=True)


def orders_without_workflow(session: Session, *, older_than: timedelta) -> list[Submitted]:
    """Orders committed but whose workflow start never got through (API died, Temporal down)."""
    rows = session.scalars(
        select(Order)
        .where(Order.workflow_started_at.is_(None), Order.submitted_at < utcnow() - older_than)
        .order_by(Order.id)
        .limit(500)
    ).all()
    return [_submitted(o, replayed=True) for o in rows]


def order_status(session: Session, order_id: int) -> OrderStatus:
    status = session.scalar(select(Order.status).where(Order.id == order_id))
    return OrderStatus(found(status, "order", order_id))


def dispatched_unit(session: Session, order_id: int) -> int:
    """The unit an order is dispatched to, as last recorded; refused when it is not a unit's."""
    row = session.execute(select(Order.unit_id).where(Order.id == order_id)).first()
    (unit_id,) = found(row, "order", order_id)
    if unit_id is None:
        raise Conflict(NOT_UNIT_DISPATCH, "the order is not dispatched to a team or station")
    return unit_id


def prepare_command(
    session: Session,
    order_id: int,
    *,
    volunteer_id: int | None,
    volunteer_must_be_active: bool,
    note: tuple[str, str | None] | None,
) -> str | None:
    """Checks before a command reaches the workflow, in one transaction; returns the note id.

    The order must exist (``NotFound``) and still be open (``Conflict``), any volunteer named
    must exist (``Invalid``); free text is stored so that only its id enters the workflow.
    """
    status = order_status(session, order_id)
    if status in FINAL_STATUSES:
        raise Conflict(ORDER_FINISHED, f"the order is {status}")
    if volunteer_id is not None:
        require_volunteer(session, volunteer_id, active=volunteer_must_be_active)
    if note is not None and note[1]:
        return add_note(session, order_id, note[0], note[1])
    return None


def add_note(session: Session, order_id: int, kind: str, body: str) -> str:
    note_id = str(uuid.uuid4())
    session.add(OrderNote(id=note_id, order_id=order_id, kind=kind, body=body))
    return note_id


def drop_note(session: Session, note_id: str) -> None:
    session.execute(delete(OrderNote).where(OrderNote.id == note_id))


def order_detail(session: Session, order_id: int, *, workflows_url: str) -> schemas.OrderOut:
    # Two queries, plain rows for the timeline: this is the hottest read in the API.
    row = session.execute(
        select(Order, CatalogItem.name, FollowUp)
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .outerjoin(FollowUp, FollowUp.order_id == Order.id)
        .where(Order.id == order_id)
    ).first()
    order, item_name, follow_up = found(row, "order", order_id)
    timeline = session.execute(
        select(
            OrderEvent.at,
            OrderEvent.event,
            OrderEvent.actor,
            OrderEvent.volunteer_id,
            OrderEvent.data,
            OrderNote.body,
        )
        .outerjoin(OrderNote, OrderNote.id == OrderEvent.note_id)
        .where(OrderEvent.order_id == order_id)
        .order_by(OrderEvent.seq)
    ).all()
    wid = workflow_id(order.id)
    return from_row(
        schemas.OrderOut,
        order,
        item_name=item_name,
        resident_phone_masked=mask_for_screen(order.resident_phone),
        follow_up=schemas.FollowUpSummary.model_validate(follow_up, from_attributes=True)
        if follow_up
        else None,
        timeline=[
            schemas.TimelineEntry(
                at=at, event=event, actor=by, volunteer_id=volunteer, data=data or {}, note=note
            )
            for at, event, by, volunteer, data, note in timeline
        ],
        offered_to=list(
            session.scalars(
                select(OrderOffer.volunteer_id)
                .where(OrderOffer.order_id == order_id)
                .order_by(OrderOffer.volunteer_id)
            )
        ),
        workflow_id=wid,
        workflow_url=f"{workflows_url}/{wid}",
    )


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    overdue: bool | None = None
    undispatchable: bool | None = None
    township: str | None = None
    category: str | None = None
    item: str | None = None
    volunteer_id: int | None = None


def list_orders(
    session: Session, flt: OrderFilter, *, limit: int, offset: int
) -> schemas.Page[schemas.OrderSummary]:
    query = select(Order)
    if flt.status is not None:
        query = query.where(Order.status == flt.status.value)
    if flt.overdue is not None:
        query = query.where(Order.overdue.is_(flt.overdue))
    if flt.undispatchable is not None:
        query = query.where(Order.undispatchable.is_(flt.undispatchable))
    if flt.township is not None:
        query = query.where(Order.township == flt.township)
    if flt.category is not None:
        query = query.where(Order.category_code == flt.category)
    if flt.item is not None:
        query = query.where(Order.item_code == flt.item)
    if flt.volunteer_id is not None:
        query = query.where(Order.volunteer_id == flt.volunteer_id)
    total = total_rows(session, query)
    rows = session.scalars(
        query.order_by(Order.submitted_at.desc(), Order.id.desc()).limit(limit).offset(offset)
    ).all()
    return schemas.Page[schemas.OrderSummary](
        items=[from_row(schemas.OrderSummary, o) for o in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def offers_for(session: Session, volunteer_id: int) -> list[schemas.OrderSummary]:
    """What waits for this volunteer's answer: direct dispatches, open calls, their unit's."""
    if session.get(Volunteer, volunteer_id) is None:
        raise NotFound("volunteer", volunteer_id)
    offered = select(OrderOffer.order_id).where(OrderOffer.volunteer_id == volunteer_id)
    led = select(Unit.id).where(Unit.leader_id == volunteer_id)
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
    return [from_row(schemas.OrderSummary, o) for o in rows]
