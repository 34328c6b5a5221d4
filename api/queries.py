"""Reads and the few writes the API makes itself, as plain functions of a session.

The workflow owns every status change; the API writes only what precedes a workflow
(the submitted order, free text a person typed) and registries such as volunteers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased, selectinload

from api import schemas
from api.registry import (
    policy_for,
    require_township,
    require_village,
    require_volunteer,
    total_rows,
)
from api.stores.errors import (
    CLAIMED_BY_OTHER,
    COMPLAINT_RESOLVED,
    FOLLOW_UP_NOT_OPEN,
    IDEMPOTENCY_MISMATCH,
    INVALID_PERIOD,
    NOT_CLAIM_HOLDER,
    Conflict,
    Invalid,
    NotFound,
    unknown,
)
from core.db import insert_ignore, utcnow
from core.models import (
    CatalogItem,
    Category,
    Complaint,
    Escalation,
    FollowUp,
    FollowUpCall,
    Order,
    OrderEvent,
    OrderNote,
    OrderOffer,
    SmsMessage,
    Unit,
    Volunteer,
)
from core.phones import mask_for_screen
from core.vocab import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    ActorKind,
    ComplaintStatus,
    DispatchPolicy,
    EventName,
    FollowUpOutcome,
    FollowUpStatus,
    OrderStatus,
    SettledBy,
    actor,
)
from workflows.errors import ORDER_FINISHED
from workflows.order import workflow_id

# --- catalog ---------------------------------------------------------------------------


def catalog(session: Session) -> list[schemas.CategoryOut]:
    rows = session.scalars(
        select(Category).options(selectinload(Category.items)).order_by(Category.position)
    ).all()
    return [
        schemas.CategoryOut(
            code=c.code,
            name=c.name,
            name_en=c.name_en,
            items=[
                schemas.ItemOut(code=i.code, name=i.name, name_en=i.name_en)
                for i in c.items
                if i.active
            ],
        )
        for c in rows
    ]


# --- submitting ------------------------------------------------------------------------


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


# --- orders ----------------------------------------------------------------------------


def order_status(session: Session, order_id: int) -> OrderStatus:
    status = session.scalar(select(Order.status).where(Order.id == order_id))
    if status is None:
        raise NotFound("order", order_id)
    return OrderStatus(status)


def order_unit(session: Session, order_id: int) -> int | None:
    """The unit an order is dispatched to, as last recorded (404 for an unknown order)."""
    row = session.execute(select(Order.unit_id).where(Order.id == order_id)).first()
    if row is None:
        raise NotFound("order", order_id)
    return row[0]


def prepare_command(
    session: Session,
    order_id: int,
    *,
    volunteer_id: int | None,
    volunteer_must_be_active: bool,
    note: tuple[str, str | None] | None,
) -> str | None:
    """Checks before a command reaches the workflow, in one transaction; returns the note id.

    The order must exist (404) and still be open (409), any volunteer named must exist
    (422); free text is stored so that only its id enters the workflow.
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
    if row is None:
        raise NotFound("order", order_id)
    order, item_name, follow_up = row
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
    return schemas.OrderOut(
        **summary(order).model_dump(),
        item_name=item_name,
        reason=order.reason,
        address=order.address,
        resident_name=order.resident_name,
        resident_phone_masked=mask_for_screen(order.resident_phone),
        completed_at=order.completed_at,
        closed_at=order.closed_at,
        hours=order.hours,
        review_rating=order.review_rating,  # type: ignore[arg-type]
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


def summary(order: Order) -> schemas.OrderSummary:
    return schemas.OrderSummary(
        id=order.id,
        status=OrderStatus(order.status),
        item_code=order.item_code,
        category_code=order.category_code,
        township=order.township,
        volunteer_id=order.volunteer_id,
        submitted_at=order.submitted_at,
        deadline_at=order.deadline_at,
        overdue=order.overdue,
        escalation_level=order.escalation_level,
        rating=order.rating,  # type: ignore[arg-type]
        unit_id=order.unit_id,
        village_id=order.village_id,
        dispatch_policy=DispatchPolicy(order.dispatch_policy),
        dispatch_attempts=order.dispatch_attempts,
        undispatchable=order.undispatchable,
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
        items=[summary(o) for o in rows], total=total, limit=limit, offset=offset
    )


# --- volunteers' offers ---------------------------------------------------------------


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
    return [summary(o) for o in rows]


# --- follow-ups and escalations --------------------------------------------------------


_PHONE_VISIBLE = frozenset({FollowUpStatus.CALLING, FollowUpStatus.OPEN})
# Orders that were completed and not cancelled: what the follow-up promise covers.
_COMPLETED_STATUSES = (OrderStatus.COMPLETED, OrderStatus.REVIEWED, OrderStatus.CLOSED)


def list_follow_ups(
    session: Session,
    *,
    status: FollowUpStatus | None,
    limit: int,
    offset: int,
    township: str | None = None,
    agent_id: int | None = None,
    now: datetime | None = None,
) -> schemas.Page[schemas.FollowUpTask]:
    """Follow-up tasks; ``status=open`` is the staff queue, most urgent first.

    Open tasks come by priority (dissatisfied residents first), then longest waiting; done
    tasks newest first; anything else oldest first.
    """
    now = now or utcnow()
    query = select(FollowUp, Order).join(Order, Order.id == FollowUp.order_id)
    if status is not None:
        query = query.where(FollowUp.status == status.value)
    if township is not None:
        query = query.where(Order.township == township)
    total = total_rows(session, query)
    rows = session.execute(query.order_by(*_list_order(status)).limit(limit).offset(offset)).all()
    return schemas.Page[schemas.FollowUpTask](
        items=[_task(f, o, now=now, agent_id=agent_id) for f, o in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def _list_order(status: FollowUpStatus | None) -> tuple[Any, ...]:
    if status == FollowUpStatus.OPEN:
        # Matches ix_follow_ups_queue (status, priority, queued_at).
        return (
            FollowUp.priority,
            FollowUp.queued_at.asc().nulls_last(),
            FollowUp.created_at,
            FollowUp.id,
        )
    if status == FollowUpStatus.DONE:
        return (FollowUp.done_at.desc(), FollowUp.id.desc())
    return (FollowUp.created_at, FollowUp.id)


def _live_claim(f: FollowUp, now: datetime) -> bool:
    """Whether an agent holds this task now: only open tasks are claimed, leases lapse."""
    return (
        f.status == FollowUpStatus.OPEN
        and f.claimed_by is not None
        and f.claim_expires_at is not None
        and f.claim_expires_at > now
    )


def _task_fields(f: FollowUp, o: Order, *, now: datetime, agent_id: int | None) -> dict[str, Any]:
    live = _live_claim(f, now)
    mine = live and agent_id is not None and f.claimed_by == agent_id
    return {
        "id": f.id,
        "order_id": o.id,
        "status": FollowUpStatus(f.status),
        "created_at": f.created_at,
        "done_at": f.done_at,
        "item_code": o.item_code,
        "township": o.township,
        "completed_at": o.completed_at,
        "review_rating": o.review_rating,
        "resident_name": o.resident_name,
        # Staff need the number while the task is theirs to settle, not after.
        "resident_phone": o.resident_phone
        if f.status in _PHONE_VISIBLE
        else mask_for_screen(o.resident_phone),
        "method": f.method,
        "outcome": f.outcome,
        "rating": f.rating,
        "queue_reason": f.queue_reason,
        "priority": f.priority,
        "queued_at": f.queued_at,
        "call_attempts": f.call_attempts,
        "call_rating": f.call_rating,
        "settled_by": f.settled_by,
        "agent_id": f.agent_id,
        "claimed_by": f.claimed_by if live else None,
        "claim_expires_at": f.claim_expires_at if live else None,
        "claimable": f.status == FollowUpStatus.OPEN and (not live or mine),
        "mine": mine,
    }


def _task(
    f: FollowUp, o: Order, *, now: datetime | None = None, agent_id: int | None = None
) -> schemas.FollowUpTask:
    return schemas.FollowUpTask.model_validate(
        _task_fields(f, o, now=now or utcnow(), agent_id=agent_id)
    )


def follow_up_task(
    session: Session,
    follow_up_id: int,
    *,
    agent_id: int | None = None,
    now: datetime | None = None,
) -> schemas.FollowUpTask:
    row = session.execute(
        select(FollowUp, Order)
        .join(Order, Order.id == FollowUp.order_id)
        .where(FollowUp.id == follow_up_id)
    ).first()
    if row is None:
        raise NotFound("follow-up", follow_up_id)
    return _task(*row, now=now, agent_id=agent_id)


def follow_up_detail(
    session: Session,
    follow_up_id: int,
    *,
    agent_id: int | None = None,
    now: datetime | None = None,
) -> schemas.FollowUpDetail:
    """One task with its order, the result's note, any complaint and the automated calls."""
    row = session.execute(
        select(FollowUp, Order, CatalogItem.name, OrderNote.body, Complaint.id)
        .join(Order, Order.id == FollowUp.order_id)
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .outerjoin(OrderNote, OrderNote.id == FollowUp.note_id)
        .outerjoin(Complaint, Complaint.follow_up_id == FollowUp.id)
        .where(FollowUp.id == follow_up_id)
    ).first()
    if row is None:
        raise NotFound("follow-up", follow_up_id)
    f, o, item_name, notes, complaint_id = row
    calls = session.scalars(
        select(FollowUpCall)
        .where(FollowUpCall.follow_up_id == follow_up_id)
        .order_by(FollowUpCall.attempt)
    ).all()
    return schemas.FollowUpDetail.model_validate(
        {
            **_task_fields(f, o, now=now or utcnow(), agent_id=agent_id),
            "item_name": item_name,
            "category_code": o.category_code,
            "address": o.address,
            "volunteer_id": o.volunteer_id,
            "notes": notes,
            "complaint_id": complaint_id,
            "calls": [
                schemas.FollowUpCallOut.model_validate(c, from_attributes=True) for c in calls
            ],
        }
    )


def _claim_update(
    session: Session, follow_up_id: int, agent_id: int, *, lease: timedelta, now: datetime
) -> bool:
    """Take or extend the claim in one conditional UPDATE; whether it applied.

    The condition is checked by the database against the row as it is when the update
    runs (PostgreSQL re-checks it after waiting for a concurrent update of the same row),
    so of agents claiming at once exactly one wins.
    """
    claimed = session.scalar(
        update(FollowUp)
        .where(
            FollowUp.id == follow_up_id,
            FollowUp.status == FollowUpStatus.OPEN.value,
            or_(
                FollowUp.claimed_by.is_(None),
                FollowUp.claim_expires_at.is_(None),
                FollowUp.claim_expires_at <= now,
                FollowUp.claimed_by == agent_id,
            ),
        )
        .values(claimed_by=agent_id, claim_expires_at=now + lease)
        .returning(FollowUp.id)
        .execution_options(synchronize_session=False)
    )
    return claimed is not None


def _claimed_by_other(follow_up_id: int, holder: int | None, until: datetime | None) -> Conflict:
    when = until.isoformat() if until is not None else "further notice"
    return Conflict(
        CLAIMED_BY_OTHER,
        f"follow-up {follow_up_id} is claimed by agent {holder} until {when}",
    )


def _not_open(follow_up_id: int, status: str) -> Conflict:
    return Conflict(
        FOLLOW_UP_NOT_OPEN,
        f"follow-up {follow_up_id} is {status}, not open in the call-center queue",
    )


def claim_follow_up(
    session: Session,
    follow_up_id: int,
    agent_id: int,
    *,
    lease: timedelta,
    now: datetime | None = None,
) -> schemas.FollowUpTask:
    """Claim an open task for ``lease`` (a holder's re-claim extends it).

    409 ``ClaimedByOther`` while another agent's lease runs, 409 ``FollowUpNotOpen`` for
    a task still calling or done, 404 for an unknown one.
    """
    now = now or utcnow()
    if not _claim_update(session, follow_up_id, agent_id, lease=lease, now=now):
        f = session.get(FollowUp, follow_up_id)
        if f is None:
            raise NotFound("follow-up", follow_up_id)
        if f.status != FollowUpStatus.OPEN:
            raise _not_open(follow_up_id, f.status)
        raise _claimed_by_other(follow_up_id, f.claimed_by, f.claim_expires_at)
    return follow_up_task(session, follow_up_id, agent_id=agent_id, now=now)


def release_follow_up(
    session: Session, follow_up_id: int, agent_id: int, *, now: datetime | None = None
) -> schemas.FollowUpTask:
    """Give a claimed task back to the queue; only the agent holding it may (else 409).

    A holder whose lease lapsed may still release it, as long as nobody claimed it since.
    """
    released = session.scalar(
        update(FollowUp)
        .where(FollowUp.id == follow_up_id, FollowUp.claimed_by == agent_id)
        .values(claimed_by=None, claim_expires_at=None)
        .returning(FollowUp.id)
        .execution_options(synchronize_session=False)
    )
    if released is None:
        f = session.get(FollowUp, follow_up_id)
        if f is None:
            raise NotFound("follow-up", follow_up_id)
        holder = (
            f"agent {f.claimed_by} holds it"
            if _live_claim(f, now or utcnow())
            else "nobody holds it"
        )
        raise Conflict(
            NOT_CLAIM_HOLDER,
            f"agent {agent_id} does not hold follow-up {follow_up_id}; {holder}",
        )
    return follow_up_task(session, follow_up_id, agent_id=agent_id, now=now)


def hold_for_result(
    session: Session,
    follow_up_id: int,
    *,
    agent_id: int | None,
    lease: timedelta,
    now: datetime | None = None,
) -> int:
    """Checks before a follow-up result goes to the workflow; returns the order id.

    No other agent may hold a live claim (409 ``ClaimedByOther``); a done task is refused
    (409 ``FollowUpNotOpen``). An agent who names themselves takes or extends the claim
    on an open task with the same conditional update a claim makes, so nobody can claim it
    between this check and the workflow recording the result. Without an ``agent_id`` the
    task must be unclaimed. A task still in its automated calls is the workflow's to judge.
    """
    now = now or utcnow()
    f = session.get(FollowUp, follow_up_id)
    if f is None:
        raise NotFound("follow-up", follow_up_id)
    if f.status == FollowUpStatus.DONE:
        raise _not_open(follow_up_id, f.status)
    if f.status != FollowUpStatus.OPEN:
        return f.order_id
    if agent_id is not None:
        if not _claim_update(session, follow_up_id, agent_id, lease=lease, now=now):
            session.refresh(f)
            if f.status != FollowUpStatus.OPEN:
                raise _not_open(follow_up_id, f.status)
            raise _claimed_by_other(follow_up_id, f.claimed_by, f.claim_expires_at)
    elif _live_claim(f, now):
        raise _claimed_by_other(follow_up_id, f.claimed_by, f.claim_expires_at)
    return f.order_id


# --- complaints ------------------------------------------------------------------------


def list_complaints(
    session: Session,
    *,
    status: ComplaintStatus | None,
    township: str | None,
    limit: int,
    offset: int,
) -> schemas.Page[schemas.ComplaintOut]:
    """Complaints follow-ups recorded; open ones oldest first (the admins' to-do list),
    otherwise newest first."""
    query = _complaint_query()
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
        items=[_complaint(*row) for row in rows], total=total, limit=limit, offset=offset
    )


_ComplaintNote = aliased(OrderNote)
_ResolutionNote = aliased(OrderNote)


def _complaint_query() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Complaint,
            Order.item_code,
            CatalogItem.name,
            Order.township,
            Order.volunteer_id,
            _ComplaintNote.body,
            _ResolutionNote.body,
        )
        .join(Order, Order.id == Complaint.order_id)
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .outerjoin(_ComplaintNote, _ComplaintNote.id == Complaint.note_id)
        .outerjoin(_ResolutionNote, _ResolutionNote.id == Complaint.resolution_note_id)
    )


def _complaint(
    c: Complaint,
    item_code: str,
    item_name: str,
    township: str,
    volunteer_id: int | None,
    note: str | None,
    resolution: str | None,
) -> schemas.ComplaintOut:
    return schemas.ComplaintOut(
        id=c.id,
        order_id=c.order_id,
        follow_up_id=c.follow_up_id,
        status=ComplaintStatus(c.status),
        created_at=c.created_at,
        item_code=item_code,
        item_name=item_name,
        township=township,
        volunteer_id=volunteer_id,
        note=note,
        resolved_at=c.resolved_at,
        resolved_by=c.resolved_by,
        resolution=resolution,
    )


def complaint(session: Session, complaint_id: int) -> schemas.ComplaintOut:
    row = session.execute(_complaint_query().where(Complaint.id == complaint_id)).first()
    if row is None:
        raise NotFound("complaint", complaint_id)
    return _complaint(*row)


def resolve_complaint(
    session: Session, complaint_id: int, body: schemas.ResolveBody, *, now: datetime | None = None
) -> schemas.ComplaintOut:
    """Mark a complaint resolved with the admin's note; 409 if it already is.

    The note is stored first and the complaint moves in one conditional update: of two
    admins resolving at once one wins, and the other's note is rolled back with its error.
    """
    order_id = session.scalar(select(Complaint.order_id).where(Complaint.id == complaint_id))
    if order_id is None:
        raise NotFound("complaint", complaint_id)
    note_id = add_note(session, order_id, "complaint_resolution", body.notes)
    session.flush()
    resolved = session.scalar(
        update(Complaint)
        .where(Complaint.id == complaint_id, Complaint.status == ComplaintStatus.OPEN.value)
        .values(
            status=ComplaintStatus.RESOLVED.value,
            resolved_at=now or utcnow(),
            resolved_by=body.admin_id,
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
    return complaint(session, complaint_id)


# --- the follow-up report --------------------------------------------------------------


def follow_up_report(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    township: str | None = None,
) -> schemas.FollowUpReport:
    """The follow-up figures over orders completed in ``[since, until)`` (either open-ended).

    Counts come from one grouped aggregate (a handful of rows whatever the volume); the
    hours from completion to follow-up are aggregated by PostgreSQL (``percentile_cont``)
    and, on SQLite, computed the same way (linear interpolation) from the rows.
    """
    if since is not None and until is not None and since >= until:
        raise Invalid(INVALID_PERIOD, "since must be before until")
    if township is not None:
        require_township(session, township)
    completed: list[ColumnElement[bool]] = [
        Order.status.in_([s.value for s in _COMPLETED_STATUSES]),
        Order.completed_at.is_not(None),
    ]
    if since is not None:
        completed.append(Order.completed_at >= since)
    if until is not None:
        completed.append(Order.completed_at < until)
    if township is not None:
        completed.append(Order.township == township)

    keys = (
        FollowUp.status,
        FollowUp.outcome,
        FollowUp.method,
        FollowUp.settled_by,
        FollowUp.queue_reason,
        FollowUp.call_attempts,
    )
    groups = session.execute(
        select(*keys, func.count())
        .select_from(Order)
        .outerjoin(FollowUp, FollowUp.order_id == Order.id)
        .where(*completed)
        .group_by(*keys)
    ).all()

    orders_completed = done = unreachable = 0
    pending: Counter[str] = Counter({"calling": 0, "open": 0, "not_opened": 0})
    settled: Counter[str] = Counter()
    attempts: Counter[int] = Counter()
    methods: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for status, outcome, method, settled_by, reason, calls, n in groups:
        orders_completed += n
        if reason is not None:
            reasons[reason] += n
        if status != FollowUpStatus.DONE:
            pending[status or "not_opened"] += n
            continue
        done += n
        if outcome == FollowUpOutcome.UNREACHABLE:
            unreachable += n
        if outcome is not None:
            outcomes[outcome] += n
        if method is not None:
            methods[method] += n
        if settled_by is not None:
            settled[settled_by] += n
        attempts[calls or 0] += n

    reached = done - unreachable
    return schemas.FollowUpReport(
        since=since,
        until=until,
        township=township,
        completed_orders=orders_completed,
        follow_ups_done=done,
        reached=reached,
        unreachable=unreachable,
        pending=orders_completed - done,
        pending_by_status=dict(pending),
        follow_up_rate=reached / orders_completed if orders_completed else None,
        automated_share=settled[SettledBy.AUTOMATED_CALL] / done if done else None,
        settled_by=dict(sorted(settled.items())),
        attempts_mean=sum(k * n for k, n in attempts.items()) / done if done else None,
        attempts_distribution=dict(sorted(attempts.items())),
        hours_to_follow_up=_hours_to_follow_up(session, completed),
        by_method=dict(sorted(methods.items())),
        by_outcome=dict(sorted(outcomes.items())),
        by_queue_reason=dict(sorted(reasons.items())),
    )


def _hours_to_follow_up(
    session: Session, completed: list[ColumnElement[bool]]
) -> schemas.HoursStats:
    done = select().select_from(Order).join(FollowUp, FollowUp.order_id == Order.id)
    done = done.where(
        *completed, FollowUp.status == FollowUpStatus.DONE.value, FollowUp.done_at.is_not(None)
    )
    if session.get_bind().dialect.name == "postgresql":
        hours = cast(func.extract("epoch", FollowUp.done_at - Order.completed_at), Float) / 3600
        n, mean, p50, p90 = session.execute(
            done.add_columns(
                func.count(),
                func.avg(hours),
                func.percentile_cont(0.5).within_group(hours),
                func.percentile_cont(0.9).within_group(hours),
            )
        ).one()
        return schemas.HoursStats(count=n, mean=mean, p50=p50, p90=p90)
    # SQLite has no percentile aggregate (and only text timestamps): compute from the rows.
    values = sorted(
        (done_at - completed_at).total_seconds() / 3600
        for completed_at, done_at in session.execute(
            done.add_columns(Order.completed_at, FollowUp.done_at)
        )
    )
    if not values:
        return schemas.HoursStats(count=0, mean=None, p50=None, p90=None)
    return schemas.HoursStats(
        count=len(values),
        mean=sum(values) / len(values),
        p50=percentile(values, 0.5),
        p90=percentile(values, 0.9),
    )


def percentile(ordered: list[float], fraction: float) -> float:
    """PostgreSQL's ``percentile_cont``: linear interpolation between the closest ranks."""
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def list_escalations(
    session: Session, *, order_id: int | None, open_only: bool, limit: int, offset: int
) -> schemas.Page[schemas.EscalationOut]:
    query = select(Escalation, Order).join(Order, Order.id == Escalation.order_id)
    if order_id is not None:
        query = query.where(Escalation.order_id == order_id)
    if open_only:
        query = query.where(Order.status.in_([s.value for s in OPEN_STATUSES]))
    total = total_rows(session, query)
    rows = session.execute(
        query.order_by(Escalation.at.desc(), Escalation.id.desc()).limit(limit).offset(offset)
    ).all()
    return schemas.Page[schemas.EscalationOut](
        items=[
            schemas.EscalationOut(
                order_id=e.order_id,
                level=e.level,
                at=e.at,
                order_status=OrderStatus(o.status),
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


def order_messages(session: Session, order_id: int) -> list[schemas.SmsOut]:
    """The SMS sent about an order, oldest first (404 for an unknown order)."""
    if session.get(Order, order_id) is None:
        raise NotFound("order", order_id)
    rows = session.scalars(
        select(SmsMessage).where(SmsMessage.order_id == order_id).order_by(SmsMessage.id)
    )
    return [
        schemas.SmsOut.model_validate(row, from_attributes=True).model_copy(
            update={"to_number": mask_for_screen(row.to_number)}
        )
        for row in rows
    ]
