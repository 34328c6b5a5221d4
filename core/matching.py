"""Who should take an order: "residence nearby, similar trade, right person for the post".

(居所相邻、行业相近、人岗相宜.) Every candidate gets four parts, each a number in [0, 1] an
admin can read, and a score that is their weighted sum:

- **proximity**: 1 in the order's village, ``SAME_TOWNSHIP`` in its township, else falling
  from ``NEARBY`` towards 0 with the squared distance, reaching 0 at ``radius_km``; 0 with no
  coordinates.
- **skill**: 1 for the order's catalog item, ``CATEGORY_SKILL`` for its category only.
- **trade**: 1 for a trade close to the category (行业相近), ``SAME_PLATFORM`` for the
  category's talent platform only.
- **fit**: free capacity (open orders against the maximum), availability now (weekly
  windows in the county's time zone; no windows means any time), on-time completion and
  ratings. The two rates are smoothed towards the middle so a newcomer is neither perfect
  nor failing.

The database computes the parts, filters and orders: ranking reads indexed rows and
returns the top few, never every volunteer into Python. Inactive, paused, full and
excluded (declined, passed over) volunteers are never proposed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Float,
    Table,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement, Label
from sqlalchemy.sql.selectable import Select

from core.match_settings import Matching, Weights
from core.models import (
    AvailabilityWindow,
    Category,
    CategoryTrade,
    Order,
    Township,
    Unit,
    Village,
    Volunteer,
    VolunteerSkill,
)
from core.vocab import RATING_POINTS, OrderStatus

# Orders that occupy a volunteer's capacity.
ASSIGNED_STATUSES = (OrderStatus.DISPATCHED, OrderStatus.ACCEPTED)

SAME_TOWNSHIP = 0.7
NEARBY = 0.6
CATEGORY_SKILL = 0.6
SAME_PLATFORM = 0.5
# Shares of the fit part.
FIT_CAPACITY, FIT_AVAILABLE, FIT_ON_TIME, FIT_RATING = 0.4, 0.2, 0.2, 0.2

KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_AT_EQUATOR = 111.320

volunteers: Table = Volunteer.__table__  # type: ignore[assignment]
skills: Table = VolunteerSkill.__table__  # type: ignore[assignment]
windows: Table = AvailabilityWindow.__table__  # type: ignore[assignment]
units: Table = Unit.__table__  # type: ignore[assignment]
villages: Table = Village.__table__  # type: ignore[assignment]
townships: Table = Township.__table__  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True)
class Target:
    """What an order asks for, and where."""

    item_code: str
    category_code: str
    township: str
    village_id: int | None = None
    lat: float | None = None
    lon: float | None = None
    platform: str | None = None
    trades: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One ranked volunteer, with the parts of its score."""

    volunteer_id: int
    name: str
    township: str
    village_id: int | None
    unit_id: int | None
    score: float
    proximity: float
    skill: float
    trade: float
    fit: float
    distance_km: float | None
    open_orders: int
    max_open_orders: int
    available_now: bool
    on_time_rate: float
    rating_score: float


@dataclass(frozen=True, kw_only=True)
class UnitCandidate:
    """One ranked team, station or institute; its leader receives the order."""

    unit_id: int
    kind: str
    name: str
    township: str
    leader_id: int
    score: float
    proximity: float
    skill: float
    trade: float
    fit: float
    distance_km: float | None
    members: int
    members_free: int


def target_for_order(conn: Connection, order_id: int) -> Target | None:
    """The order's item, category, place (village, else township, coordinates) and trades."""
    o = Order.__table__
    row = conn.execute(
        select(
            o.c.item_code,
            o.c.category_code,
            o.c.township,
            o.c.village_id,
            func.coalesce(villages.c.lat, townships.c.lat).label("lat"),
            func.coalesce(villages.c.lon, townships.c.lon).label("lon"),
            Category.__table__.c.platform,
        )
        .select_from(o)
        .join(townships, townships.c.name == o.c.township)
        .join(Category.__table__, Category.__table__.c.code == o.c.category_code)
        .outerjoin(villages, villages.c.id == o.c.village_id)
        .where(o.c.id == order_id)
    ).one_or_none()
    if row is None:
        return None
    trades = conn.scalars(
        select(CategoryTrade.trade_code).where(CategoryTrade.category_code == row.category_code)
    ).all()
    return Target(
        item_code=row.item_code,
        category_code=row.category_code,
        township=row.township,
        village_id=row.village_id,
        lat=row.lat,
        lon=row.lon,
        platform=row.platform,
        trades=tuple(sorted(trades)),
    )


def _squared_km(
    lat: ColumnElement[float], lon: ColumnElement[float], target: Target
) -> ColumnElement[float] | None:
    """Squared distance in km² on a local flat projection: exact enough within a county,
    and plain arithmetic every database has (no trigonometry in SQLite)."""
    if target.lat is None or target.lon is None:
        return None
    km_lon = KM_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(target.lat))
    dy = (lat - target.lat) * KM_PER_DEGREE_LAT
    dx = (lon - target.lon) * km_lon
    return dx * dx + dy * dy


def _proximity(
    village_id: ColumnElement[int | None],
    township: ColumnElement[str],
    d2: ColumnElement[float] | None,
    target: Target,
    radius_km: float,
) -> ColumnElement[float]:
    whens: list[tuple[ColumnElement[bool], object]] = []
    if target.village_id is not None:
        whens.append((village_id == target.village_id, 1.0))
    whens.append((township == target.township, SAME_TOWNSHIP))
    if d2 is not None:
        r2 = radius_km * radius_km
        whens.append((d2 < r2, NEARBY * (1.0 - d2 / r2)))
    return case(*whens, else_=0.0)


def _trade_match(
    trade_col: ColumnElement[str | None], platform_col: ColumnElement[str | None], target: Target
) -> ColumnElement[float]:
    whens: list[tuple[ColumnElement[bool], object]] = []
    if target.trades:
        whens.append((trade_col.in_(target.trades), 1.0))
    if target.platform is not None:
        whens.append((platform_col == target.platform, SAME_PLATFORM))
    return case(*whens, else_=0.0) if whens else literal(0.0, Float)


def _has_skill(volunteer_id: ColumnElement[int], code: str) -> ColumnElement[bool]:
    return exists().where(skills.c.volunteer_id == volunteer_id, skills.c.code == code)


def _local_slot(now: datetime, timezone: str) -> tuple[int, int]:
    local = now.astimezone(ZoneInfo(timezone))
    return local.weekday(), local.hour * 60 + local.minute


def _scored(
    w: Weights,
    *,
    proximity: ColumnElement[Any],
    skill: ColumnElement[Any],
    trade: ColumnElement[Any],
    fit: ColumnElement[Any],
    d2: ColumnElement[Any] | None,
) -> tuple[ColumnElement[Any], list[Label[Any]]]:
    """The weighted score, and it with its parts as the columns ``_score_parts`` reads."""
    score = w.proximity * proximity + w.skill * skill + w.trade * trade + w.fit * fit
    parts = [
        score.label("score"),
        proximity.label("proximity"),
        skill.label("skill"),
        trade.label("trade"),
        fit.label("fit"),
        (d2 if d2 is not None else cast(null(), Float)).label("d2"),
    ]
    return score, parts


def _best_first(
    query: Select[Any],
    score: ColumnElement[Any],
    key: ColumnElement[int],
    exclude: Collection[int],
    limit: int,
) -> Select[Any]:
    """The ``limit`` best rows by score (ties: the lower id), leaving out ``exclude``."""
    if exclude:
        query = query.where(key.not_in(list(exclude)))
    return query.order_by(score.desc(), key).limit(limit)


def rank_volunteers(
    conn: Connection,
    target: Target,
    *,
    matching: Matching,
    now: datetime,
    exclude: Collection[int] = (),
    limit: int = 10,
) -> list[Candidate]:
    """The best ``limit`` volunteers for ``target``, best first (ties: lower id first)."""
    v = volunteers
    w = matching.weights
    weekday, minute = _local_slot(now, matching.timezone)

    d2 = _squared_km(v.c.lat, v.c.lon, target)
    proximity = _proximity(v.c.village_id, v.c.township, d2, target, matching.radius_km)
    skill = case(
        (_has_skill(v.c.id, target.item_code), 1.0),
        (_has_skill(v.c.id, target.category_code), CATEGORY_SKILL),
        else_=0.0,
    )
    trade = _trade_match(v.c.trade, v.c.platform, target)
    any_window = exists().where(windows.c.volunteer_id == v.c.id)
    window_now = exists().where(
        windows.c.volunteer_id == v.c.id,
        windows.c.weekday == weekday,
        windows.c.start_minute <= minute,
        windows.c.end_minute > minute,
    )
    available = case((~any_window, 1.0), (window_now, 1.0), else_=0.0)
    capacity = 1.0 - cast(v.c.open_orders, Float) / v.c.max_open_orders
    on_time = (v.c.on_time_orders + 1.0) / (v.c.completed_orders + 2.0)
    rating = ((v.c.rating_points - v.c.rated_orders) / 3.0 + 1.0) / (v.c.rated_orders + 2.0)
    fit = (
        FIT_CAPACITY * capacity
        + FIT_AVAILABLE * available
        + FIT_ON_TIME * on_time
        + FIT_RATING * rating
    )
    score, scored = _scored(w, proximity=proximity, skill=skill, trade=trade, fit=fit, d2=d2)

    # Only rows some index can find: in the township, holding the skill, or inside the
    # radius's bounding box. Everyone else would score at most trade + fit.
    reachable: list[ColumnElement[bool]] = [
        v.c.township == target.township,
        exists().where(
            skills.c.volunteer_id == v.c.id,
            skills.c.code.in_((target.item_code, target.category_code)),
        ),
    ]
    if target.lat is not None and target.lon is not None:
        dlat = matching.radius_km / KM_PER_DEGREE_LAT
        dlon = matching.radius_km / (
            KM_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(target.lat))
        )
        reachable.append(
            and_(
                v.c.lat.between(target.lat - dlat, target.lat + dlat),
                v.c.lon.between(target.lon - dlon, target.lon + dlon),
            )
        )
    query = select(
        v.c.id,
        v.c.name,
        v.c.township,
        v.c.village_id,
        v.c.unit_id,
        v.c.open_orders,
        v.c.max_open_orders,
        *scored,
        available.label("available"),
        on_time.label("on_time"),
        rating.label("rating"),
    ).where(
        v.c.active.is_(True),
        v.c.paused.is_(False),
        v.c.open_orders < v.c.max_open_orders,
        or_(*reachable),
    )
    query = _best_first(query, score, v.c.id, exclude, limit)
    return [
        Candidate(
            volunteer_id=r.id,
            name=r.name,
            township=r.township,
            village_id=r.village_id,
            unit_id=r.unit_id,
            **_score_parts(r),
            open_orders=r.open_orders,
            max_open_orders=r.max_open_orders,
            available_now=bool(r.available),
            on_time_rate=round(float(r.on_time), 4),
            rating_score=round(float(r.rating), 4),
        )
        for r in conn.execute(query)
    ]


def _score_parts(row: Any) -> dict[str, Any]:
    """The score, its four parts and the distance of one ranked row, rounded for reading."""
    parts: dict[str, Any] = {
        name: round(float(getattr(row, name)), 4)
        for name in ("score", "proximity", "skill", "trade", "fit")
    }
    parts["distance_km"] = round(math.sqrt(row.d2), 2) if row.d2 is not None else None
    return parts


def rank_units(
    conn: Connection,
    target: Target,
    *,
    matching: Matching,
    exclude: Collection[int] = (),
    limit: int = 5,
) -> list[UnitCandidate]:
    """The best teams, stations and institutes: their place, their members' skills and room.

    Only units with an active, unpaused leader are proposed (the leader receives the order).
    """
    u, w = units, matching.weights
    leader = volunteers.alias("leader")
    member = volunteers.alias("member")
    member_skill = skills.alias("member_skill")
    lat = func.coalesce(villages.c.lat, townships.c.lat)
    lon = func.coalesce(villages.c.lon, townships.c.lon)
    d2 = _squared_km(lat, lon, target)
    proximity = _proximity(u.c.village_id, u.c.township, d2, target, matching.radius_km)

    def members(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
        return (
            select(func.count())
            .select_from(member)
            .where(member.c.unit_id == u.c.id, member.c.active.is_(True), *conditions)
            .scalar_subquery()
        )

    def member_with(code: str) -> ColumnElement[bool]:
        return exists().where(
            member.c.unit_id == u.c.id,
            member.c.active.is_(True),
            member_skill.c.volunteer_id == member.c.id,
            member_skill.c.code == code,
        )

    skill = case(
        (member_with(target.item_code), 1.0),
        (member_with(target.category_code), CATEGORY_SKILL),
        else_=0.0,
    )
    trade_whens: list[tuple[ColumnElement[bool], object]] = []
    if target.trades:
        trade_whens.append(
            (
                exists().where(
                    member.c.unit_id == u.c.id,
                    member.c.active.is_(True),
                    member.c.trade.in_(target.trades),
                ),
                1.0,
            )
        )
    if target.platform is not None:
        trade_whens.append((u.c.platform == target.platform, SAME_PLATFORM))
    trade = case(*trade_whens, else_=0.0) if trade_whens else literal(0.0, Float)
    total = members()
    free = members(member.c.paused.is_(False), member.c.open_orders < member.c.max_open_orders)
    fit = case((total > 0, cast(free, Float) / total), else_=0.0)
    score, scored = _scored(w, proximity=proximity, skill=skill, trade=trade, fit=fit, d2=d2)
    query = (
        select(
            u.c.id,
            u.c.kind,
            u.c.name,
            u.c.township,
            u.c.leader_id,
            *scored,
            total.label("members"),
            free.label("free"),
        )
        .select_from(u)
        .join(townships, townships.c.name == u.c.township)
        .outerjoin(villages, villages.c.id == u.c.village_id)
        .join(leader, leader.c.id == u.c.leader_id)
        .where(u.c.active.is_(True), leader.c.active.is_(True), leader.c.paused.is_(False))
    )
    query = _best_first(query, score, u.c.id, exclude, limit)
    return [
        UnitCandidate(
            unit_id=r.id,
            kind=r.kind,
            name=r.name,
            township=r.township,
            leader_id=r.leader_id,
            **_score_parts(r),
            members=r.members,
            members_free=r.free,
        )
        for r in conn.execute(query)
    ]


def lock_volunteers(conn: Connection, volunteer_ids: Collection[int]) -> None:
    """Lock these volunteers' rows against each other's counter refreshes, in id order.

    ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: every write to an order that names a volunteer
    takes a ``KEY SHARE`` lock on that volunteer through the foreign key, and ``FOR UPDATE``
    waits for those. Two transitions for one volunteer, each holding its key-share lock and
    asking for the other's row lock, deadlocked. ``NO KEY UPDATE`` (what an update of
    non-key columns takes anyway) does not conflict with key-share locks, and among
    themselves the locks are taken in one order, so no two transactions wait in a cycle.
    """
    if volunteer_ids:
        conn.execute(
            select(volunteers.c.id)
            .where(volunteers.c.id.in_(sorted(set(volunteer_ids))))
            .order_by(volunteers.c.id)
            .with_for_update(key_share=True)
        )


def refresh_volunteer_stats(conn: Connection, volunteer_ids: Collection[int]) -> None:
    """Recompute the ranking counters of these volunteers from their orders.

    Recomputing from the orders (not incrementing) keeps this idempotent: an activity that
    runs twice writes the same numbers. The rows are locked first, so the UPDATE below starts
    after any concurrent change to these volunteers' orders committed, and counts it.
    """
    if not volunteer_ids:
        return
    ids = sorted(set(volunteer_ids))
    lock_volunteers(conn, ids)
    conn.execute(_recount_statement(), {"ids": ids})


@functools.cache
def _recount_statement() -> Update:
    # Built once: constructing it (five subqueries) cost more than running it.
    return (
        update(volunteers)
        .where(volunteers.c.id.in_(bindparam("ids", expanding=True)))
        .values(_recounted())
    )


def _recounted() -> dict[str, ColumnElement[int]]:
    """Each ranking counter of a volunteer, counted afresh from their orders."""
    o = Order.__table__
    mine = o.c.volunteer_id == volunteers.c.id

    def count(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
        return select(func.count()).where(mine, *conditions).scalar_subquery()

    points = case(*((o.c.rating == r.value, p) for r, p in RATING_POINTS.items()), else_=0)
    return {
        "open_orders": count(o.c.status.in_([s.value for s in ASSIGNED_STATUSES])),
        "completed_orders": count(o.c.completed_at.is_not(None)),
        "on_time_orders": count(o.c.completed_at <= o.c.deadline_at),
        "rated_orders": count(o.c.rating.is_not(None)),
        "rating_points": select(func.coalesce(func.sum(points), 0)).where(mine).scalar_subquery(),
    }


def counter_drift(conn: Connection, volunteer_ids: Collection[int]) -> list[str]:
    """Every stored counter of these volunteers that differs from a recount (empty: exact)."""
    recount = _recounted()
    query = select(volunteers.c.id, *(volunteers.c[name] for name in recount), *recount.values())
    drift: list[str] = []
    for row in conn.execute(query.where(volunteers.c.id.in_(sorted(set(volunteer_ids))))):
        stored, counted = row[1 : 1 + len(recount)], row[1 + len(recount) :]
        drift.extend(
            f"volunteer {row[0]}: {name} is {have}, recounted {want}"
            for name, have, want in zip(recount, stored, counted, strict=True)
            if have != want
        )
    return drift
