"""Volunteers: registration (登记注册), profile, pause, and moves between units (关系转接)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api import schemas
from api.stores.errors import (
    DUPLICATE_PHONE,
    INACTIVE_UNIT,
    LEADER_TRANSFER,
    SAME_UNIT,
    Conflict,
    Invalid,
    found,
    unknown,
)
from api.stores.references import require_township, require_unit, require_village
from api.stores.rows import from_row, total_rows
from core.db import utcnow
from core.models import (
    AvailabilityWindow,
    CatalogItem,
    Category,
    Trade,
    Unit,
    Volunteer,
    VolunteerSkill,
    VolunteerTransfer,
)
from core.phones import mask_for_screen


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
    return [
        AvailabilityWindow(
            weekday=w.weekday,
            start_minute=schemas.minutes(w.start),
            end_minute=schemas.minutes(w.end),
        )
        for w in availability
    ]


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


def create_volunteer(session: Session, body: schemas.VolunteerCreate) -> schemas.VolunteerOut:
    """Register a volunteer; their home coordinates fall back to the village's, the township's."""
    township = require_township(session, body.township)
    village = require_village(session, body.village_id, body.township) if body.village_id else None
    skills = _check_skills(session, body.skills)
    _check_trade(session, body.trade)
    if body.unit_id is not None:
        require_unit(session, body.unit_id)
    existing = session.scalar(select(Volunteer.id).where(Volunteer.phone == body.phone))
    if existing is not None:
        raise Conflict(
            DUPLICATE_PHONE, f"volunteer {existing} is already registered with this phone"
        )
    lat, lon = body.lat, body.lon
    if lat is None:
        source = village if village is not None and village.lat is not None else township
        lat, lon = source.lat, source.lon
    volunteer = Volunteer(
        name=body.name,
        phone=body.phone,
        township=body.township,
        village_id=body.village_id,
        lat=lat,
        lon=lon,
        trade=body.trade,
        platform=body.platform.value if body.platform else None,
        unit_id=body.unit_id,
        max_open_orders=body.max_open_orders,
        active=True,
        paused=False,
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
    township: str | None,
    skill: str | None,
    unit_id: int | None,
    limit: int,
    offset: int,
) -> schemas.Page[schemas.VolunteerOut]:
    query = select(Volunteer)
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


def _get(session: Session, volunteer_id: int) -> Volunteer:
    return found(session.get(Volunteer, volunteer_id), "volunteer", volunteer_id)


def get_volunteer(session: Session, volunteer_id: int) -> schemas.VolunteerOut:
    return _volunteer(_get(session, volunteer_id), masked=False)


def update_volunteer(
    session: Session, volunteer_id: int, body: schemas.VolunteerPatch
) -> schemas.VolunteerOut:
    """Deactivate, pause, resize, re-skill; past orders always stay as they are."""
    volunteer = _get(session, volunteer_id)
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
    session.flush()
    return _volunteer(volunteer, masked=False)


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
    session: Session, volunteer_id: int, body: schemas.TransferBody
) -> schemas.VolunteerOut:
    """Move a volunteer between teams or stations (关系转接), keeping their history."""
    volunteer = _get(session, volunteer_id)
    if body.unit_id is not None:
        unit = require_unit(session, body.unit_id)
        if not unit.active:
            raise Invalid(INACTIVE_UNIT, f"unit {unit.id} is not active")
    if body.unit_id == volunteer.unit_id:
        raise Conflict(SAME_UNIT, "the volunteer is already in this unit")
    led = session.scalar(select(Unit.id).where(Unit.leader_id == volunteer.id, Unit.active))
    if led is not None:
        raise Conflict(
            LEADER_TRANSFER, f"volunteer {volunteer_id} leads unit {led}: name a new leader"
        )
    move(session, volunteer, body.unit_id, note=body.note)
    session.flush()
    return _volunteer(volunteer, masked=False)


def transfers(session: Session, volunteer_id: int) -> list[schemas.TransferOut]:
    _get(session, volunteer_id)
    rows = session.scalars(
        select(VolunteerTransfer)
        .where(VolunteerTransfer.volunteer_id == volunteer_id)
        .order_by(VolunteerTransfer.at, VolunteerTransfer.id)
    )
    return [schemas.TransferOut.model_validate(t, from_attributes=True) for t in rows]
