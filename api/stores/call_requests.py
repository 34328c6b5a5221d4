"""Callers the keypad menu hands to an agent: what the IVR knows of a caller, the call-back
and intake tasks it leaves, and the agents' queue of them (claimed as leases, as follow-ups
are)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import schemas
from api.stores import audit, leases
from api.stores.errors import Conflict, Invalid, NotFound, found
from api.stores.order_view import display_name
from core.db import insert_ignore, utcnow
from core.models import CallRequest, CatalogItem, Order, Resident, Volunteer
from core.phones import mask_for_screen
from core.security import Principal
from core.vocab import OPEN_STATUSES, CallRequestKind, CallRequestStatus, OrderStatus

CALLBACK, INTAKE = CallRequestKind.CALLBACK.value, CallRequestKind.INTAKE.value
OPEN, DONE = CallRequestStatus.OPEN.value, CallRequestStatus.DONE.value
CALL_REQUEST_CLAIMED = "CallRequestClaimed"
CALL_REQUEST_DONE = "CallRequestDone"
NOT_THE_CALLERS = "NotTheCallersOrder"
ORDER_REQUIRED = "OrderRequired"

# What a caller may still hear about: orders not yet closed, waiting on someone.
_FOLLOWED = (*OPEN_STATUSES, OrderStatus.COMPLETED, OrderStatus.REVIEWED)


@dataclass(frozen=True)
class Heard:
    """An order of the caller's, as the menu reads it out."""

    number: str
    service: str
    status: OrderStatus
    volunteer: str | None
    deadline: datetime


@dataclass(frozen=True)
class LastPlace:
    """Where the caller's last order was for: what "使用上次的地址" orders to again."""

    resident_name: str
    address: str
    township: str
    village_id: int | None


@dataclass(frozen=True)
class Caller:
    resident_id: int | None
    orders: list[Heard]
    last: LastPlace | None


def caller(session: Session, phone: str) -> Caller:
    """What the center knows of the number calling (nothing is made for a new one)."""
    resident = session.scalar(select(Resident).where(Resident.phone == phone))
    if resident is None or resident.erased_at is not None:
        return Caller(None, [], None)
    rows = session.execute(
        select(
            Order.number,
            CatalogItem.name,
            Order.status,
            Order.deadline_at,
            Volunteer.name.label("volunteer"),
            Volunteer.display_name,
        )
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .outerjoin(Volunteer, Volunteer.id == Order.volunteer_id)
        .where(Order.resident_id == resident.id, Order.status.in_(_FOLLOWED))
        .order_by(Order.submitted_at)
        .limit(5)
    ).all()
    heard = [
        Heard(
            r.number,
            r.name,
            OrderStatus(r.status),
            display_name(r.volunteer, r.display_name) if r.volunteer else None,
            r.deadline_at,
        )
        for r in rows
    ]
    last = session.execute(
        select(Order.resident_name, Order.address, Order.township, Order.village_id)
        .where(Order.resident_id == resident.id, Order.erased_at.is_(None))
        .order_by(Order.submitted_at.desc())
        .limit(1)
    ).first()
    place = LastPlace(last[0], last[1], last[2], last[3]) if last else None
    return Caller(resident.id, heard, place)


def ask_for_agent(
    session: Session,
    *,
    kind: str,
    call_sid: str,
    phone: str,
    resident_id: int | None,
    item_code: str | None = None,
    recording_sid: str | None = None,
    recording_seconds: int | None = None,
) -> None:
    """Leave a task for the agents, once per call and kind however often Twilio retries."""
    session.execute(
        insert_ignore(session, CallRequest.__table__, ("call_sid", "kind")).values(
            kind=kind,
            call_sid=call_sid,
            phone=phone,
            resident_id=resident_id,
            item_code=item_code,
            recording_sid=recording_sid,
            recording_seconds=recording_seconds,
            status=OPEN,
            created_at=utcnow(),
        )
    )


def _out(session: Session, r: CallRequest, agent_id: int, now: datetime) -> schemas.CallRequestOut:
    held = r.claimed_by == agent_id and r.claim_expires_at is not None and r.claim_expires_at > now
    service = session.get(CatalogItem, r.item_code) if r.item_code else None
    return schemas.CallRequestOut(
        id=r.id,
        kind=CallRequestKind(r.kind),
        status=CallRequestStatus(r.status),
        created_at=r.created_at,
        service=service.name if service is not None else None,
        item_code=r.item_code,
        known_caller=r.resident_id is not None,
        # The number in full only to the agent holding the task, who calls it back.
        phone=r.phone if held else mask_for_screen(r.phone),
        has_recording=r.recording_sid is not None and r.status != DONE,
        recording_seconds=r.recording_seconds,
        claimed_by_me=held,
        claim_expires_at=r.claim_expires_at if held else None,
        outcome=r.outcome,
    )


def queue(
    session: Session, agent_id: int, *, status: str, limit: int
) -> list[schemas.CallRequestOut]:
    rows = session.scalars(
        select(CallRequest)
        .where(CallRequest.status == status)
        .order_by(CallRequest.created_at, CallRequest.id)
        .limit(limit)
    ).all()
    now = utcnow()
    return [_out(session, r, agent_id, now) for r in rows]


def claim(
    session: Session,
    request_id: int,
    agent_id: int,
    *,
    lease: timedelta,
    viewer: Principal,
    ip: str | None,
) -> schemas.CallRequestOut:
    """Take (or extend) the task for ``lease``; of agents claiming at once exactly one wins.
    The holder sees the caller's number in full, so each claim is audited."""
    now = utcnow()
    taken = leases.take(
        session, CallRequest, request_id, agent_id, open_status=OPEN, lease=lease, now=now
    )
    r = found(session.get(CallRequest, request_id), "call request", request_id)
    if not taken:
        if r.status == DONE:
            raise Conflict(CALL_REQUEST_DONE, f"call request {request_id} is done")
        raise Conflict(CALL_REQUEST_CLAIMED, f"call request {request_id} is another agent's")
    session.refresh(r)
    audit.record(session, viewer, "contact.read", f"call_request:{request_id}", ip=ip)
    return _out(session, r, agent_id, now)


def held(session: Session, request_id: int, agent_id: int) -> CallRequest:
    """The task, if ``agent_id`` holds its live claim (else 409, as for follow-ups)."""
    r = found(session.get(CallRequest, request_id), "call request", request_id)
    now = utcnow()
    if r.status == DONE:
        raise Conflict(CALL_REQUEST_DONE, f"call request {request_id} is done")
    live = r.claim_expires_at is not None and r.claim_expires_at > now
    if r.claimed_by != agent_id or not live:
        raise Conflict(CALL_REQUEST_CLAIMED, f"claim call request {request_id} first")
    return r


def recording_for(
    session: Session, request_id: int, agent_id: int, *, viewer: Principal, ip: str | None
) -> str:
    """The recording's sid, for the agent holding the task; each play is audited."""
    r = held(session, request_id, agent_id)
    if r.recording_sid is None:
        raise NotFound("recording of call request", request_id)
    audit.record(session, viewer, "recording.play", f"call_request:{request_id}", ip=ip)
    return r.recording_sid


def release(session: Session, request_id: int, agent_id: int) -> schemas.CallRequestOut:
    r = held(session, request_id, agent_id)
    r.claimed_by, r.claim_expires_at = None, None
    session.flush()
    return _out(session, r, agent_id, utcnow())


def finish(
    session: Session,
    request_id: int,
    agent_id: int,
    *,
    outcome: str,
    order_public_id: str | None,
) -> tuple[schemas.CallRequestOut, str | None]:
    """Close the task with what came of it; returns it and the recording to delete."""
    r = held(session, request_id, agent_id)
    if order_public_id is not None:
        order = found(
            session.scalar(select(Order).where(Order.public_id == order_public_id)),
            "order",
            order_public_id,
        )
        if order.resident_phone != r.phone:
            raise Invalid(NOT_THE_CALLERS, "that order is not for the number that called")
        r.order_id = order.id
    elif outcome == "ordered":
        raise Invalid(ORDER_REQUIRED, "name the order taken for the caller")
    recording = r.recording_sid
    now = utcnow()
    r.status, r.outcome, r.done_at, r.done_by = DONE, outcome, now, agent_id
    r.claimed_by, r.claim_expires_at = None, None
    r.recording_sid = None
    session.flush()
    return _out(session, r, agent_id, now), recording


def common_needs(session: Session, codes: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(code, name)`` of the menu's commonest needs still offered, in the menu's order:
    the keys 1, 2, … follow this list, so the menu and the keys read the same one."""
    names = dict(
        session.execute(
            select(CatalogItem.code, CatalogItem.name).where(
                CatalogItem.code.in_(codes), CatalogItem.active.is_(True)
            )
        ).all()
    )
    return [(code, names[code]) for code in codes if code in names]
