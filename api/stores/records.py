"""Service records (志愿服务记录): a volunteer's or a unit's hours, stars and ratings.

Hours are the volunteer's report at completion (the app offers the check-in to check-out
span, ``proposed_hours``, as its default); they count as *verified* once the follow-up
verified the order, or when the app recorded both a check-in and a check-out
(``core.service_hours``). Months and years are the county's, by when the order was completed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from api.certificates import CertificateText
from api.schemas import reports as out
from api.stores import units, volunteers
from api.stores.errors import NO_VERIFIED_HOURS, Conflict, NotFound
from api.stores.rolls import published_newest_first
from core.models import Order, Volunteer
from core.security import (
    CertificateClaim,
    InvalidToken,
    Principal,
    certificate_code,
    read_certificate_code,
)
from core.service_hours import REACHED_OUTCOMES, HoursKind, hours_kind, next_star, star_level
from core.vocab import Rating


@dataclass(frozen=True)
class Served:
    """One completed order, as a service record reads it."""

    completed_at: datetime
    hours: float
    kind: HoursKind
    review_rating: str | None
    rating: str | None
    outcome: str | None


def served(session: Session, *where: ColumnElement[bool]) -> list[Served]:
    rows = session.execute(
        select(
            Order.completed_at,
            Order.hours,
            Order.review_rating,
            Order.rating,
            Order.follow_up_outcome.label("outcome"),
            Order.checked_in_at,
            Order.checked_out_at,
        )
        .where(Order.completed_at.is_not(None), *where)
        .order_by(Order.completed_at)
    )
    return [
        Served(
            completed_at=r.completed_at,
            hours=float(r.hours or 0),
            kind=hours_kind(
                r.outcome,
                checked_in_and_out=r.checked_in_at is not None and r.checked_out_at is not None,
            ),
            review_rating=r.review_rating,
            rating=r.rating,
            outcome=r.outcome,
        )
        for r in rows
    ]


def unit_members(unit_id: int) -> ColumnElement[bool]:
    """A unit's orders: dispatched to it, or served by one of its members."""
    members = select(Volunteer.id).where(Volunteer.unit_id == unit_id)
    return or_(Order.unit_id == unit_id, Order.volunteer_id.in_(members))


def volunteer_record(
    session: Session, volunteer_id: int, viewer: Principal, *, timezone: str
) -> out.ServiceRecord:
    """The volunteer's record, for themself or an admin of their township (else 404)."""
    volunteer = volunteers.in_reach(session, volunteer_id, viewer)
    record = build_record(
        served(session, Order.volunteer_id == volunteer_id),
        ZoneInfo(timezone),
        subject="volunteer",
        ident=volunteer_id,
        name=volunteer.name,
    )
    return record.model_copy(update={"standing": standing(session, volunteer_id)})


def unit_record(
    session: Session, unit_id: int, viewer: Principal, *, timezone: str
) -> out.ServiceRecord:
    """A unit's totals, for an admin of its township (else 404)."""
    unit = units.in_reach(session, unit_id, viewer)
    return build_record(
        served(session, unit_members(unit_id)),
        ZoneInfo(timezone),
        subject="unit",
        ident=unit_id,
        name=unit.name,
    )


def _sum(rows: Iterable[Served], kind: HoursKind) -> float:
    return round(sum(r.hours for r in rows if r.kind == kind), 2)


def _periods(rows: list[Served], key: Callable[[Served], str]) -> list[out.PeriodHours]:
    buckets: dict[str, list[Served]] = {}
    for row in rows:
        buckets.setdefault(key(row), []).append(row)
    return [
        out.PeriodHours(
            period=period,
            verified_hours=_sum(group, HoursKind.VERIFIED),
            unverified_hours=_sum(group, HoursKind.UNVERIFIED),
            complained_hours=_sum(group, HoursKind.COMPLAINED),
            orders=len(group),
        )
        for period, group in sorted(buckets.items())
    ]


def rating_counts(values: Iterable[str | None]) -> dict[str, int]:
    """Every grade, most satisfied first, zero where none."""
    counts = Counter(v for v in values if v is not None)
    return {r.value: counts[r.value] for r in Rating}


def build_record(
    rows: list[Served], zone: ZoneInfo, *, subject: str, ident: int, name: str
) -> out.ServiceRecord:
    verified = _sum(rows, HoursKind.VERIFIED)
    kinds = Counter(r.kind for r in rows)
    is_volunteer = subject == "volunteer"
    threshold, to_go = next_star(verified) if is_volunteer else (None, None)
    return out.ServiceRecord(
        subject="volunteer" if is_volunteer else "unit",
        id=ident,
        name=name,
        verified_hours=verified,
        unverified_hours=_sum(rows, HoursKind.UNVERIFIED),
        complained_hours=_sum(rows, HoursKind.COMPLAINED),
        star_level=star_level(verified) if is_volunteer else None,
        next_star_hours=threshold,
        hours_to_next_star=to_go,
        orders_completed=len(rows),
        orders_verified=kinds[HoursKind.VERIFIED],
        orders_complained=kinds[HoursKind.COMPLAINED],
        orders_unverified=kinds[HoursKind.UNVERIFIED],
        by_month=_periods(rows, lambda r: r.completed_at.astimezone(zone).strftime("%Y-%m")),
        by_year=_periods(rows, lambda r: r.completed_at.astimezone(zone).strftime("%Y")),
        ratings=out.RecordRatings(
            reviewed=rating_counts(r.review_rating for r in rows),
            verified=rating_counts(r.rating for r in rows if r.outcome in REACHED_OUTCOMES),
        ),
    )


def standing(session: Session, volunteer_id: int) -> out.Standing | None:
    """The volunteer's place on the latest published roll that ranks them."""
    rolls = session.scalars(published_newest_first().limit(24))
    for roll in rolls:
        for entry in roll.volunteers:
            if entry["id"] == volunteer_id:
                return out.Standing(
                    period=roll.period,
                    rank=int(entry["rank"]),
                    of=len(roll.volunteers),
                    score=float(entry["score"]),
                )
    return None


def certificate(
    session: Session,
    volunteer_id: int,
    viewer: Principal,
    *,
    timezone: str,
    secret: str,
    center: str,
    verify_base: str,
    today: date,
) -> CertificateText:
    """The certificate's text, its verification code signed over the verified hours."""
    volunteer = volunteers.in_reach(session, volunteer_id, viewer)
    zone = ZoneInfo(timezone)
    rows = [
        r
        for r in served(session, Order.volunteer_id == volunteer_id)
        if r.kind == HoursKind.VERIFIED
    ]
    if not rows:
        raise Conflict(NO_VERIFIED_HOURS, "no service hours have been verified by a follow-up yet")
    record = build_record(rows, zone, subject="volunteer", ident=volunteer_id, name=volunteer.name)
    claim = CertificateClaim(
        volunteer_id=volunteer_id,
        centi_hours=round(record.verified_hours * 100),
        period_from=rows[0].completed_at.astimezone(zone).date(),
        period_to=rows[-1].completed_at.astimezone(zone).date(),
        issued_on=today,
    )
    code = certificate_code(claim, secret=secret)
    return CertificateText(
        name=volunteer.name,
        verified_hours=record.verified_hours,
        star_level=record.star_level or 0,
        period_from=_chinese_date(claim.period_from),
        period_to=_chinese_date(claim.period_to),
        issued_on=_chinese_date(today),
        center=center,
        code=code,
        verify_url=f"{verify_base.rstrip('/')}/verify/{code}",
        years=[(y.period, y.verified_hours) for y in record.by_year],
    )


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def check_certificate(session: Session, code: str, *, secret: str) -> out.CertificateCheck:
    """What a code proves: the volunteer's name, hours and period; a forged code is 404."""
    try:
        claim = read_certificate_code(code, secret=secret)
    except InvalidToken as exc:
        raise NotFound("certificate", "code") from exc
    name = session.scalar(select(Volunteer.name).where(Volunteer.id == claim.volunteer_id))
    if name is None:
        raise NotFound("certificate", "code")
    return out.CertificateCheck(
        name=name,
        verified_hours=claim.centi_hours / 100,
        period_from=_chinese_date(claim.period_from),
        period_to=_chinese_date(claim.period_to),
        issued_on=_chinese_date(claim.issued_on),
    )
