"""SMS replies in the database: who sent one, what they have open to answer, each message
applied once, and who asked for no more notices."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from api.stores.accounts import resident_by_phone, resident_principal
from core.db import insert_ignore
from core.models import CatalogItem, InboundSms, Order, OrderOffer, Resident, SmsOptOut, Volunteer
from core.security import Principal
from core.sms_replies import offer_code
from core.vocab import OrderStatus


@dataclass(frozen=True)
class Sender:
    """Who texted: ``principal`` as if they had signed in, or ``None`` for a stranger."""

    key: str  # InboundSms.sender
    principal: Principal | None


@dataclass(frozen=True)
class Target:
    """An order a reply may be about, as the answer names it."""

    order_id: int
    public_id: str
    number: str
    service: str

    @property
    def code(self) -> str:
        return offer_code(self.order_id)


@dataclass(frozen=True)
class Received:
    """A message seen before (``answer`` None while its first delivery is still at work)."""

    outcome: str | None
    answer: str | None


def stranger_key(phone: str) -> str:
    """A stranger's number by digest only: enough to answer them once a day."""
    return f"unknown:{hashlib.sha256(phone.encode()).hexdigest()[:20]}"


def sender_of(session: Session, phone: str) -> Sender:
    """The resident or volunteer behind a number. A volunteer who never signed in gets the
    resident row signing in would give them; a number we do not know gets nothing made."""
    volunteer = session.scalar(
        select(Volunteer.id).where(Volunteer.phone == phone, Volunteer.active.is_(True))
    )
    resident = session.scalar(select(Resident).where(Resident.phone == phone))
    if resident is None and volunteer is None:
        return Sender(stranger_key(phone), None)
    if resident is None:
        resident = resident_by_phone(session, phone)
    principal = resident_principal(session, resident)
    if principal.volunteer_id is not None:
        return Sender(f"volunteer:{principal.volunteer_id}", principal)
    return Sender(f"resident:{resident.id}", principal)


def receive(session: Session, sid: str, sender: str, now: datetime) -> Received | None:
    """Record a message's first delivery; a later one gets what the first recorded."""
    inserted = session.execute(
        insert_ignore(session, InboundSms.__table__, ("message_sid",))
        .values(message_sid=sid, sender=sender, received_at=now)
        .returning(InboundSms.__table__.c.id)
    ).first()
    if inserted is not None:
        return None
    row = session.execute(
        select(InboundSms.outcome, InboundSms.answer).where(InboundSms.message_sid == sid)
    ).one()
    return Received(row.outcome, row.answer)


def answered(session: Session, sid: str, outcome: str, answer: str | None, now: datetime) -> None:
    session.execute(
        update(InboundSms)
        .where(InboundSms.message_sid == sid)
        .values(outcome=outcome, answer=answer, answered_at=now)
    )


def answered_lately(session: Session, sender: str, sid: str, now: datetime) -> bool:
    """Whether another message from ``sender`` got an answer in the past day."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(InboundSms)
            .where(
                InboundSms.sender == sender,
                InboundSms.message_sid != sid,
                InboundSms.answer.is_not(None),
                InboundSms.received_at > now - timedelta(days=1),
            )
        )
    )


def _targets(session: Session, which: ColumnElement[bool]) -> list[Target]:
    rows = session.execute(
        select(Order.id, Order.public_id, Order.number, CatalogItem.name)
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .where(which)
        .order_by(Order.id)
        .limit(20)
    ).all()
    return [Target(r.id, r.public_id, r.number, r.name) for r in rows]


def offers(session: Session, volunteer_id: int) -> list[Target]:
    """Orders waiting for this volunteer's answer: dispatched to them, or offered in an
    open call (a leader's team orders are handed on in the app, not by SMS)."""
    offered = select(OrderOffer.order_id).where(OrderOffer.volunteer_id == volunteer_id)
    return _targets(
        session,
        and_(
            Order.status == OrderStatus.DISPATCHED.value,
            or_(Order.volunteer_id == volunteer_id, Order.id.in_(offered)),
        ),
    )


def held(session: Session, volunteer_id: int) -> list[Target]:
    """Orders this volunteer accepted and has not yet reported done."""
    return _targets(
        session,
        and_(Order.status == OrderStatus.ACCEPTED.value, Order.volunteer_id == volunteer_id),
    )


def to_review(session: Session, resident_id: int) -> list[Target]:
    """This resident's orders completed and waiting for their rating."""
    return _targets(
        session,
        and_(Order.status == OrderStatus.COMPLETED.value, Order.resident_id == resident_id),
    )


def opt_out(session: Session, phone: str, now: datetime) -> None:
    session.execute(
        insert_ignore(session, SmsOptOut.__table__, ("phone",)).values(
            phone=phone, opted_out_at=now
        )
    )


def opt_in(session: Session, phone: str) -> None:
    session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone))
