"""Volunteers: registration (登记注册), profile, pause, and moves between units (关系转接)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api import schemas
from api.stores.errors import (
    DUPLICATE_PHONE,
    INACTIVE_UNIT,
    INVALID_DISPLAY_NAME,
    INVALID_PHONE,
    INVALID_WINDOW,
    LEADER_TRANSFER,
    NOT_AN_APPLICATION,
    SAME_UNIT,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    unknown,
)
from api.stores.references import require_township, require_unit, require_village
from api.stores.rows import from_row, total_rows
from core.db import utcnow
from core.models import (
    AvailabilityWindow,
    CatalogItem,
    Category,
    Resident,
    Trade,
    Unit,
    Volunteer,
    VolunteerSkill,
    VolunteerTransfer,
)
from core.phones import e164, mask_for_screen
from core.security import Principal
from core.vocab import Application, Role

PENDING = Application.PENDING.value


def _check_skills(session: Session, codes: Sequence[str]) -> list[str]:
    wanted = sorted(set(codes))
    known = set(session.scalars(select(Category.code).where(Category.code.in_(wanted))))
    known |= set(session.scalars(select(CatalogItem.code).where(CatalogItem.code.in_(wanted))))
    for code in wanted:
        if code not in known:
            raise unknown("skill (catalog category or item code)", code)
    return wanted


def _check_trade(session: Session, trade: str | None) -> None:
    if trade is not None and session.get(Trade, trade) is None:
        raise unknown("trade", trade)


def _windows(availability: Sequence[schemas.Window]) -> list[AvailabilityWindow]:
    if any(schemas.minutes(w.start) >= schemas.minutes(w.end) for w in availability):
        raise Invalid(
            INVALID_WINDOW, "a window ends after it starts (split windows across midnight)"
        )
    return [
        AvailabilityWindow(
            weekday=w.weekday,
            start_minute=schemas.minutes(w.start),
            end_minute=schemas.minutes(w.end),
        )
        for w in availability
    ]


def _new_phone(
    session: Session, number: str, *, country_code: str, keeping: int | None = None
) -> str:
    """``number`` in E.164, when it can be called and no other volunteer has it."""
    phone = e164(number, country_code=country_code)
    if phone is None:
        raise Invalid(INVALID_PHONE, "that is not a phone number that can be called")
    existing = session.scalar(select(Volunteer.id).where(Volunteer.phone == phone))
    if existing is not None and existing != keeping:
        raise Conflict(
            DUPLICATE_PHONE, f"volunteer {existing} is already registered with this phone"
        )
    return phone


def _home(session: Session, township: str, village_id: int | None) -> tuple[float | None, ...]:
    """Home coordinates from the place: the village's centre, else the township's."""
    place = require_township(session, township)
    village = require_village(session, village_id, township) if village_id else None
    source = village if village is not None and village.lat is not None else place
    return source.lat, source.lon


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _volunteer(v: Volunteer, *, masked: bool) -> schemas.VolunteerOut:
    return from_row(
        schemas.VolunteerOut,
        v,
        phone=mask_for_screen(v.phone) if masked else v.phone,
        availability=[
            schemas.Window(weekday=w.weekday, start=_hhmm(w.start_minute), end=_hhmm(w.end_minute))
            for w in v.windows
        ],
    )


def me(principal: Principal) -> int:
    """The signed-in volunteer's id."""
    if principal.volunteer_id is None:
        raise Forbidden("sign in as an active volunteer")
    return principal.volunteer_id


def in_reach(session: Session, volunteer_id: int, principal: Principal) -> Volunteer:
    """The volunteer, for themself or an admin of their township; anyone else: ``NotFound``."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or not (
        principal.volunteer_id == volunteer_id
        or (principal.has(Role.ADMIN) and principal.may_see_township(volunteer.township))
    ):
        raise NotFound("volunteer", volunteer_id)
    return volunteer


def as_seen_by(out: schemas.VolunteerOut, principal: Principal) -> schemas.VolunteerOut:
    """A volunteer's number is theirs: others (admins) see it masked."""
    if principal.volunteer_id == out.id:
        return out
    return out.model_copy(update={"phone": mask_for_screen(out.phone)})


def create_volunteer(
    session: Session,
    body: schemas.VolunteerCreate,
    *,
    country_code: str,
    application: bool = False,
) -> schemas.VolunteerOut:
    """Register a volunteer; their home coordinates fall back to the village's, the township's.

    An admin's registration is active at once; a resident's own ``application`` waits,
    inactive, for an admin to approve it.
    """
    phone = e164(body.phone, country_code=country_code)
    if phone is None:
        raise Invalid(INVALID_PHONE, "that is not a phone number that can be called")
    home = _home(session, body.township, body.village_id)
    skills = _check_skills(session, body.skills)
    _check_trade(session, body.trade)
    if body.unit_id is not None:
        require_unit(session, body.unit_id)
    phone = _new_phone(session, phone, country_code=country_code)
    lat, lon = (body.lat, body.lon) if body.lat is not None else home
    volunteer = Volunteer(
        name=body.name,
        phone=phone,
        township=body.township,
        village_id=body.village_id,
        lat=lat,
        lon=lon,
        trade=body.trade,
        platform=body.platform.value if body.platform else None,
        unit_id=body.unit_id,
        max_open_orders=body.max_open_orders,
        active=not application,
        paused=False,
        application=PENDING if application else None,
        created_at=utcnow(),
        skill_rows=[VolunteerSkill(code=c) for c in skills],
        windows=_windows(body.availability),
    )
    session.add(volunteer)
    session.flush()
    return _volunteer(volunteer, masked=False)


def list_volunteers(
    session: Session,
    *,
    viewer: Principal,
    township: str | None,
    skill: str | None,
    unit_id: int | None,
    limit: int,
    offset: int,
    application: Application | None = None,
) -> schemas.Page[schemas.VolunteerOut]:
    query = select(Volunteer)
    if viewer.townships is not None:
        query = query.where(Volunteer.township.in_(viewer.townships))
    if application is not None:
        query = query.where(Volunteer.application == application.value)
    if township is not None:
        query = query.where(Volunteer.township == township)
    if unit_id is not None:
        query = query.where(Volunteer.unit_id == unit_id)
    if skill is not None:
        query = query.where(
            Volunteer.id.in_(
                select(VolunteerSkill.volunteer_id).where(VolunteerSkill.code == skill)
            )
        )
    total = total_rows(session, query)
    rows = session.scalars(
        query.order_by(Volunteer.id)
        .options(selectinload(Volunteer.skill_rows), selectinload(Volunteer.windows))
        .limit(limit)
        .offset(offset)
    )
    return schemas.Page[schemas.VolunteerOut](
        items=[_volunteer(v, masked=True) for v in rows], total=total, limit=limit, offset=offset
    )


def get_volunteer(session: Session, volunteer_id: int, viewer: Principal) -> schemas.VolunteerOut:
    return as_seen_by(_volunteer(in_reach(session, volunteer_id, viewer), masked=False), viewer)


# What a volunteer may change of themself: their "not now" and their weekly hours.
SELF_SERVICE = frozenset({"paused", "availability", "display_name"})


def update_volunteer(
    session: Session,
    volunteer_id: int,
    body: schemas.VolunteerPatch,
    viewer: Principal,
    *,
    country_code: str = "86",
) -> schemas.VolunteerOut:
    """Correct, deactivate, pause, resize, re-skill; past orders always stay as they are.

    Admins of the volunteer's township change anything (a new township must be theirs too);
    the volunteer pauses themself or changes their availability.
    """
    volunteer = in_reach(session, volunteer_id, viewer)
    if not viewer.has(Role.ADMIN) and not body.model_fields_set <= SELF_SERVICE:
        raise Forbidden(
            "volunteers change only their pause, availability and display name; ask an admin"
        )
    if body.name is not None:
        volunteer.name = body.name
    if body.phone is not None:
        volunteer.phone = _new_phone(
            session, body.phone, country_code=country_code, keeping=volunteer.id
        )
    _move(session, volunteer, body, viewer)
    if body.active is not None:
        volunteer.active = body.active
    if body.paused is not None:
        volunteer.paused = body.paused
    if body.max_open_orders is not None:
        volunteer.max_open_orders = body.max_open_orders
    if body.skills is not None:
        codes = _check_skills(session, body.skills)
        volunteer.skill_rows = [VolunteerSkill(code=c) for c in codes]
    if "trade" in body.model_fields_set:
        _check_trade(session, body.trade)
        volunteer.trade = body.trade
    if body.availability is not None:
        volunteer.windows = _windows(body.availability)
    if "display_name" in body.model_fields_set:
        if body.display_name is not None and any(c.isdigit() for c in body.display_name):
            raise Invalid(INVALID_DISPLAY_NAME, "a display name has no digits (never a phone)")
        volunteer.display_name = body.display_name
    session.flush()
    return as_seen_by(_volunteer(volunteer, masked=False), viewer)


def apply(
    session: Session, resident: Principal, body: schemas.VolunteerApply
) -> schemas.VolunteerOut:
    """A signed-in resident applies to volunteer, with their own (verified) phone."""
    phone = session.scalar(select(Resident.phone).where(Resident.id == resident.resident_id))
    if phone is None:
        raise Forbidden("sign in with your phone to apply")
    application = schemas.VolunteerCreate(**body.model_dump(), phone=phone)
    # The phone is E.164 already, so the country code is never used.
    return create_volunteer(session, application, country_code="86", application=True)


def decide_application(
    session: Session, volunteer_id: int, viewer: Principal, *, approve: bool
) -> schemas.VolunteerOut:
    """An admin approves a resident's application (active at once) or refuses it."""
    volunteer = in_reach(session, volunteer_id, viewer)
    if volunteer.application != PENDING:
        raise Conflict(NOT_AN_APPLICATION, f"volunteer {volunteer_id} has no pending application")
    volunteer.application = None if approve else Application.REFUSED.value
    volunteer.active = approve
    session.flush()
    return as_seen_by(_volunteer(volunteer, masked=False), viewer)


def move(session: Session, volunteer: Volunteer, unit_id: int | None, *, note: str | None) -> None:
    """Put a volunteer in another unit (or none), leaving the move in their transfers."""
    session.add(
        VolunteerTransfer(
            volunteer_id=volunteer.id,
            from_unit_id=volunteer.unit_id,
            to_unit_id=unit_id,
            at=utcnow(),
            note=note,
        )
    )
    volunteer.unit_id = unit_id


def transfer_volunteer(
    session: Session, volunteer_id: int, body: schemas.TransferBody, viewer: Principal
) -> schemas.VolunteerOut:
    """Move a volunteer between teams or stations (关系转接), keeping their history."""
    volunteer = in_reach(session, volunteer_id, viewer)
    if body.unit_id is not None:
        unit = require_unit(session, body.unit_id, viewer)
        if not unit.active:
            raise Invalid(INACTIVE_UNIT, f"unit {unit.id} is not active")
    if body.unit_id == volunteer.unit_id:
        raise Conflict(SAME_UNIT, "the volunteer is already in this unit")
    # An inactive unit's too: reactivated, it would be led by someone not in it.
    led = session.scalar(select(Unit.id).where(Unit.leader_id == volunteer.id))
    if led is not None:
        raise Conflict(
            LEADER_TRANSFER, f"volunteer {volunteer_id} leads unit {led}: name a new leader"
        )
    move(session, volunteer, body.unit_id, note=body.note)
    session.flush()
    return as_seen_by(_volunteer(volunteer, masked=False), viewer)


def transfers(session: Session, volunteer_id: int, viewer: Principal) -> list[schemas.TransferOut]:
    in_reach(session, volunteer_id, viewer)
    rows = session.scalars(
        select(VolunteerTransfer)
        .where(VolunteerTransfer.volunteer_id == volunteer_id)
        .order_by(VolunteerTransfer.at, VolunteerTransfer.id)
    )
    return [schemas.TransferOut.model_validate(t, from_attributes=True) for t in rows]


def _move(
    session: Session, volunteer: Volunteer, body: schemas.VolunteerPatch, viewer: Principal
) -> None:
    """A new home place: township and village agree, and the coordinates follow them."""
    fields = body.model_fields_set
    if not fields & {"township", "village_id"}:
        return
    township = body.township or volunteer.township
    if not viewer.may_see_township(township):
        raise Forbidden(f"{township} is not one of your townships")
    moved = township != volunteer.township
    village_id = (
        body.village_id if "village_id" in fields else (None if moved else volunteer.village_id)
    )
    volunteer.lat, volunteer.lon = _home(session, township, village_id)
    volunteer.township, volunteer.village_id = township, village_id
