"""The service rules of ``core.service_hours`` as SQL, for the reports, records and honour rolls.

Each expression reads ``orders`` alone: the follow-up's outcome is copied onto the order
row (``Order.follow_up_outcome``, migration 0008), so a report over a year's orders needs no
join.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func

from core.models import Order
from core.service_hours import REACHED_OUTCOMES, VERIFYING_OUTCOMES
from core.vocab import FollowUpOutcome, Rating


def count_if(condition: ColumnElement[bool]) -> Any:
    """How many rows of the group meet ``condition`` (0, never NULL).

    An aggregate ``FILTER``, not a sum of ``CASE``: the overview evaluates some thirty of
    these on each of a million rows, and a filtered row skips the aggregate's step."""
    return func.count().filter(condition)


COMPLETED = Order.completed_at.is_not(None)
ON_TIME = COMPLETED & (Order.completed_at <= Order.deadline_at)
REACHED = Order.follow_up_outcome.in_(REACHED_OUTCOMES)
COMPLAINED = Order.follow_up_outcome == FollowUpOutcome.COMPLAINT.value
CHECKED_IN_AND_OUT = Order.checked_in_at.is_not(None) & Order.checked_out_at.is_not(None)
# ``core.service_hours.hours_kind`` in SQL, for completed orders (one checked in and out may not
# be completed yet); a missing follow-up's outcome is NULL, not "complaint".
VERIFIED = COMPLETED & (
    Order.follow_up_outcome.in_(VERIFYING_OUTCOMES)
    | (
        CHECKED_IN_AND_OUT
        & (func.coalesce(Order.follow_up_outcome, "") != FollowUpOutcome.COMPLAINT.value)
    )
)
RATED_AFTER_FOLLOW_UP = REACHED & Order.rating.is_not(None)
VERY_SATISFIED = RATED_AFTER_FOLLOW_UP & (Order.rating == Rating.VERY_SATISFIED.value)
VERIFIED_HOURS: Any = func.coalesce(func.sum(Order.hours).filter(VERIFIED), 0)
