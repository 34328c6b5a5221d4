"""The follow-up report: the article's 100% follow-up, made measurable."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import ColumnElement, Float, cast, func, select
from sqlalchemy.orm import Session

from api import schemas
from api.stores.access import in_scope
from api.stores.errors import INVALID_PERIOD, Invalid
from api.stores.references import require_township
from core.models import FollowUp, Order
from core.security import Principal
from core.vocab import FollowUpOutcome, FollowUpStatus, OrderStatus, SettledBy

# Orders that were completed and not cancelled: what the follow-up promise covers.
_COMPLETED_STATUSES = (OrderStatus.COMPLETED, OrderStatus.REVIEWED, OrderStatus.CLOSED)


def follow_up_report(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    township: str | None = None,
    viewer: Principal | None = None,
) -> schemas.FollowUpReport:
    """The follow-up figures over orders completed in ``[since, until)`` (either open-ended).

    Counts come from one grouped aggregate (a handful of rows whatever the volume); the
    hours from completion to follow-up are aggregated by PostgreSQL (``percentile_cont``)
    and, on SQLite, computed the same way (linear interpolation) from the rows.
    """
    if since is not None and until is not None and since >= until:
        raise Invalid(INVALID_PERIOD, "since must be before until")
    if township is not None:
        require_township(session, township)
    completed: list[ColumnElement[bool]] = [
        Order.status.in_([s.value for s in _COMPLETED_STATUSES]),
        Order.completed_at.is_not(None),
    ]
    if since is not None:
        completed.append(Order.completed_at >= since)
    if until is not None:
        completed.append(Order.completed_at < until)
    if township is not None:
        completed.append(Order.township == township)
    if viewer is not None:
        # A township admin's figures are their townships'.
        completed.append(in_scope(viewer))

    keys = (
        FollowUp.status,
        FollowUp.outcome,
        FollowUp.method,
        FollowUp.settled_by,
        FollowUp.queue_reason,
        FollowUp.call_attempts,
    )
    groups = session.execute(
        select(*keys, func.count())
        .select_from(Order)
        .outerjoin(FollowUp, FollowUp.order_id == Order.id)
        .where(*completed)
        .group_by(*keys)
    ).all()

    orders_completed = done = unreachable = 0
    pending: Counter[str] = Counter({"calling": 0, "open": 0, "not_opened": 0})
    settled: Counter[str] = Counter()
    attempts: Counter[int] = Counter()
    methods: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for status, outcome, method, settled_by, reason, calls, n in groups:
        orders_completed += n
        if reason is not None:
            reasons[reason] += n
        if status != FollowUpStatus.DONE:
            pending[status or "not_opened"] += n
            continue
        done += n
        if outcome == FollowUpOutcome.UNREACHABLE:
            unreachable += n
        if outcome is not None:
            outcomes[outcome] += n
        if method is not None:
            methods[method] += n
        if settled_by is not None:
            settled[settled_by] += n
        attempts[calls or 0] += n

    reached = done - unreachable
    return schemas.FollowUpReport(
        since=since,
        until=until,
        township=township,
        completed_orders=orders_completed,
        follow_ups_done=done,
        reached=reached,
        unreachable=unreachable,
        pending=orders_completed - done,
        pending_by_status=dict(pending),
        follow_up_rate=reached / orders_completed if orders_completed else None,
        automated_share=settled[SettledBy.AUTOMATED_CALL] / done if done else None,
        settled_by=dict(sorted(settled.items())),
        attempts_mean=sum(k * n for k, n in attempts.items()) / done if done else None,
        attempts_distribution=dict(sorted(attempts.items())),
        hours_to_follow_up=_hours_to_follow_up(session, completed),
        by_method=dict(sorted(methods.items())),
        by_outcome=dict(sorted(outcomes.items())),
        by_queue_reason=dict(sorted(reasons.items())),
    )


def _hours_to_follow_up(
    session: Session, completed: list[ColumnElement[bool]]
) -> schemas.HoursStats:
    done = select().select_from(Order).join(FollowUp, FollowUp.order_id == Order.id)
    done = done.where(
        *completed, FollowUp.status == FollowUpStatus.DONE.value, FollowUp.done_at.is_not(None)
    )
    if session.get_bind().dialect.name == "postgresql":
        hours = cast(func.extract("epoch", FollowUp.done_at - Order.completed_at), Float) / 3600
        n, mean, p50, p90 = session.execute(
            done.add_columns(
                func.count(),
                func.avg(hours),
                func.percentile_cont(0.5).within_group(hours),
                func.percentile_cont(0.9).within_group(hours),
            )
        ).one()
        return schemas.HoursStats(count=n, mean=mean, p50=p50, p90=p90)
    # SQLite has no percentile aggregate (and only text timestamps): compute from the rows.
    values = sorted(
        (done_at - completed_at).total_seconds() / 3600
        for completed_at, done_at in session.execute(
            done.add_columns(Order.completed_at, FollowUp.done_at)
        )
    )
    if not values:
        return schemas.HoursStats(count=0, mean=None, p50=None, p90=None)
    return schemas.HoursStats(
        count=len(values),
        mean=sum(values) / len(values),
        p50=percentile(values, 0.5),
        p90=percentile(values, 0.9),
    )


def percentile(ordered: list[float], fraction: float) -> float:
    """PostgreSQL's ``percentile_cont``: linear interpolation between the closest ranks."""
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
