"""The order's projected shape: what a workflow writes into the read model after a transition.

Declared here once. Each field is the order row's column of the same name, except ``seq``
(``last_seq``), the ratings (stored as their codes) and ``offered_to`` (the ``order_offers``
rows); the workflow's ``OrderView`` carries every field under the same name, and a unit test
holds the row, the view and the API's ``OrderOut`` to it. Pure: workflows import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from core.vocab import Rating


@dataclass
class OrderSnapshot:
    """The order's read-model columns after a transition (ids, codes and times only)."""

    seq: int
    status: str
    volunteer_id: int | None
    overdue: bool
    escalation_level: int
    review_rating: Rating | None
    rating: Rating | None
    hours: float | None
    completed_at: datetime | None
    closed_at: datetime | None
    unit_id: int | None = None
    # Volunteers an open call currently offers the order to.
    offered_to: list[int] = field(default_factory=list)
    dispatch_attempts: int = 0
    undispatchable: bool = False
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    hurry_count: int = 0
    last_hurried_at: datetime | None = None
    review_channel: str | None = None


# The snapshot's fields that are not the order column of their own name.
ROW_COLUMN = {"seq": "last_seq"}
RATINGS = frozenset({"review_rating", "rating"})
NOT_IN_ROW = frozenset({"offered_to"})
SNAPSHOT_FIELDS = tuple(f.name for f in fields(OrderSnapshot))
ROW_FIELDS = tuple(name for name in SNAPSHOT_FIELDS if name not in NOT_IN_ROW)
