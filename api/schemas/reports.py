"""Response bodies of the recognition and report routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

RatingCounts = dict[str, int]
Interval = Literal["day", "week", "month"]


class PeriodHours(BaseModel):
    """One month (``2026-03``) or year (``2026``) of a service record, by completion."""

    period: str
    verified_hours: float
    unverified_hours: float
    complained_hours: float
    orders: int


class RecordRatings(BaseModel):
    reviewed: RatingCounts = Field(description="As the resident rated on completion")
    verified: RatingCounts = Field(description="As the follow-up left it (reached residents)")


class Standing(BaseModel):
    """Where the volunteer stands on the latest published honour roll they are on."""

    period: str
    rank: int
    of: int
    score: float


class ServiceRecord(BaseModel):
    """A volunteer's or a unit's service record (志愿服务记录).

    Hours count once the follow-up verified the order (confirmed, or the rating corrected);
    complained-about and not yet verified hours are shown apart, never in ``verified_hours``.
    """

    subject: Literal["volunteer", "unit"]
    id: int
    name: str
    verified_hours: float
    unverified_hours: float
    complained_hours: float
    star_level: int | None = Field(description="0-5 (volunteers only): 100/300/600/1000/1500 h")
    next_star_hours: int | None
    hours_to_next_star: float | None
    orders_completed: int
    orders_verified: int
    orders_complained: int
    orders_unverified: int
    by_month: list[PeriodHours]
    by_year: list[PeriodHours]
    ratings: RecordRatings
    standing: Standing | None = None


class Durations(BaseModel):
    """Hours from receipt to a step: how many orders reached it, median and 90th percentile."""

    count: int
    median: float | None
    p90: float | None


class Breakdown(BaseModel):
    key: str
    received: int
    completed: int
    completed_on_time: int
    on_time_rate: float | None
    overdue: int
    escalated: int
    verified_hours: float


class SeriesPoint(BaseModel):
    start: str = Field(description="The bucket's first day, county time (YYYY-MM-DD)")
    received: int
    completed: int
    completed_on_time: int
    overdue: int


class Overview(BaseModel):
    """Every figure over the orders received in ``[from, to)`` that match the filters.

    ``on_time_rate`` = completed within 72 hours / completed; ``follow_up_rate`` = residents
    the follow-up reached / completed orders; ``ratings_reviewed`` is the form the resident
    filled in, ``ratings_verified`` the rating after the follow-up reached them.
    """

    since: datetime | None = Field(description="The query's ``from``")
    until: datetime | None = Field(description="The query's ``to``")
    filters: dict[str, str | int]
    received: int
    dispatched: int
    accepted: int
    completed: int
    completed_on_time: int
    on_time_rate: float | None
    overdue: int
    escalated: int
    cancelled: int
    open: int
    time_to_dispatch: Durations
    time_to_accept: Durations
    time_to_complete: Durations
    ratings_reviewed: RatingCounts
    ratings_verified: RatingCounts
    corrections: int
    follow_ups_done: int
    reached: int
    unreachable: int
    follow_up_rate: float | None
    complaints_opened: int
    complaints_resolved: int
    active_volunteers: int
    verified_hours: float
    by_township: list[Breakdown]
    by_category: list[Breakdown]
    interval: Interval
    series: list[SeriesPoint]


class CertificateCheck(BaseModel):
    """What a verification code proves, and nothing more."""

    name: str
    verified_hours: float
    period_from: str
    period_to: str
    issued_on: str


class RollEntry(BaseModel):
    rank: int
    id: int
    name: str
    score: float
    verified_hours: float
    very_satisfied_share: float | None
    on_time_rate: float | None
    complaints: int


class RollOut(BaseModel):
    period: str
    starts_at: datetime
    ends_at: datetime
    computed_at: datetime
    weights: dict[str, float]
    published_at: datetime | None
    volunteers: list[RollEntry]
    units: list[RollEntry]


class RollSummary(BaseModel):
    period: str
    computed_at: datetime
    published_at: datetime | None
    volunteers: int
    units: int


class RecentService(BaseModel):
    completed_on: str
    township: str
    category: str
    hours: float | None


class PublicTotals(BaseModel):
    """For publicity (媒体融合+文明实践): totals and recent services, no personal data."""

    orders_completed: int
    verified_hours: float
    volunteers_serving: int
    follow_up_rate: float | None
    satisfied_share: float | None
    recent: list[RecentService]


class MyStanding(BaseModel):
    verified_hours: float
    star_level: int
    hours_to_next_star: float | None
    standing: Standing | None
