"""The loop's figures for Prometheus (``api/metrics.py``), read from the read model.

A handful of grouped aggregates over indexed columns, run at most every ``METRICS_REFRESH``
whatever the number of scrapes: open orders (``ix_orders_status_submitted_at``), orders
without a workflow (``ix_orders_unstarted``), the staff queue (``ix_follow_ups_queue``), and
running totals (follow-ups done, first escalations, the volunteers' completion counters).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.models import Escalation, FollowUp, Order, Volunteer
from core.vocab import FINAL_STATUSES, OPEN_STATUSES, FollowUpStatus, OrderStatus

# An order's projection lags when the read model has not caught up with its workflow for
# this long: a deadline passed without the escalation landing, or no workflow at all.
LAG_GRACE = timedelta(minutes=1)
# Escalation levels beyond this share one label (the level grows by one a day while open).
TOP_LEVEL = 3
UNFINISHED = [s.value for s in OrderStatus if s not in FINAL_STATUSES]


@dataclass
class LoopFigures:
    # (status, township) → orders not yet closed or cancelled
    unfinished: Counter[tuple[str, str]] = field(default_factory=Counter)
    overdue: Counter[str] = field(default_factory=Counter)  # township → open and overdue
    escalated: Counter[str] = field(default_factory=Counter)  # "1", "2", "3+" → open orders
    lagging: int = 0
    lost_workflow: int = 0
    follow_up_queue: int = 0
    follow_up_oldest_at: datetime | None = None
    follow_ups_done: Counter[str] = field(default_factory=Counter)  # outcome → all time
    sla_breaches: int = 0
    completed: int = 0
    completed_on_time: int = 0


def level_label(level: int) -> str:
    return f"{TOP_LEVEL}+" if level >= TOP_LEVEL else str(level)


def loop_figures(session: Session, *, now: datetime) -> LoopFigures:
    figures = LoopFigures()
    open_values = {s.value for s in OPEN_STATUSES}
    stale = now - LAG_GRACE
    # The escalation timer fired in the workflow but the read model still says on time.
    deadline_missed = case(
        (
            Order.status.in_(open_values) & (Order.deadline_at < stale) & ~Order.overdue,
            True,
        ),
        else_=False,
    )
    keys = (
        Order.status,
        Order.township,
        Order.overdue,
        case((Order.escalation_level >= TOP_LEVEL, TOP_LEVEL), else_=Order.escalation_level),
        Order.workflow_lost_at.is_not(None),
        deadline_missed,
    )
    rows = session.execute(
        select(*keys, func.count())
        # IN, not NOT IN: the status index finds these without reading the closed ones.
        .where(Order.status.in_(UNFINISHED))
        .group_by(*keys)
    ).all()
    for status, township, overdue, level, lost, missed, n in rows:
        figures.unfinished[(status, township)] += n
        is_open = status in open_values
        if is_open and overdue:
            figures.overdue[township] += n
        if is_open and level:
            figures.escalated[level_label(level)] += n
        if lost:
            figures.lost_workflow += n
        if missed:
            figures.lagging += n
    figures.lagging += (
        session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.workflow_started_at.is_(None), Order.submitted_at < stale)
        )
        or 0
    )
    figures.follow_up_queue, figures.follow_up_oldest_at = session.execute(
        select(func.count(), func.min(FollowUp.queued_at)).where(
            FollowUp.status == FollowUpStatus.OPEN.value
        )
    ).one()
    for outcome, n in session.execute(
        select(FollowUp.outcome, func.count())
        .where(FollowUp.status == FollowUpStatus.DONE.value)
        .group_by(FollowUp.outcome)
    ):
        figures.follow_ups_done[outcome or "unknown"] += n
    figures.sla_breaches = (
        session.scalar(select(func.count()).select_from(Escalation).where(Escalation.level == 1))
        or 0
    )
    completed, on_time = session.execute(
        select(
            func.coalesce(func.sum(Volunteer.completed_orders), 0),
            func.coalesce(func.sum(Volunteer.on_time_orders), 0),
        )
    ).one()
    figures.completed, figures.completed_on_time = int(completed), int(on_time)
    return figures
