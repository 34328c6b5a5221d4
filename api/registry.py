"""The dispatch registry: places, units, volunteers, dispatch policies, and ranking.

Plain functions of a session, run in a thread by ``api.database.Database``. Registries are
the API's own writes; order status stays the workflow's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from api import schemas
from api.stores.errors import (
    DUPLICATE_PHONE,
    DUPLICATE_PLACE,
    DUPLICATE_TOWNSHIP,
    DUPLICATE_UNIT,
    INACTIVE_UNIT,
    INACTIVE_VOLUNTEER,
    LEADER_TRANSFER,
    NOT_A_MEMBER,
    SAME_UNIT,
    UNIT_WITHOUT_LEADER,
    VILLAGE_OUTSIDE_TOWNSHIP,
    Conflict,
    Invalid,
    NotFound,
    unknown,
)
from core.db import utcnow
from core.matching import Matching, rank_units, rank_volunteers, target_for_order
from core.models import (
    AvailabilityWindow,
    CatalogItem,
    Category,
    DispatchPolicyRow,
    Order,
    Township,
    Trade,
    Unit,
    Village,
    Volunteer,
    VolunteerSkill,
    VolunteerTransfer,
)
from core.phones import mask_for_screen
from core.vocab import DispatchPolicy

COUNTY_SCOPE = "*"


def total_rows(session: Session, query: Select[*tuple[Any, ...]]) -> int:
    """How many rows a list query matches, before its page is cut."""
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


# --- places ----------------------------------------------------------------------------


def require_township(session: Session, name: str) -> Township:
    # Only registered townships: the name goes into search attributes and reports.
    township = session.get(Township, name)
    if township is None:
        raise unknown("township", name)
    return township


def require_village(session: Session, village_id: int, township: str) -> Village:
    village = session.get(Village, village_id)
    if village is None:
        raise unknown("village_id", village_id)
    if village.township != township:
        raise Invalid(
            VILLAGE_OUTSIDE_TOWNSHIP, f"village {village_id} is not in township {township}"
        )
    return village


def townships(session: Session) -> list[schemas.TownshipOut]:
    rows = session.scalars(select(Township).order_by(Township.position, Township.name))
    return [schemas.TownshipOut.model_validate(t, from_attributes=True) for t in rows]


def create_township(session: Session, body: schemas.TownshipCreate) -> schemas.TownshipOut:
    if session.get(Township, body.name) is not None:
        raise Conflict(DUPLICATE_TOWNSHIP, f"township {body.name} exists already")
    position = session.scalar(select(func.coalesce(func.max(Township.position), 0))) or 0
    township = Township(
        name=body.name, name_en=body.name_en, position=position + 1, lat=body.lat, lon=body.lon
    )
    session.add(township)
    return schemas.TownshipOut.model_validate(township, from_attributes=True)


def places(session: Session, *, township: str | None) -> list[schemas.PlaceOut]:
    """Townships with their villages and communities."""
    query = select(Township).order_by(Township.position, Township.name)
    if township is not None:
        query = query.where(Township.name == township)
    tows = list(session.scalars(query))
    villages: dict[str, list[schemas.VillageOut]] = {}
    vquery = select(Village).order_by(Village.township, Village.name)
    if township is not None:
        vquery = vquery.where(Village.township == township)
    for v in session.scalars(vquery):
        villages.setdefault(v.township, []).append(
            schemas.VillageOut.model_validate(v, from_attributes=True)
        )
    return [
        schemas.PlaceOut(
            name=t.name, name_en=t.name_en, lat=t.lat, lon=t.lon, villages=villages.get(t.name, [])
        )
        for t in tows
    ]


def create_village(session: Session, body: schemas.VillageCreate) -> schemas.VillageOut:
    require_township(session, body.township)
    exists = session.scalar(
        select(Village.id).where(Village.township == body.township, Village.name == body.name)
    )
    if exists is not None:
        raise Conflict(DUPLICATE_PLACE, f"{body.name} exists already in {body.township}")
    village = Village(
        township=body.township, name=body.name, kind=body.kind.value, lat=body.lat, lon=body.lon
    )
    session.add(village)
    session.flush()
    return schemas.VillageOut.model_validate(village, from_attributes=True)


# --- units -----------------------------------------------------------------------------


def _unit_out(session: Session, unit: Unit) -> schemas.UnitOut:
    members = session.scalar(
        select(func.count()).where(Volunteer.unit_id == unit.id, Volunteer.active.is_(True))
    )
    return schemas.UnitOut(
        id=unit.id,
        kind=unit.kind,  # type: ignore[arg-type]
        name=unit.name,
        township=unit.township,
        village_id=unit.village_id,
        platform=unit.platform,  # type: ignore[arg-type]
        leader_id=unit.leader_id,
        active=unit.active,
        members=members or 0,
    )


def create_unit(session: Session, body: schemas.UnitCreate) -> schemas.UnitOut:
    require_township(session, body.township)
    if body.village_id is not None:
        require_village(session, body.village_id, body.township)
    if body.leader_id is not None:
        require_volunteer(session, body.leader_id, active=True)
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
    if body.leader_id is not None:
        # A leader belongs to the unit they lead.
        leader = session.get(Volunteer, body.leader_id)
        assert leader is not None
        if leader.unit_id is None:
            _move(session, leader, unit.id, note="leader of a new unit")
    return _unit_out(session, unit)


def require_unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("unit", unit_id)
    return unit


def get_unit(session: Session, unit_id: int) -> schemas.UnitOut:
    return _unit_out(session, require_unit(session, unit_id))


def list_units(
    session: Session, *, township: str | None, limit: int, offset: int
) -> schemas.Page[schemas.UnitOut]:
    query = select(Unit).order_by(Unit.id)
    if township is not None:
        query = query.where(Unit.township == township)
    total = total_rows(session, query)
    rows = session.scalars(query.limit(limit).offset(offset))
    return schemas.Page[schemas.UnitOut](
        items=[_unit_out(session, u) for u in rows], total=total, limit=limit, offset=offset
    )


def update_unit(session: Session, unit_id: int, body: schemas.UnitPatch) -> schemas.UnitOut:
    unit = require_unit(session, unit_id)
    if "leader_id" in body.model_fields_set:
        if body.leader_id is not None:
            require_volunteer(session, body.leader_id, active=True)
            leader = session.get(Volunteer, body.leader_id)
            assert leader is not None
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
    """The leader who receives a dispatch to this unit (422 when there is none to receive it)."""
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


# --- volunteers ------------------------------------------------------------------------


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
    return schemas.VolunteerOut(
        id=v.id,
        name=v.name,
        phone=mask_for_screen(v.phone) if masked else v.phone,
        township=v.township,
        village_id=v.village_id,
        lat=v.lat,
        lon=v.lon,
        skills=v.skills,
        trade=v.trade,
        platform=v.platform,  # type: ignore[arg-type]
        unit_id=v.unit_id,
        max_open_orders=v.max_open_orders,
        active=v.active,
        paused=v.paused,
        availability=[
            schemas.Window(weekday=w.weekday, start=_hhmm(w.start_minute), end=_hhmm(w.end_minute))
            for w in v.windows
        ],
        open_orders=v.open_orders,
        completed_orders=v.completed_orders,
        on_time_orders=v.on_time_orders,
        rated_orders=v.rated_orders,
        created_at=v.created_at,
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
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("volunteer", volunteer_id)
    return volunteer


def require_volunteer(session: Session, volunteer_id: int, *, active: bool = False) -> None:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise unknown("volunteer_id", volunteer_id)
    if active and not volunteer.active:
        raise Invalid(INACTIVE_VOLUNTEER, f"volunteer {volunteer_id} is not active")
    if active and volunteer.paused:
        raise Invalid(INACTIVE_VOLUNTEER, f"volunteer {volunteer_id} has paused")


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


def _move(session: Session, volunteer: Volunteer, unit_id: int | None, *, note: str | None) -> None:
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
    _move(session, volunteer, body.unit_id, note=body.note)
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


# --- dispatch policies -----------------------------------------------------------------


def policies(session: Session) -> list[schemas.PolicyOut]:
    rows = session.scalars(select(DispatchPolicyRow).order_by(DispatchPolicyRow.scope))
    return [schemas.PolicyOut.model_validate(r, from_attributes=True) for r in rows]


def set_policy(session: Session, scope: str, policy: DispatchPolicy) -> schemas.PolicyOut:
    """County-wide (``*``) or for one category; applies to orders submitted from now on."""
    if scope != COUNTY_SCOPE and session.get(Category, scope) is None:
        raise NotFound("category", scope)
    row = session.get(DispatchPolicyRow, scope)
    if row is None:
        row = DispatchPolicyRow(scope=scope, policy=policy.value, updated_at=utcnow())
        session.add(row)
    else:
        row.policy = policy.value
        row.updated_at = utcnow()
    session.flush()
    return schemas.PolicyOut.model_validate(row, from_attributes=True)


def policy_for(session: Session, category_code: str) -> DispatchPolicy:
    rows: dict[str, str] = {
        scope: policy
        for scope, policy in session.execute(
            select(DispatchPolicyRow.scope, DispatchPolicyRow.policy).where(
                DispatchPolicyRow.scope.in_([category_code, COUNTY_SCOPE])
            )
        )
    }
    return DispatchPolicy(rows.get(category_code) or rows.get(COUNTY_SCOPE) or "manual")


# --- ranking ---------------------------------------------------------------------------


def candidates(
    session: Session,
    order_id: int,
    *,
    matching: Matching,
    exclude: Sequence[int],
    limit: int,
    now: datetime,
) -> schemas.CandidatesOut:
    """Ranked volunteers and units for an order, each with the parts of its score."""
    conn = session.connection()
    target = target_for_order(conn, order_id)
    order = session.get(Order, order_id)
    if target is None or order is None:
        raise NotFound("order", order_id)
    # The declined and the timed-out are in the timeline; the caller passes them in.
    volunteers = rank_volunteers(
        conn, target, matching=matching, now=now, exclude=exclude, limit=limit
    )
    units = rank_units(conn, target, matching=matching, limit=min(limit, 10))
    policy = DispatchPolicy(order.dispatch_policy)
    return schemas.CandidatesOut(
        order_id=order_id,
        policy=policy,
        weights=asdict(matching.weights),
        preselected_volunteer_id=volunteers[0].volunteer_id
        if volunteers and policy != DispatchPolicy.MANUAL
        else None,
        excluded=sorted(exclude),
        volunteers=volunteers,
        units=units,
    )
