"""Orders: submitting (idempotent), the checks and notes before a command, one order read.

The workflow owns every status change; this writes only what precedes a workflow (the
submitted order) and the free text people type, whose id alone enters the workflow.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from api import schemas
from api.stores import audit
from api.stores.access import OrderRef, Viewer, resolve
from api.stores.accounts import resident_by_phone
from api.stores.errors import (
    IDEMPOTENCY_MISMATCH,
    INVALID_CHANNEL,
    INVALID_PHONE,
    NOT_UNIT_DISPATCH,
    NOT_YOURS,
    PHONE_REQUIRED,
    WORKFLOW_LOST,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    found,
    unknown,
)
from api.stores.order_view import Center, Step, people_fields
from api.stores.policies import policy_for
from api.stores.references import require_township, require_village, require_volunteer
from api.stores.rows import from_row
from core.db import insert_ignore, new_public_id, utcnow
from core.models import (
    CatalogItem,
    Complaint,
    FollowUp,
    Order,
    OrderEvent,
    OrderNote,
    OrderOffer,
    Resident,
    Village,
    next_order_number,
)
from core.phones import e164, mask_for_screen
from core.security import Principal
from core.settings import DEFAULT_COUNTY_TIMEZONE
from core.vocab import (
    FINAL_STATUSES,
    INTERNAL_NOTES,
    OPEN_STATUSES,
    ActorKind,
    Channel,
    DispatchPolicy,
    EventName,
    FollowUpStatus,
    OrderStatus,
    Role,
    actor,
)
from workflows.errors import ORDER_FINISHED
from workflows.order import workflow_id


@dataclass(frozen=True)
class Submitted:
    order_id: int
    public_id: str
    item_code: str
    category_code: str
    township: str
    submitted_at: datetime
    replayed: bool
    dispatch_policy: DispatchPolicy = DispatchPolicy.MANUAL
    number: str = ""
    item_name: str = ""
    # Placed off the resident's own screen (by staff for a caller, or on the keypad line):
    # they learn its number and link by SMS at once.
    off_screen: bool = False


def request_hash(body: schemas.OrderCreate, resident_id: int) -> str:
    fields = {**body.model_dump(mode="json"), "resident_id": resident_id}
    return hashlib.sha256(
        json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


@dataclass(frozen=True)
class Requester:
    """Who a new order is for, and how it came in (from the token, never from the body)."""

    phone: str  # E.164
    channel: Channel
    by: str  # the timeline's actor: the resident, or the staff member ordering for them


def requester_for(
    session: Session, actor: Principal, body: schemas.OrderCreate, *, country_code: str
) -> Requester:
    """Whose order this is: the signed-in resident's own, or a caller staff order for.

    A resident's phone is the verified one from their sign-in, never a body's; staff give
    the caller's phone and how they came in (hotline, walk-in).
    """
    if actor.has(Role.ADMIN, Role.AGENT):
        if body.resident_phone is None:
            raise Invalid(PHONE_REQUIRED, "give the phone of the resident you order for")
        phone = e164(body.resident_phone, country_code=country_code)
        if phone is None:
            raise Invalid(INVALID_PHONE, "that is not a phone number that can be called")
        channel = body.channel or Channel.HOTLINE
        if channel not in (Channel.HOTLINE, Channel.WALK_IN):
            raise Invalid(INVALID_CHANNEL, "staff order by hotline or walk-in")
        return Requester(phone=phone, channel=channel, by=actor_label(actor))
    if not actor.has(Role.RESIDENT) or actor.resident_id is None:
        raise Forbidden("sign in with your phone to ask for help")
    if body.resident_phone is not None or body.channel not in (None, Channel.WEB):
        raise Invalid(
            NOT_YOURS, "your phone is the one you signed in with; leave resident_phone out"
        )
    resident = found(session.get(Resident, actor.resident_id), "resident", actor.resident_id)
    return Requester(phone=resident.phone, channel=Channel.WEB, by=actor_label(actor))


def actor_label(principal: Principal) -> str:
    """How the timeline names who acted (an id, never a name or a phone)."""
    if principal.has(Role.ADMIN):
        return actor(ActorKind.ADMIN, principal.staff_id)
    if principal.has(Role.AGENT):
        return actor(ActorKind.CALL_CENTER, principal.staff_id)
    return actor(ActorKind.RESIDENT)


def canceller(order: OrderRef) -> ActorKind:
    return ActorKind.RESIDENT if order.viewer is Viewer.OWNER else ActorKind.ADMIN


def create_order(
    session: Session,
    body: schemas.OrderCreate,
    requester: Requester,
    *,
    idempotency_key: str | None,
    completion_sla: timedelta,
    timezone: str = DEFAULT_COUNTY_TIMEZONE,
) -> Submitted:
    """Insert the order and its ``submitted`` event, or return the one this key made.

    A key is the resident's own: the same key from someone else is a conflict, never their
    order.
    """
    resident = resident_by_phone(session, requester.phone)
    digest = request_hash(body, resident.id)
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
    inserted = session.execute(
        insert_ignore(session, Order.__table__, ("idempotency_key",))
        .values(
            public_id=new_public_id(),
            number=next_order_number(session, now, timezone),
            resident_id=resident.id,
            channel=requester.channel.value,
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
            resident_phone=requester.phone,
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
        .returning(Order.__table__.c.id, Order.__table__.c.public_id, Order.__table__.c.number)
    ).first()
    if inserted is None:
        assert idempotency_key is not None  # only a duplicate key can make the insert a no-op
        existing = _by_idempotency_key(session, idempotency_key, digest)
        assert existing is not None
        return existing
    order_id, public_id, number = inserted
    session.add(
        OrderEvent(
            order_id=order_id,
            seq=1,
            event=EventName.SUBMITTED.value,
            actor=requester.by,
            at=now,
            data={"item_code": item.code, "channel": requester.channel.value},
        )
    )
    return Submitted(
        order_id=order_id,
        public_id=public_id,
        item_code=item.code,
        category_code=item.category_code,
        township=body.township,
        submitted_at=now,
        replayed=False,
        dispatch_policy=policy,
        number=number,
        item_name=item.name,
        off_screen=requester.channel != Channel.WEB,
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
    return _submitted(session, order, replayed=True)


def _submitted(session: Session, order: Order, *, replayed: bool) -> Submitted:
    item = session.get(CatalogItem, order.item_code)
    return Submitted(
        order_id=order.id,
        public_id=order.public_id,
        item_code=order.item_code,
        category_code=order.category_code,
        township=order.township,
        submitted_at=order.submitted_at,
        replayed=replayed,
        dispatch_policy=DispatchPolicy(order.dispatch_policy),
        number=order.number,
        item_name=item.name if item is not None else "",
        off_screen=order.channel != Channel.WEB.value,
    )


def flag_lost(session: Session, lost: dict[int, str]) -> int:
    """Flag orders still open in the read model whose workflow closed abnormally (once each)."""
    now = utcnow()
    flagged = 0
    for order_id, status in lost.items():
        moved = session.execute(
            update(Order)
            .where(
                Order.id == order_id,
                Order.workflow_lost_at.is_(None),
                Order.status.not_in([s.value for s in FINAL_STATUSES]),
            )
            .values(workflow_lost_at=now, workflow_lost_status=status)
        )
        if moved.rowcount:  # type: ignore[attr-defined]
            flagged += 1
            audit.record(
                session, "system", "workflow.lost", f"order-id:{order_id}", ip=None, status=status
            )
    return flagged


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
    return _submitted(session, order, replayed=True)


def orders_without_workflow(session: Session, *, older_than: timedelta) -> list[Submitted]:
    """Orders committed but whose workflow start never got through (API died, Temporal down)."""
    rows = session.scalars(
        select(Order)
        .where(Order.workflow_started_at.is_(None), Order.submitted_at < utcnow() - older_than)
        .order_by(Order.id)
        .limit(500)
    ).all()
    return [_submitted(session, o, replayed=True) for o in rows]


def dispatched_unit(session: Session, order_id: int) -> int:
    """The unit an order is dispatched to, as last recorded; refused when it is not a unit's."""
    unit_id = session.scalar(select(Order.unit_id).where(Order.id == order_id))
    if unit_id is None:
        raise Conflict(NOT_UNIT_DISPATCH, "the order is not dispatched to a team or station")
    return unit_id


def prepare_command(
    session: Session,
    order: OrderRef,
    *,
    volunteer_id: int | None,
    volunteer_must_be_active: bool,
    note: tuple[str, str | None] | None,
) -> str | None:
    """Checks before a command reaches the workflow, in one transaction; returns the note id.

    The order must still be open (``Conflict``; a workflow lost outside the API too), any
    volunteer named must exist (``Invalid``); free text is stored so that only its id
    enters the workflow.
    """
    if order.status in FINAL_STATUSES:
        raise Conflict(ORDER_FINISHED, f"the order is {order.status}")
    if order.workflow_lost is not None:
        raise Conflict(
            WORKFLOW_LOST,
            f"the order's workflow was {order.workflow_lost} outside the API; an admin must act",
        )
    if volunteer_id is not None:
        require_volunteer(session, volunteer_id, active=volunteer_must_be_active)
    if note is not None and note[1]:
        return add_note(session, order.id, note[0], note[1])
    return None


def add_note(session: Session, order_id: int, kind: str, body: str) -> str:
    note_id = str(uuid.uuid4())
    session.add(
        OrderNote(
            id=note_id, order_id=order_id, kind=kind, body=body, internal=kind in INTERNAL_NOTES
        )
    )
    return note_id


def drop_note(session: Session, note_id: str) -> None:
    session.execute(delete(OrderNote).where(OrderNote.id == note_id))


def projected_seq(session: Session, order_id: int) -> int:
    """The last transition of the order the read model holds."""
    return session.scalar(select(Order.last_seq).where(Order.id == order_id)) or 0


def unattached_notes(
    session: Session, *, older_than: timedelta, within: timedelta
) -> list[tuple[str, int]]:
    """Notes (id, order id) written for a command that no record refers to (yet).

    Either the command never reached the workflow (the API or Temporal failed between the
    note and the Update), or it was refused and the API died before removing the note.
    """
    now = utcnow()
    referenced = [
        exists().where(OrderEvent.note_id == OrderNote.id),
        exists().where(FollowUp.note_id == OrderNote.id),
        exists().where(Complaint.note_id == OrderNote.id),
        exists().where(Complaint.resolution_note_id == OrderNote.id),
    ]
    rows = session.execute(
        select(OrderNote.id, OrderNote.order_id)
        .where(
            OrderNote.created_at < now - older_than,
            OrderNote.created_at >= now - within,
            *(~r for r in referenced),
        )
        .order_by(OrderNote.created_at)
        .limit(500)
    ).all()
    return [(note_id, order_id) for note_id, order_id in rows]


def order_detail(
    session: Session,
    order: OrderRef,
    reader: Principal,
    *,
    ip: str | None,
    workflows_url: str,
    center: Center,
) -> schemas.OrderOut:
    """The order with its timeline, as ``order.viewer`` may read it (see ``schemas.OrderOut``)."""
    # Two queries, plain rows for the timeline: this is the hottest read in the API.
    row = session.execute(
        select(Order, CatalogItem.name, FollowUp, Village.name)
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .outerjoin(FollowUp, FollowUp.order_id == Order.id)
        .outerjoin(Village, Village.id == Order.village_id)
        .where(Order.id == order.id)
    ).first()
    o, item_name, follow_up, village = found(row, "order", order.public_id)
    staff = order.viewer == Viewer.STAFF
    timeline = session.execute(
        select(
            OrderEvent.at,
            OrderEvent.event,
            OrderEvent.actor,
            OrderEvent.volunteer_id,
            OrderEvent.data,
            OrderNote.body,
            OrderNote.internal,
        )
        .outerjoin(OrderNote, OrderNote.id == OrderEvent.note_id)
        .where(OrderEvent.order_id == order.id)
        .order_by(OrderEvent.seq)
    ).all()
    personal = _reads_personal(session, order, reader, ip=ip)
    wid = workflow_id(o.id)
    for_people = people_fields(
        session,
        o,
        follow_up,
        [Step(*row) for row in timeline],
        personal=personal,
        staff=staff,
        offered=order.viewer is Viewer.HOLDER or _waits_on(session, o, order, reader),
        center=center,
        owner=order.viewer == Viewer.OWNER,
    )
    return from_row(
        schemas.OrderOut,
        o,
        id=o.public_id,
        item_name=item_name,
        village=village,
        reason=o.reason if personal else None,
        address=o.address if personal else None,
        resident_name=o.resident_name if personal else None,
        resident_phone_masked=mask_for_screen(o.resident_phone) if personal else None,
        workflow_lost=o.workflow_lost_status,
        follow_up=schemas.FollowUpSummary.model_validate(follow_up, from_attributes=True)
        if follow_up
        else None,
        timeline=[
            schemas.TimelineEntry(
                at=at,
                event=event,
                actor=by,
                volunteer_id=volunteer,
                data=(data or {}) if staff else _public_data(data),
                # Internal notes are staff's own; the others, the resident's words and
                # what was done for them, go with the order's personal data.
                note=note if (staff if internal else personal) else None,
            )
            for at, event, by, volunteer, data, note, internal in timeline
        ],
        offered_to=list(
            session.scalars(
                select(OrderOffer.volunteer_id)
                .where(OrderOffer.order_id == order.id)
                .order_by(OrderOffer.volunteer_id)
            )
        )
        if staff
        else [],
        workflow_id=wid if staff else None,
        workflow_url=f"{workflows_url}/{wid}" if staff else None,
        **for_people,
    )


def _waits_on(session: Session, o: Order, order: OrderRef, reader: Principal) -> bool:
    """Whether the order waits for ``reader``'s answer: dispatched to them, to a unit they
    lead, or offered to them in an open call (not to one who let it go before)."""
    if order.viewer is not Viewer.VOLUNTEER or o.status != OrderStatus.DISPATCHED:
        return False
    me = reader.volunteer_id
    if o.volunteer_id is not None:
        return o.volunteer_id == me
    if o.unit_id is not None:
        return o.unit_id in reader.led_units
    offered = session.scalar(
        select(OrderOffer.volunteer_id).where(
            OrderOffer.order_id == o.id, OrderOffer.volunteer_id == me
        )
    )
    return offered is not None


def order_detail_after_command(
    session: Session,
    principal: Principal,
    order: OrderRef,
    *,
    ip: str | None,
    workflows_url: str,
    center: Center,
) -> schemas.OrderOut:
    """``order_detail`` as ``principal`` may read the order after a command of theirs.

    Staff read every order they act on as staff, and its resident as its owner, whatever a
    command did; a volunteer's view follows the order (one who declined no longer holds it,
    and sees only what anyone would), so only theirs is looked up again, in this transaction.
    """
    if order.viewer not in (Viewer.STAFF, Viewer.OWNER):
        try:
            order = resolve(session, principal, order.public_id)
        except NotFound:
            order = replace(order, viewer=Viewer.VOLUNTEER)
    return order_detail(
        session, order, principal, ip=ip, workflows_url=workflows_url, center=center
    )


def _reads_personal(
    session: Session, order: OrderRef, reader: Principal, *, ip: str | None
) -> bool:
    """Whether ``reader`` reads whom the order is for: the resident's name and address, the
    reason, their words on the timeline.

    Agents see every order with a follow-up in their townships, closed ones too, but whom it
    is for only while they hold its follow-up (the one about to call), and each such read is
    audited, as the follow-up's detail is.
    """
    if order.viewer is not Viewer.STAFF:
        return order.viewer in (Viewer.OWNER, Viewer.HOLDER)
    if reader.has(Role.ADMIN):
        return True
    if not _holds_follow_up(session, order, reader):
        return False
    audit.record(session, reader, "contact.read", f"order:{order.public_id}", ip=ip, via="order")
    return True


def _may_reach(session: Session, order: OrderRef, principal: Principal) -> bool:
    if order.viewer is Viewer.HOLDER or principal.has(Role.ADMIN):
        return True
    return _holds_follow_up(session, order, principal)


def _holds_follow_up(session: Session, order: OrderRef, principal: Principal) -> bool:
    """Whether ``principal`` is the agent holding a live claim on the order's follow-up."""
    if not principal.has(Role.AGENT) or principal.staff_id is None:
        return False
    holds = session.scalar(
        select(FollowUp.id).where(
            FollowUp.order_id == order.id,
            FollowUp.status == FollowUpStatus.OPEN.value,
            FollowUp.claimed_by == principal.staff_id,
            FollowUp.claim_expires_at > utcnow(),
        )
    )
    return holds is not None


# What a timeline entry may tell anyone but staff (no scores, policies, other volunteers).
_PUBLIC_DATA = frozenset({"rating", "review_rating", "hours", "on_time", "level", "method"})


def _public_data(data: dict[str, object] | None) -> dict[str, object]:
    return {k: v for k, v in (data or {}).items() if k in _PUBLIC_DATA}


def read_contact(
    session: Session, order: OrderRef, principal: Principal, *, ip: str | None
) -> schemas.ContactOut:
    """The resident's name, phone and address, for whoever must call or visit them now.

    The volunteer holding the order (from acceptance until it closes), an admin of its
    township, or the agent holding a live claim on its follow-up; each read is audited.
    """
    if not _may_reach(session, order, principal):
        raise Forbidden("only the volunteer, the admin or the agent dealing with it may")
    o = found(session.get(Order, order.id), "order", order.public_id)
    audit.record(session, principal, "contact.read", f"order:{o.public_id}", ip=ip)
    return schemas.ContactOut(
        order_id=o.public_id,
        resident_name=o.resident_name,
        resident_phone=o.resident_phone,
        address=o.address,
        village_id=o.village_id,
        township=o.township,
    )
