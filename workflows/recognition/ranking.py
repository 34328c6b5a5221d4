"""Honour rolls (评先选优): which period a run covers, and how volunteers and units rank.

Pure and deterministic (the workflow runs it): no I/O, no clock but the one passed in.

A score is the weighted sum of four parts, each in [0, 1]: verified hours (relative to the
period's most), the share of very-satisfied ratings after follow-up, the on-time completion
rate, and one minus the share of orders complained about. Only those with verified hours
in the period are ranked; ties go to more hours, then to the lower id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.service_hours import RollWeights as Weights
from workflows.recognition.messages import Figures, RankedEntry


def period_bounds(period: str, timezone: str) -> tuple[datetime, datetime]:
    """``2026-03`` (a month) or ``2026`` (a year), as ``[start, end)`` in county time."""
    zone = ZoneInfo(timezone)
    if len(period) == 4:
        year = int(period)
        return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
    year, month = (int(part) for part in period.split("-"))
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, end


def valid_period(period: str) -> bool:
    try:
        start, _ = period_bounds(period, "UTC")
    except ValueError:
        return False
    canonical = f"{start.year:04d}" if len(period) == 4 else f"{start.year:04d}-{start.month:02d}"
    return period == canonical and 2000 <= start.year <= 2200


def previous_period(now: datetime, kind: str, timezone: str) -> str:
    """The last complete month (``kind`` = ``month``) or year before ``now``, county time."""
    local = now.astimezone(ZoneInfo(timezone))
    if kind == "year":
        return f"{local.year - 1:04d}"
    last = local.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def rank(figures: list[Figures], weights: Weights, *, size: int) -> list[RankedEntry]:
    """The top ``size`` of those with verified hours, best first."""
    eligible = [f for f in figures if f.verified_hours > 0]
    most = max((f.verified_hours for f in eligible), default=0.0)
    scored: list[tuple[float, Figures]] = []
    for f in eligible:
        score = (
            weights.hours * (f.verified_hours / most)
            + weights.very_satisfied * (_share(f.very_satisfied, f.rated) or 0.0)
            + weights.on_time * (_share(f.on_time, f.orders) or 0.0)
            + weights.no_complaints * (1 - (_share(f.complaints, f.orders) or 0.0))
        )
        scored.append((round(score, 6), f))
    scored.sort(key=lambda sf: (-sf[0], -sf[1].verified_hours, sf[1].id))
    return [
        RankedEntry(
            rank=i,
            id=f.id,
            score=score,
            verified_hours=round(f.verified_hours, 2),
            very_satisfied_share=_share(f.very_satisfied, f.rated),
            on_time_rate=_share(f.on_time, f.orders),
            complaints=f.complaints,
        )
        for i, (score, f) in enumerate(scored[:size], start=1)
    ]
