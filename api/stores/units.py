"""Practice institutes (所), stations (站) and volunteer teams (队), their leaders and members."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import schemas
from api.stores.errors import (
    DUPLICATE_UNIT,
    INACTIVE_UNIT,
    INACTIVE_VOLUNTEER,
    NOT_A_MEMBER,
    UNIT_WITHOUT_LEADER,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    unknown,
)
from api.stores.references import (
    require_township,
    require_unit,
    require_village,
    require_volunteer,
)
from api.stores.rows import from_row, total_rows
from api.stores.volunteers import move
from core.db import utcnow
from core.models import Unit, Volunteer
from core.security import Principal


def _unit_out(session: Session, unit: Unit) -> schemas.UnitOut:
    members = session.scalar(
        select(func.count()).where(Volunteer.unit_id == unit.id, Volunteer.active.is_(True))
    )
    return from_row(schemas.UnitOut, unit, members=members or 0)


def in_reach(session: Session, unit_id: int, viewer: Principal) -> Unit:
    """The unit, for an admin of its township; for anyone else ``NotFound``."""
    return require_unit(session, unit_id, viewer)


def create_unit(session: Session, body: schemas.UnitCreate, viewer: Principal) -> schemas.UnitOut:
    if not viewer.may_see_township(body.township):
        raise Forbidden(f"{body.township} is not one of your townships")
    require_township(session, body.township)
    if body.village_id is not None:
        require_village(session, body.village_id, body.township)
    leader = None
    if body.leader_id is not None:
        leader = require_volunteer(session, body.leader_id, active=True, viewer=viewer)
        # A leader is one of their unit's members, and a member of one unit only.
        if leader.unit_id is not None:
            raise Invalid(
                NOT_A_MEMBER,
                f"volunteer {leader.id} is a member of unit {leader.unit_id}: transfer them first",
            )
    if session.scalar(select(Unit.id).where(Unit.kind == body.kind, Unit.name == body.name)):
        raise Conflict(DUPLICATE_UNIT, f"a {body.kind} named {body.name} exists already")
    unit = Unit(
        kind=body.kind.value,
        name=body.name,
        township=body.township,
        village_id=body.village_id,
        platform=body.platform.value if body.platform else None,
        leader_id=body.leader_id,
        active=True,
        created_at=utcnow(),
    )
    session.add(unit)
    session.flush()
    if leader is not None:
        move(session, leader, unit.id, note="leader of a new unit")
    return _unit_out(session, unit)


def get_unit(session: Session, unit_id: int, viewer: Principal) -> schemas.UnitOut:
    return _unit_out(session, in_reach(session, unit_id, viewer))


def members(session: Session, unit_id: int, leader: Principal) -> list[schemas.UnitMember]:
    """The active members of a unit ``leader`` leads (anyone else: ``NotFound``), by name."""
    if unit_id not in leader.led_units:
        raise NotFound("unit", unit_id)
    rows = session.scalars(
        select(Volunteer)
        .where(Volunteer.unit_id == unit_id, Volunteer.active.is_(True))
        .order_by(Volunteer.name, Volunteer.id)
    )
    return [schemas.UnitMember(id=v.id, name=v.name, available=not v.paused) for v in rows]


def list_units(
    session: Session, *, viewer: Principal, township: str | None, limit: int, offset: int
) -> schemas.Page[schemas.UnitOut]:
    query = select(Unit).order_by(Unit.id)
    if viewer.townships is not None:
        query = query.where(Unit.township.in_(viewer.townships))
    if township is not None:
        query = query.where(Unit.township == township)
    total = total_rows(session, query)
    rows = session.scalars(query.limit(limit).offset(offset))
    return schemas.Page[schemas.UnitOut](
        items=[_unit_out(session, u) for u in rows], total=total, limit=limit, offset=offset
    )


def update_unit(
    session: Session, unit_id: int, body: schemas.UnitPatch, viewer: Principal
) -> schemas.UnitOut:
    unit = in_reach(session, unit_id, viewer)
    if "leader_id" in body.model_fields_set:
        if body.leader_id is not None:
            leader = require_volunteer(session, body.leader_id, active=True)
            if leader.unit_id != unit.id:
                raise Invalid(
                    NOT_A_MEMBER, f"volunteer {body.leader_id} is not a member of {unit.name}"
                )
        unit.leader_id = body.leader_id
    if body.active is not None:
        unit.active = body.active
    session.flush()
    return _unit_out(session, unit)


def unit_for_dispatch(session: Session, unit_id: int) -> int:
    """The leader who receives a dispatch to this unit (``Invalid`` when nobody can)."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise unknown("unit_id", unit_id)
    if not unit.active:
        raise Invalid(INACTIVE_UNIT, f"unit {unit_id} is not active")
    if unit.leader_id is None:
        raise Invalid(UNIT_WITHOUT_LEADER, f"unit {unit_id} has no leader to receive it")
    leader = session.get(Volunteer, unit.leader_id)
    if leader is None or not leader.active:
        raise Invalid(INACTIVE_VOLUNTEER, f"the leader of unit {unit_id} is not active")
    return unit.leader_id


def require_member(session: Session, unit_id: int, volunteer_id: int) -> None:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise unknown("volunteer_id", volunteer_id)
    if volunteer.unit_id != unit_id:
        raise Invalid(NOT_A_MEMBER, f"volunteer {volunteer_id} is not a member of unit {unit_id}")
    if not volunteer.active or volunteer.paused:
        raise Invalid(INACTIVE_VOLUNTEER, f"volunteer {volunteer_id} is not available")
