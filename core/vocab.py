"""The loop's vocabulary, shared by workflows, activities and the API.

Plain enums only: workflow code imports this module, so it must stay free of I/O libraries.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    REVIEWED = "reviewed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.DISPATCHED, OrderStatus.ACCEPTED})
FINAL_STATUSES = frozenset({OrderStatus.CLOSED, OrderStatus.CANCELLED})


class EventName(StrEnum):
    SUBMITTED = "submitted"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ACCEPT_TIMEOUT = "accept_timeout"
    COMPLETED = "completed"
    REVIEWED = "reviewed"
    REVIEW_WINDOW_EXPIRED = "review_window_expired"
    ESCALATED = "escalated"
    FOLLOW_UP_CREATED = "follow_up_created"
    FOLLOWED_UP = "followed_up"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    # Matching and dispatch (issue 3).
    REDISPATCHED = "redispatched"
    OPEN_CALL = "open_call"
    ASSIGNED = "assigned"
    UNDISPATCHABLE = "undispatchable"


class Rating(StrEnum):
    """The four grades of the county's satisfaction form (满意度评议表)."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    AVERAGE = "average"
    DISSATISFIED = "dissatisfied"


RATING_POINTS: dict[Rating, int] = {
    Rating.VERY_SATISFIED: 4,
    Rating.SATISFIED: 3,
    Rating.AVERAGE: 2,
    Rating.DISSATISFIED: 1,
}


class DispatchPolicy(StrEnum):
    """How an order finds its volunteer: the admin picks, confirms a suggestion, or not at all."""

    MANUAL = "manual"
    SUGGEST = "suggest"
    AUTO = "auto"


class Platform(StrEnum):
    """The county's five talent platforms (五大平台)."""

    THEORY = "theory"
    EDUCATION = "education"
    SCIENCE = "science"
    CULTURE = "culture"
    FITNESS = "fitness"


class UnitKind(StrEnum):
    """Who can receive an order besides a single volunteer."""

    INSTITUTE = "institute"  # 新时代文明实践所, township level
    STATION = "station"  # 新时代文明实践站, village level
    TEAM = "team"  # 志愿服务队


class PlaceKind(StrEnum):
    VILLAGE = "village"  # 村
    COMMUNITY = "community"  # 社区


class FollowUpMethod(StrEnum):
    PHONE = "phone"
    HOME_VISIT = "home_visit"
    FIELD_VISIT = "field_visit"


class FollowUpOutcome(StrEnum):
    CONFIRMED = "confirmed"
    RATING_CORRECTED = "rating_corrected"
    COMPLAINT = "complaint"
    UNREACHABLE = "unreachable"


class FollowUpStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class ActorKind(StrEnum):
    RESIDENT = "resident"
    ADMIN = "admin"
    VOLUNTEER = "volunteer"
    CALL_CENTER = "call_center"
    SYSTEM = "system"


def actor(kind: ActorKind, ident: int | str | None = None) -> str:
    """Timeline actor label: ``volunteer:12``, ``admin``, ``system``."""
    return f"{kind.value}:{ident}" if ident is not None else kind.value
