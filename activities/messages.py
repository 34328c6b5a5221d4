"""What workflows send to activities, and the activity names.

Kept free of I/O libraries so workflow modules can import it; the implementations
(``activities/database.py``) register under these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from core.vocab import FollowUpMethod, FollowUpOutcome, Rating

RECORD_TRANSITION: Final = "record_transition"
PICK_CANDIDATE: Final = "pick_candidate"


@dataclass
class EventRecord:
    """One line of the audit trail; ``seq`` is unique within the order."""

    seq: int
    event: str
    actor: str
    at: datetime
    volunteer_id: int | None = None
    note_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


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


@dataclass
class FollowUpClosing:
    follow_up_id: int
    method: FollowUpMethod
    outcome: FollowUpOutcome
    rating: Rating | None
    note_id: str | None
    at: datetime


@dataclass
class TransitionRecord:
    """Everything one transition writes, applied in one database transaction."""

    order_id: int
    snapshot: OrderSnapshot
    events: list[EventRecord]
    open_follow_up_at: datetime | None = None
    close_follow_up: FollowUpClosing | None = None
    escalation_level: int | None = None
    escalation_at: datetime | None = None


@dataclass
class TransitionResult:
    applied_events: int
    follow_up_id: int | None = None


@dataclass
class PickInput:
    """Ask for the best volunteer for an order, leaving out those already tried."""

    order_id: int
    exclude: list[int] = field(default_factory=list)


@dataclass
class PickResult:
    volunteer_id: int | None
    score: float | None = None
