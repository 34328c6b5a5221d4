"""Ranking on hand-built registries: the ordering the county expects, pinned."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from api import schemas
from api.database import Database
from api.stores import candidates, orders
from api.stores.units import create_unit
from core.match_settings import Matching, Weights
from core.matching import Candidate, refresh_volunteer_stats
from core.models import Order
from core.vocab import OrderStatus, UnitKind
from tests.helpers import COUNTY_ADMIN, RESIDENT, Registry, order_body, staff_ref

# A Monday, 10:00 in the county (UTC+8).
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
# A township centre and one 80 km east (outside the default 30 km radius), one 10 km east.
LAT, LON = 28.15, 109.20
KM_EAST = 1 / (111.32 * 0.8817)  # degrees of longitude per km at 28.15°N


@pytest.fixture
async def reg(each_database: Database) -> AsyncIterator[Registry]:
    built = Registry(each_database)
    yield built
    await built.retire()


async def order_in(
    each_database: Database, township: str, item: str, village: int | None = None
) -> int:
    submitted = await each_database.run(
        orders.create_order,
        order_body(township, item, village_id=village),
        RESIDENT,
        idempotency_key=None,
        completion_sla=timedelta(hours=72),
    )
    return submitted.order_id


async def ranked(
    each_database: Database,
    order_id: int,
    *,
    matching: Matching | None = None,
    exclude: tuple[int, ...] | list[int] = (),
) -> list[Candidate]:
    out = await each_database.run(
        lambda session: candidates.candidates(
            session,
            staff_ref(session, order_id),
            matching=matching or Matching(),
            exclude=list(exclude),
            limit=20,
            now=NOW,
        )
    )
    return out.volunteers


def ids(cands: list[Candidate]) -> list[int]:
    return [c.volunteer_id for c in cands]


async def test_nearby_generalist_beats_distant_specialist_until_skill_weighs_more(
    each_database: Database, reg: Registry
) -> None:
    home = await reg.township(lat=LAT, lon=LON)
    far = await reg.township(lat=LAT, lon=LON + 80 * KM_EAST)
    village = await reg.village(home, lat=LAT, lon=LON)
    generalist = await reg.volunteer(home, village_id=village, skills=["legal"])
    specialist = await reg.volunteer(far, skills=["legal.mediation"], trade="law")
    order = await order_in(each_database, home, "legal.mediation", village)

    default = await ranked(each_database, order)
    assert ids(default)[:2] == [generalist, specialist]
    top = default[0]
    assert (top.proximity, top.skill) == (1.0, 0.6)
    far_one = default[1]
    assert (far_one.proximity, far_one.skill, far_one.trade) == (0.0, 1.0, 1.0)
    assert far_one.distance_km == pytest.approx(80, abs=1)
    # Each part is shown, and the score is their weighted sum.
    w = Weights()
    for c in default[:2]:
        assert c.score == pytest.approx(
            w.proximity * c.proximity + w.skill * c.skill + w.trade * c.trade + w.fit * c.fit,
            abs=1e-3,
        )

    skill_first = Matching(weights=Weights(proximity=0.1, skill=0.6, trade=0.2, fit=0.1))
    assert ids(await ranked(each_database, order, matching=skill_first))[:2] == [
        specialist,
        generalist,
    ]


async def test_proximity_same_village_then_township_then_distance_then_elsewhere(
    each_database: Database, reg: Registry
) -> None:
    home = await reg.township(lat=LAT, lon=LON)
    near = await reg.township(lat=LAT, lon=LON + 10 * KM_EAST)
    far = await reg.township(lat=LAT, lon=LON + 80 * KM_EAST)
    village = await reg.village(home, lat=LAT, lon=LON)
    other_village = await reg.village(home, lat=LAT + 0.01, lon=LON)
    skill = {"skills": ["care"]}
    in_village = await reg.volunteer(home, village_id=village, **skill)
    in_township = await reg.volunteer(home, village_id=other_village, **skill)
    nearby = await reg.volunteer(near, **skill)
    elsewhere = await reg.volunteer(far, **skill)
    order = await order_in(each_database, home, "care.errands", village)

    result = {c.volunteer_id: c for c in await ranked(each_database, order)}
    assert [result[v].proximity for v in (in_village, in_township)] == [1.0, 0.7]
    assert 0.3 < result[nearby].proximity < 0.6
    assert result[nearby].distance_km == pytest.approx(10, abs=0.5)
    assert result[elsewhere].proximity == 0.0
    order_seen = [v for v in ids(await ranked(each_database, order)) if v in result]
    assert order_seen.index(in_village) < order_seen.index(in_township)
    assert order_seen.index(in_township) < order_seen.index(nearby)
    assert order_seen.index(nearby) < order_seen.index(elsewhere)


async def test_inactive_paused_full_and_declined_volunteers_are_never_proposed(
    each_database: Database, reg: Registry
) -> None:
    home = await reg.township(lat=LAT, lon=LON)
    fine = await reg.volunteer(home, skills=["care.errands"])
    paused = await reg.volunteer(home, skills=["care.errands"])
    gone = await reg.volunteer(home, skills=["care.errands"])
    declined = await reg.volunteer(home, skills=["care.errands"])
    expert = await reg.volunteer(home, skills=["care.errands"], max_open_orders=1)
    await reg.patch(paused, paused=True)
    await reg.patch(gone, active=False)
    # The overloaded expert holds one open order, their maximum.
    busy = await order_in(each_database, home, "care.disability")
    await each_database.run(_hold, busy, expert)
    order = await order_in(each_database, home, "care.errands")

    proposed = ids(await ranked(each_database, order, exclude=[declined]))
    assert fine in proposed
    assert not {paused, gone, declined, expert} & set(proposed)
    await reg.patch(expert, max_open_orders=2)
    again = {c.volunteer_id: c for c in await ranked(each_database, order, exclude=[declined])}
    assert again[expert].open_orders == 1
    # Half their capacity is taken: the capacity share of fit drops, nothing else differs.
    assert again[expert].fit < again[fine].fit


def _hold(session: Session, order_id: int, volunteer_id: int) -> None:
    session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(volunteer_id=volunteer_id, status=OrderStatus.ACCEPTED.value)
    )
    refresh_volunteer_stats(session.connection(), [volunteer_id])


async def test_availability_and_track_record_are_part_of_fit(
    each_database: Database, reg: Registry
) -> None:
    home = await reg.township(lat=LAT, lon=LON)
    skills = {"skills": ["care.errands"]}
    now_free = await reg.volunteer(
        home, availability=[{"weekday": 0, "start": "08:00", "end": "12:00"}], **skills
    )
    wednesdays = await reg.volunteer(
        home, availability=[{"weekday": 2, "start": "08:00", "end": "12:00"}], **skills
    )
    proven = await reg.volunteer(home, **skills)
    # ``proven`` finished an order on time and got "very satisfied".
    past = await order_in(each_database, home, "care.disability")
    await each_database.run(_finish, past, proven)
    order = await order_in(each_database, home, "care.errands")

    result = {c.volunteer_id: c for c in await ranked(each_database, order)}
    assert result[now_free].available_now and not result[wednesdays].available_now
    assert result[now_free].fit > result[wednesdays].fit
    assert result[proven].on_time_rate > result[now_free].on_time_rate
    assert result[proven].rating_score > result[now_free].rating_score
    assert ids(await ranked(each_database, order))[:1] == [proven]


def _finish(session: Session, order_id: int, volunteer_id: int) -> None:
    session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(
            volunteer_id=volunteer_id,
            status=OrderStatus.CLOSED.value,
            completed_at=Order.submitted_at,
            rating="very_satisfied",
        )
    )
    refresh_volunteer_stats(session.connection(), [volunteer_id])


async def test_units_rank_by_place_and_members_and_need_a_leader(
    each_database: Database, reg: Registry
) -> None:
    home = await reg.township(lat=LAT, lon=LON)
    leader = await reg.volunteer(home)
    member = await reg.volunteer(home, skills=["legal.mediation"])
    team = await reg.unit(home, leader=leader, members=[member])
    leaderless = await each_database.run(
        create_unit,
        schemas.UnitCreate(kind=UnitKind.STATION, name=f"无人站-{team}", township=home),
        COUNTY_ADMIN,
    )
    order = await order_in(each_database, home, "legal.mediation")

    out = await each_database.run(
        lambda session: candidates.candidates(
            session, staff_ref(session, order), matching=Matching(), exclude=[], limit=10, now=NOW
        )
    )
    units = {u.unit_id: u for u in out.units}
    assert team in units and leaderless.id not in units
    assert units[team].leader_id == leader
    assert (units[team].proximity, units[team].skill, units[team].members) == (0.7, 1.0, 2)
