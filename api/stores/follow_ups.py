"""The follow-up (回访) tasks: the call-center queue, claims and their leases, results held."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api import schemas
from api.stores import audit, complaints, leases
from api.stores.access import in_scope
from api.stores.errors import (
    CLAIMED_BY_OTHER,
    FOLLOW_UP_NOT_OPEN,
    NOT_CLAIM_HOLDER,
    Conflict,
    found,
)
from api.stores.order_view import display_name
from api.stores.rows import total_rows
from core.db import utcnow
from core.models import (
    CatalogItem,
    Complaint,
    FollowUp,
    FollowUpCall,
    Order,
    OrderNote,
    Volunteer,
)
from core.phones import mask_for_screen
from core.security import Principal
from core.vocab import FollowUpStatus


def list_follow_ups(
    session: Session,
    *,
    viewer: Principal,
    status: FollowUpStatus | None,
    limit: int,
    offset: int,
    township: str | None = None,
    mine: bool = False,
    now: datetime | None = None,
) -> schemas.Page[schemas.FollowUpTask]:
    """Follow-up tasks in the viewer's townships; ``status=open`` is the staff queue.

    Open tasks come by priority (dissatisfied residents first), then longest waiting; done
    tasks newest first; anything else oldest first. Numbers are masked in lists. ``mine``:
    only those the viewer settled (an agent's own handled tasks).
    """
    now = now or utcnow()
    agent_id = viewer.staff_id
    query = (
        select(FollowUp, Order).join(Order, Order.id == FollowUp.order_id).where(in_scope(viewer))
    )
    if status is not None:
        query = query.where(FollowUp.status == status.value)
    if township is not None:
        query = query.where(Order.township == township)
    if mine:
        query = query.where(FollowUp.agent_id == agent_id)
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
        "order_id": o.public_id,
        "order_number": o.number,
        "status": FollowUpStatus(f.status),
        "created_at": f.created_at,
        "done_at": f.done_at,
        "item_code": o.item_code,
        "township": o.township,
        "completed_at": o.completed_at,
        "review_rating": o.review_rating,
        # Who to call is for the agent holding the task: its detail fills these in.
        "resident_name": None,
        "resident_phone": mask_for_screen(o.resident_phone),
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


def _agents_task(
    session: Session, follow_up_id: int, agent_id: int, now: datetime | None
) -> schemas.FollowUpTask:
    """The task as the agent who just claimed or released it sees it."""
    row = session.execute(
        select(FollowUp, Order)
        .join(Order, Order.id == FollowUp.order_id)
        .where(FollowUp.id == follow_up_id)
    ).first()
    return _task(*found(row, "follow-up", follow_up_id), now=now, agent_id=agent_id)


def in_reach(session: Session, follow_up_id: int, viewer: Principal) -> None:
    """``NotFound`` unless the task exists in the viewer's townships."""
    task = session.scalar(
        select(FollowUp.id)
        .join(Order, Order.id == FollowUp.order_id)
        .where(FollowUp.id == follow_up_id, in_scope(viewer))
    )
    found(task, "follow-up", follow_up_id)


def follow_up_detail(
    session: Session,
    follow_up_id: int,
    *,
    viewer: Principal,
    ip: str | None,
    now: datetime | None = None,
) -> schemas.FollowUpDetail:
    """One task with its order, the result's note, any complaint and the automated calls.

    The resident's full number and address go only to the agent holding a live claim on the
    task (the one about to call), and each such read is audited.
    """
    now = now or utcnow()
    row = session.execute(
        select(
            FollowUp,
            Order,
            CatalogItem.name,
            OrderNote.body,
            Complaint.id,
            Volunteer.name,
            Volunteer.display_name,
        )
        .join(Order, Order.id == FollowUp.order_id)
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .outerjoin(Volunteer, Volunteer.id == Order.volunteer_id)
        .outerjoin(OrderNote, OrderNote.id == FollowUp.note_id)
        .outerjoin(Complaint, Complaint.follow_up_id == FollowUp.id)
        .where(FollowUp.id == follow_up_id, in_scope(viewer))
    ).first()
    f, o, item_name, notes, complaint_id, volunteer, chosen = found(row, "follow-up", follow_up_id)
    calls = session.scalars(
        select(FollowUpCall)
        .where(FollowUpCall.follow_up_id == follow_up_id)
        .order_by(FollowUpCall.attempt)
    ).all()
    fields = _task_fields(f, o, now=now, agent_id=viewer.staff_id)
    holder = fields["mine"]
    if holder:
        fields["resident_name"] = o.resident_name
        fields["resident_phone"] = o.resident_phone
        audit.record(
            session, viewer, "contact.read", f"order:{o.public_id}", ip=ip, via="follow-up"
        )
    return schemas.FollowUpDetail.model_validate(
        {
            **fields,
            "item_name": item_name,
            "category_code": o.category_code,
            "address": o.address if holder else None,
            "volunteer_id": o.volunteer_id,
            "volunteer_name": display_name(volunteer, chosen) if volunteer else None,
            "notes": notes,
            "complaint_id": complaint_id,
            "open_complaint": complaints.open_on(session, o.id, with_text=holder),
            "calls": [
                schemas.FollowUpCallOut.model_validate(c, from_attributes=True) for c in calls
            ],
        }
    )


def _claim_update(
    session: Session, follow_up_id: int, agent_id: int, *, lease: timedelta, now: datetime
) -> bool:
    """Take or extend the claim (see ``leases.take``); whether it applied."""
    open_status = FollowUpStatus.OPEN.value
    return leases.take(
        session, FollowUp, follow_up_id, agent_id, open_status=open_status, lease=lease, now=now
    )


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
    viewer: Principal,
    now: datetime | None = None,
) -> schemas.FollowUpTask:
    """Claim an open task for ``lease`` (a holder's re-claim extends it).

    ``ClaimedByOther`` while another agent's lease runs, ``FollowUpNotOpen`` for a task
    still calling or done, ``NotFound`` for an unknown one.
    """
    now = now or utcnow()
    in_reach(session, follow_up_id, viewer)
    if not _claim_update(session, follow_up_id, agent_id, lease=lease, now=now):
        f = found(session.get(FollowUp, follow_up_id), "follow-up", follow_up_id)
        if f.status != FollowUpStatus.OPEN:
            raise _not_open(follow_up_id, f.status)
        raise _claimed_by_other(follow_up_id, f.claimed_by, f.claim_expires_at)
    return _agents_task(session, follow_up_id, agent_id, now)


def release_follow_up(
    session: Session,
    follow_up_id: int,
    agent_id: int,
    *,
    viewer: Principal,
    now: datetime | None = None,
) -> schemas.FollowUpTask:
    """Give a claimed task back to the queue; only the agent holding it may (``NotClaimHolder``).

    A holder whose lease lapsed may still release it, as long as nobody claimed it since.
    """
    in_reach(session, follow_up_id, viewer)
    released = session.scalar(
        update(FollowUp)
        .where(FollowUp.id == follow_up_id, FollowUp.claimed_by == agent_id)
        .values(claimed_by=None, claim_expires_at=None)
        .returning(FollowUp.id)
        .execution_options(synchronize_session=False)
    )
    if released is None:
        f = found(session.get(FollowUp, follow_up_id), "follow-up", follow_up_id)
        holder = (
            f"agent {f.claimed_by} holds it"
            if _live_claim(f, now or utcnow())
            else "nobody holds it"
        )
        raise Conflict(
            NOT_CLAIM_HOLDER,
            f"agent {agent_id} does not hold follow-up {follow_up_id}; {holder}",
        )
    return _agents_task(session, follow_up_id, agent_id, now)


def hold_for_result(
    session: Session,
    follow_up_id: int,
    *,
    agent_id: int,
    lease: timedelta,
    viewer: Principal,
    now: datetime | None = None,
) -> str:
    """Checks before a follow-up result goes to the workflow; returns the order's public id.

    No other agent may hold a live claim (``ClaimedByOther``); a done task is refused
    (``FollowUpNotOpen``). The agent takes or extends the claim on an open task with the
    same conditional update a claim makes, so nobody can claim it between this check and
    the workflow recording the result. A task still in its automated calls is the
    workflow's to judge.
    """
    now = now or utcnow()
    in_reach(session, follow_up_id, viewer)
    f = found(session.get(FollowUp, follow_up_id), "follow-up", follow_up_id)
    public_id = session.scalar(select(Order.public_id).where(Order.id == f.order_id))
    assert public_id is not None
    if f.status == FollowUpStatus.DONE:
        raise _not_open(follow_up_id, f.status)
    if f.status == FollowUpStatus.OPEN and not _claim_update(
        session, follow_up_id, agent_id, lease=lease, now=now
    ):
        session.refresh(f)
        if f.status != FollowUpStatus.OPEN:
            raise _not_open(follow_up_id, f.status)
        raise _claimed_by_other(follow_up_id, f.claimed_by, f.claim_expires_at)
    return public_id
