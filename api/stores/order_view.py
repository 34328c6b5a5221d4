"""The order as people read it on the resident and volunteer pages.

The staff timeline (``schemas.TimelineEntry``) names actors by id; here each step says who
acted in words a resident understands: the center, a volunteer's display name (never a
phone), the resident, the system. Free text (the cancel reason, the completion summary, the
review comment) reaches only those who may read the order's personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from api import schemas
from api.stores.inbox import OFFERING
from core.models import Complaint, FollowUp, Order, OrderNote, Photo, Volunteer
from core.quiet_hours import OfferTimeouts
from core.vocab import (
    OPEN_STATUSES,
    ActorKind,
    ComplaintStatus,
    EventName,
    FollowUpOutcome,
    FollowUpStatus,
    OrderStatus,
    ReviewChannel,
)

# The dispatcher's words for the volunteer come with these steps (``DispatchBody.reason``).
_DISPATCHING = frozenset({EventName.DISPATCHED, EventName.REDISPATCHED, EventName.OPEN_CALL})
# Where the order went: these steps name the volunteer it was handed to.
_HANDED_TO = frozenset({EventName.DISPATCHED, EventName.REDISPATCHED, EventName.ASSIGNED})
# The free text of these steps, under the name the page reads.
_TEXT_FIELD = {
    EventName.CANCELLED: "reason",
    EventName.COMPLETED: "note",
    EventName.REVIEWED: "note",
}
_DATA_FIELDS = ("channel", "hours", "on_time", "rating", "review_rating", "outcome", "level")
_ACTOR_KINDS = {
    ActorKind.RESIDENT: "resident",
    ActorKind.VOLUNTEER: "volunteer",
    ActorKind.ADMIN: "center",
    ActorKind.CALL_CENTER: "center",
    ActorKind.SYSTEM: "system",
}


@dataclass(frozen=True)
class Center:
    """How the center is named to people, the number they call instead of a volunteer, and
    how long its offers wait for an answer."""

    name: str
    hotline: str
    offers: OfferTimeouts


@dataclass(frozen=True)
class Step:
    """One timeline row as read from the database."""

    at: datetime
    event: str
    actor: str
    volunteer_id: int | None
    data: dict[str, Any] | None
    note: str | None
    internal: bool


def display_name(name: str, chosen: str | None = None) -> str:
    """A volunteer as residents see them: the name they chose, else their surname and 志愿者
    (王志愿者); never a phone."""
    if chosen:
        return chosen
    name = name.strip()
    surname = name.split()[0] if name.isascii() else name[:1]
    return f"{surname}志愿者"


def proposed_hours(checked_in: datetime | None, checked_out: datetime | None) -> float | None:
    """The time on site, to the half hour, at least half an hour; ``None`` until both exist."""
    if checked_in is None or checked_out is None:
        return None
    hours = (checked_out - checked_in).total_seconds() / 3600
    return max(0.5, round(hours * 2) / 2)


def people_fields(
    session: Session,
    o: Order,
    follow_up: FollowUp | None,
    steps: Sequence[Step],
    *,
    personal: bool,
    staff: bool,
    offered: bool,
    center: Center,
    owner: bool = False,
) -> dict[str, Any]:
    """The order view's fields for the pages (see ``schemas.OrderOut``).

    ``offered``: the reader is a volunteer the order waits on (or holds it), who reads the
    dispatcher's note and the answer-by time before deciding.
    """
    names = _volunteer_names(session, _volunteer_ids(steps))
    photos = _photos(session, o, everything=staff or o.status in OPEN_STATUSES) if personal else []
    attached = sum(1 for p in photos if p[1]) if personal else 0
    events = [
        _event(step, names, center, personal=personal, photo_count=attached) for step in steps
    ]
    verified = _verified(o, follow_up)
    cancel_reason = next(
        (s.note for s in reversed(steps) if s.event == EventName.CANCELLED and not s.internal),
        None,
    )
    completion_note = next(
        (s.note for s in reversed(steps) if s.event == EventName.COMPLETED and not s.internal),
        None,
    )
    dispatching = next((s for s in reversed(steps) if s.event in _DISPATCHING), None)
    return {
        "dispatch_note": dispatching.note if dispatching and (staff or offered) else None,
        "accept_by": _accept_by(o, steps, center.offers) if staff or offered else None,
        "events": events,
        "review_channel": o.review_channel
        or (ReviewChannel.ONLINE.value if o.review_rating else None),
        "verified_rating": verified,
        "rating_corrected": verified is not None
        and o.review_rating is not None
        and verified != o.review_rating,
        "due_at": o.deadline_at if OrderStatus(o.status) in OPEN_STATUSES else None,
        "cancel_reason": cancel_reason if personal else None,
        "completion_note": completion_note if personal else None,
        "complaint_open": bool(
            session.scalar(
                select(
                    exists().where(
                        Complaint.order_id == o.id, Complaint.status == ComplaintStatus.OPEN.value
                    )
                )
            )
        ),
        "complaints": _complaints(session, o) if personal and (owner or staff) else [],
        "center_hotline": center.hotline,
        "proposed_hours": proposed_hours(o.checked_in_at, o.checked_out_at),
        "photos": [photo for photo, _ in photos],
    }


def _complaints(session: Session, o: Order) -> list[schemas.OrderComplaint]:
    """The order's complaints, first made first, each with what the resident said and the
    center's resolution once there is one."""
    said, done = aliased(OrderNote), aliased(OrderNote)
    rows = session.execute(
        select(
            Complaint.status,
            Complaint.created_at.label("made_at"),
            said.body.label("text"),
            Complaint.resolved_at,
            done.body.label("resolution"),
        )
        .outerjoin(said, said.id == Complaint.note_id)
        .outerjoin(done, done.id == Complaint.resolution_note_id)
        .where(Complaint.order_id == o.id)
        .order_by(Complaint.created_at, Complaint.id)
    ).all()
    return [schemas.OrderComplaint.model_validate(row._asdict()) for row in rows]


def _accept_by(o: Order, steps: Sequence[Step], offers: OfferTimeouts) -> datetime | None:
    """While the order waits for an answer: when the offer lapses (as the inbox says)."""
    if o.status != OrderStatus.DISPATCHED:
        return None
    offered_at = max((s.at for s in steps if s.event in OFFERING), default=None)
    if offered_at is None:
        return None
    return offers.accept_by(offered_at, leader=o.unit_id is not None and o.volunteer_id is None)


def photo_urls(public_id: str, photo_id: str) -> tuple[str, str]:
    url = f"/api/orders/{public_id}/photos/{photo_id}"
    return url, f"{url}/thumbnail"


def _photos(session: Session, o: Order, *, everything: bool) -> list[tuple[schemas.PhotoOut, bool]]:
    """The photos of the work: those the completion named, or (staff, before completion) all."""
    query = select(Photo.id, Photo.uploaded_at, Photo.attached).where(Photo.order_id == o.id)
    if not everything:
        query = query.where(Photo.attached.is_(True))
    rows = session.execute(query.order_by(Photo.uploaded_at, Photo.id)).all()
    out = []
    for photo_id, uploaded_at, attached in rows:
        url, thumbnail = photo_urls(o.public_id, photo_id)
        out.append(
            (
                schemas.PhotoOut(
                    photo_id=photo_id, url=url, thumbnail_url=thumbnail, uploaded_at=uploaded_at
                ),
                bool(attached),
            )
        )
    return out


def _verified(o: Order, follow_up: FollowUp | None) -> str | None:
    """The rating the follow-up settled: confirmed or corrected (not when unreachable)."""
    if follow_up is None or follow_up.status != FollowUpStatus.DONE.value:
        return None
    if follow_up.outcome == FollowUpOutcome.UNREACHABLE.value:
        return None
    return o.rating


def _volunteer_ids(steps: Iterable[Step]) -> set[int]:
    ids: set[int] = set()
    for step in steps:
        kind, _, ident = step.actor.partition(":")
        if kind == ActorKind.VOLUNTEER and ident.isdigit():
            ids.add(int(ident))
        if step.volunteer_id is not None:
            ids.add(step.volunteer_id)
    return ids


def _volunteer_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Volunteer.id, Volunteer.name, Volunteer.display_name).where(Volunteer.id.in_(ids))
    )
    return {vid: display_name(name, chosen) for vid, name, chosen in rows}


def _actor(label: str, names: dict[int, str], center: Center) -> schemas.EventActor:
    kind, _, ident = label.partition(":")
    shown = _ACTOR_KINDS.get(ActorKind(kind), "system") if kind in set(ActorKind) else "system"
    if shown == "center":
        return schemas.EventActor(kind="center", name=center.name)
    if shown == "volunteer":
        name = names.get(int(ident)) if ident.isdigit() else None
        return schemas.EventActor(kind="volunteer", name=name)
    return schemas.EventActor(kind=shown)  # type: ignore[arg-type]


def _event(
    step: Step, names: dict[int, str], center: Center, *, personal: bool, photo_count: int
) -> schemas.OrderEventOut:
    data = step.data or {}
    fields: dict[str, Any] = {k: data[k] for k in _DATA_FIELDS if k in data}
    name = EventName(step.event) if step.event in set(EventName) else None
    if name in _HANDED_TO and step.volunteer_id in names:
        fields["volunteer"] = schemas.VolunteerName(name=names[step.volunteer_id])
    if name == EventName.REVIEWED:
        fields.setdefault("channel", ReviewChannel.ONLINE.value)
    if name == EventName.COMPLETED and personal:
        fields["photo_count"] = photo_count
    if name in _TEXT_FIELD and personal and step.note and not step.internal:
        fields[_TEXT_FIELD[name]] = step.note
    return schemas.OrderEventOut(
        type=step.event, at=step.at, actor=_actor(step.actor, names, center), **fields
    )
