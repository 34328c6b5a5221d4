"""The county's overview report: every figure from the event log and the follow-up records.

The period selects orders by when they were received (``submitted_at`` in ``[from, to)``),
and every figure describes those orders: how many were dispatched, accepted, completed
(within 72 hours or not), how their residents rated them and what the follow-up found.
Times to dispatch and accept come from the event log (projected on the order as
``dispatched_at``/``accepted_at``). A township admin's figures are their townships'.

Each scan reads ``orders`` alone (the follow-up's outcome and its complaint's status are on
the order row, migration 0008): one grouped by township and category gives the counts
(summed here), one the series by bucket (on PostgreSQL found by its number among the
buckets' starts), one the time percentiles and the active volunteers. On PostgreSQL the
percentiles and buckets are SQL; SQLite (``make run``) computes them from the rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    DateTime,
    Float,
    Integer,
    bindparam,
    case,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from api.schemas import reports as out
from api.stores import figures
from api.stores.access import in_scope
from api.stores.errors import INVALID_PERIOD, Invalid
from api.stores.figures import ESCALATED, OVERDUE, STILL_OPEN
from api.stores.records import unit_members
from api.stores.references import require_township, require_unit
from api.stores.reports import percentile
from core.models import Category, Order
from core.security import Principal
from core.service_hours_sql import COMPLETED, ON_TIME, REACHED, VERIFIED_HOURS, count_if
from core.vocab import (
    FollowUpOutcome,
    OrderStatus,
    Rating,
)


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    township: str | None = None
    category: str | None = None
    channel: str | None = None
    platform: str | None = None
    unit: int | None = None
    interval: out.Interval = "month"
    timezone: str = "Asia/Shanghai"
    viewer: Principal | None = None

    def named(self) -> dict[str, str | int]:
        values = {
            "township": self.township,
            "category": self.category,
            "channel": self.channel,
            "platform": self.platform,
            "unit": self.unit,
        }
        return {k: v for k, v in values.items() if v is not None}


def cohort(session: Session, f: Filters) -> list[ColumnElement[bool]]:
    """The orders the filters select, as SQL conditions (the export uses them too)."""
    if f.since is not None and f.until is not None and f.since >= f.until:
        raise Invalid(INVALID_PERIOD, "from must be before to")
    where: list[ColumnElement[bool]] = []
    if f.since is not None:
        where.append(Order.submitted_at >= f.since)
    if f.until is not None:
        where.append(Order.submitted_at < f.until)
    if f.township is not None:
        require_township(session, f.township)
        where.append(Order.township == f.township)
    if f.category is not None:
        where.append(Order.category_code == f.category)
    if f.channel is not None:
        where.append(Order.channel == f.channel)
    if f.platform is not None:
        codes = select(Category.code).where(Category.platform == f.platform)
        where.append(Order.category_code.in_(codes))
    if f.unit is not None:
        require_unit(session, f.unit)
        where.append(unit_members(f.unit))
    if f.viewer is not None:
        where.append(in_scope(f.viewer))
    return where


_count = count_if
# The figures summed over groups, in the order ``_Tally`` reads them.
FIGURES: dict[str, Any] = {
    "received": func.count(),
    "dispatched": func.count(Order.dispatched_at),
    "accepted": func.count(Order.accepted_at),
    "completed": _count(COMPLETED),
    "completed_on_time": _count(ON_TIME),
    "overdue": _count(OVERDUE),
    "escalated": _count(ESCALATED),
    "cancelled": _count(Order.status == OrderStatus.CANCELLED.value),
    "open": _count(STILL_OPEN),
    # A follow-up has its outcome exactly when it is done.
    "follow_ups_done": _count(COMPLETED & Order.follow_up_outcome.is_not(None)),
    "reached": _count(COMPLETED & REACHED),
    "unreachable": _count(
        COMPLETED & (Order.follow_up_outcome == FollowUpOutcome.UNREACHABLE.value)
    ),
    "corrections": _count(Order.follow_up_outcome == FollowUpOutcome.RATING_CORRECTED.value),
    "verified_hours": VERIFIED_HOURS,
    # The rating distributions: as the resident rated, and as the follow-up left it.
    **{f"reviewed:{r.value}": _count(Order.review_rating == r.value) for r in Rating},
    **{f"verified:{r.value}": _count(REACHED & (Order.rating == r.value)) for r in Rating},
}
BREAKDOWN = ("received", "completed", "completed_on_time", "overdue", "escalated")
SERIES = ("received", "completed", "completed_on_time", "overdue")


@dataclass
class _Tally:
    figures: Counter[str] = field(default_factory=Counter)
    hours: float = 0.0

    def add(self, row: dict[str, Any]) -> None:
        for name in FIGURES:
            if name == "verified_hours":
                self.hours += float(row[name] or 0)
            else:
                self.figures[name] += int(row[name] or 0)

    def breakdown(self, key: str) -> out.Breakdown:
        f = self.figures
        return out.Breakdown(
            key=key,
            **{name: f[name] for name in BREAKDOWN},
            on_time_rate=_rate(f["completed_on_time"], f["completed"]),
            verified_hours=round(self.hours, 2),
        )


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def tune_for_reports(session: Session) -> None:
    """On PostgreSQL, for this transaction only: sort the percentiles in memory, not on disk,
    and skip JIT compilation (it costs more than it saves on a query run once)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))


def overview(session: Session, f: Filters) -> out.Overview:
    where = cohort(session, f)
    tune_for_reports(session)
    # The breakdowns and the series are two scans, not one grouped by both: the planner
    # cannot tell how many buckets a ``width_bucket`` of a parameter yields, assumes a group
    # per row, and then neither splits the work between its workers nor hashes. Apart, the
    # breakdowns' few hundred groups are summed in parallel (a county's year of a million
    # orders: 2.1 s together, 0.7 s + 0.5 s apart).
    keys = (Order.township, Order.category_code)
    groups = session.execute(
        select(*keys, *(v.label(k) for k, v in FIGURES.items()))
        .select_from(Order)
        .where(*where)
        .group_by(*keys)
    ).mappings()
    total = _Tally()
    townships: defaultdict[str, _Tally] = defaultdict(_Tally)
    categories: defaultdict[str, _Tally] = defaultdict(_Tally)
    for row in groups:
        values = dict(row)
        for tally in (total, townships[row["township"]], categories[row["category_code"]]):
            tally.add(values)
    buckets = _series(session, where, f)
    t = total.figures
    durations, active = _durations(session, where)
    complained, resolved = figures.complaints(session, where)
    return out.Overview(
        since=f.since,
        until=f.until,
        filters=f.named(),
        received=t["received"],
        dispatched=t["dispatched"],
        accepted=t["accepted"],
        completed=t["completed"],
        completed_on_time=t["completed_on_time"],
        on_time_rate=_rate(t["completed_on_time"], t["completed"]),
        overdue=t["overdue"],
        escalated=t["escalated"],
        cancelled=t["cancelled"],
        open=t["open"],
        time_to_dispatch=durations["time_to_dispatch"],
        time_to_accept=durations["time_to_accept"],
        time_to_complete=durations["time_to_complete"],
        ratings_reviewed={r.value: t[f"reviewed:{r.value}"] for r in Rating},
        ratings_verified={r.value: t[f"verified:{r.value}"] for r in Rating},
        corrections=t["corrections"],
        follow_ups_done=t["follow_ups_done"],
        reached=t["reached"],
        unreachable=t["unreachable"],
        follow_up_rate=_rate(t["reached"], t["completed"]),
        complaints_opened=complained,
        complaints_resolved=resolved,
        active_volunteers=active,
        verified_hours=round(total.hours, 2),
        by_township=[townships[k].breakdown(k) for k in sorted(townships)],
        by_category=[categories[k].breakdown(k) for k in sorted(categories)],
        interval=f.interval,
        series=[
            out.SeriesPoint(start=start, **{k: c[k] for k in SERIES})
            for start, c in sorted(buckets.items())
        ],
    )


STEPS = {
    "time_to_dispatch": Order.dispatched_at,
    "time_to_accept": Order.accepted_at,
    "time_to_complete": Order.completed_at,
}


def _durations(
    session: Session, where: list[ColumnElement[bool]]
) -> tuple[dict[str, out.Durations], int]:
    """Each step's count, median and p90 hours, and the volunteers who completed an order."""
    if session.get_bind().dialect.name == "postgresql":
        served = case((COMPLETED, Order.volunteer_id), else_=None)
        columns: list[Any] = [func.count(func.distinct(served))]
        for step in STEPS.values():
            # date_part, not extract: extract builds a numeric for each of a million rows,
            # which cost more than the three sorts together.
            hours = func.date_part("epoch", step - Order.submitted_at, type_=Float) / 3600
            columns += [
                func.count(step),
                func.percentile_cont(0.5).within_group(hours),
                func.percentile_cont(0.9).within_group(hours),
            ]
        active, *row = session.execute(select(*columns).where(*where)).one()
        return {
            name: out.Durations(count=row[3 * i], median=row[3 * i + 1], p90=row[3 * i + 2])
            for i, name in enumerate(STEPS)
        }, active
    # SQLite has no percentile aggregate (and only text timestamps): compute from the rows.
    rows: list[Any] = list(
        session.execute(
            select(Order.submitted_at, *STEPS.values(), Order.volunteer_id).where(*where)
        )
    )
    result: dict[str, out.Durations] = {}
    for i, name in enumerate(STEPS, start=1):
        values = sorted((r[i] - r[0]).total_seconds() / 3600 for r in rows if r[i] is not None)
        result[name] = out.Durations(
            count=len(values),
            median=percentile(values, 0.5) if values else None,
            p90=percentile(values, 0.9) if values else None,
        )
    active = {r.volunteer_id for r in rows if r.completed_at is not None and r.volunteer_id}
    return result, len(active)


def _starts(session: Session, f: Filters) -> list[datetime]:
    """The instants the series' buckets start, in order, from the one holding the period's
    first order to the end of the one holding its last (the end closes the last bucket)."""
    first, last = f.since, f.until
    if first is None or last is None:
        known = session.execute(select(func.min(Order.submitted_at), func.max(Order.submitted_at)))
        low, high = known.one()
        first, last = first or low, last or high
    if first is None or last is None:  # no orders at all
        return []
    zone = ZoneInfo(f.timezone)
    day = date.fromisoformat(_bucket(first.astimezone(zone), f.interval))
    starts = [datetime.combine(day, time(), zone)]
    while starts[-1] <= last:
        day = _next(day, f.interval)
        starts.append(datetime.combine(day, time(), zone))
    return starts


def _next(day: date, interval: str) -> date:
    if interval == "day":
        return day + timedelta(days=1)
    if interval == "week":
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _series(
    session: Session, where: list[ColumnElement[bool]], f: Filters
) -> defaultdict[str, Counter[str]]:
    """The series' counts by bucket (its start, a local date)."""
    if session.get_bind().dialect.name == "postgresql":
        zone = ZoneInfo(f.timezone)
        buckets: defaultdict[str, Counter[str]] = defaultdict(Counter)
        # The bucket's number among its starts (a binary search per row), not date_trunc of
        # the local time: converting a million timestamps to the county's zone cost more
        # than the rest of the scan.
        starts = _starts(session, f)
        bounds = cast(bindparam("starts", starts), ARRAY(DateTime(timezone=True)))
        number = func.width_bucket(Order.submitted_at, bounds)
        rows = session.execute(
            select(number, func.count(), *(FIGURES[k] for k in SERIES[1:]))
            .where(*where)
            .group_by(number)
        )
        for n, *counts in rows:
            start = starts[n - 1].astimezone(zone).date().isoformat()
            buckets[start].update(dict(zip(SERIES, counts, strict=True)))
        return buckets
    return _buckets(session, where, f)


def _buckets(
    session: Session, where: list[ColumnElement[bool]], f: Filters
) -> defaultdict[str, Counter[str]]:
    """The series' counts by bucket, from the rows (SQLite: no time zones in SQL)."""
    zone = ZoneInfo(f.timezone)
    buckets: defaultdict[str, Counter[str]] = defaultdict(Counter)
    flags = (cast(COMPLETED, Integer), cast(ON_TIME, Integer), cast(Order.overdue, Integer))
    for submitted, *marks in session.execute(select(Order.submitted_at, *flags).where(*where)):
        start = _bucket(submitted.astimezone(zone), f.interval)
        buckets[start].update(dict(zip(SERIES, (1, *map(int, marks)), strict=True)))
    return buckets


def _bucket(local: datetime, interval: str) -> str:
    day = local.date()
    if interval == "week":
        day -= timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    return day.isoformat()
