"""Service hours (志愿服务时长): when an order's hours count, and the stars they earn.

An order's hours count (are *verified*) once the follow-up confirmed the order or corrected
its rating (a person at the center reached the resident and the service happened), or when
the volunteer's app recorded both a check-in and a check-out at the door (签到签退, as the
national platforms prove hours). Hours of an order the follow-up turned into a complaint
are shown apart whatever else was recorded, and so are those still waiting for (or
unreachable at) the follow-up without a check-in and check-out. Stars follow the national rule
(《志愿服务记录办法》): 100, 300, 600, 1,000 and 1,500 verified hours for one to five stars.

Pure Python: the recognition workflow imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.vocab import FollowUpOutcome


class HoursKind(StrEnum):
    VERIFIED = "verified"
    COMPLAINED = "complained"
    UNVERIFIED = "unverified"


VERIFYING_OUTCOMES = (FollowUpOutcome.CONFIRMED.value, FollowUpOutcome.RATING_CORRECTED.value)
# The follow-up reached the resident, who gave (or kept) a rating: the verified rating.
REACHED_OUTCOMES = (*VERIFYING_OUTCOMES, FollowUpOutcome.COMPLAINT.value)
STAR_HOURS: tuple[int, ...] = (100, 300, 600, 1000, 1500)


def hours_kind(outcome: str | None, *, checked_in_and_out: bool = False) -> HoursKind:
    """How a completed order's hours count, given its follow-up's outcome (if done) and
    whether the app recorded the volunteer's check-in and check-out."""
    if outcome == FollowUpOutcome.COMPLAINT:
        return HoursKind.COMPLAINED
    if outcome in VERIFYING_OUTCOMES or checked_in_and_out:
        return HoursKind.VERIFIED
    return HoursKind.UNVERIFIED


def star_level(verified_hours: float) -> int:
    """0 (no star yet) to 5."""
    return sum(1 for threshold in STAR_HOURS if verified_hours >= threshold)


def next_star(verified_hours: float) -> tuple[int | None, float | None]:
    """The hours of the next star and how many are still needed; ``(None, None)`` at five."""
    level = star_level(verified_hours)
    if level == len(STAR_HOURS):
        return None, None
    threshold = STAR_HOURS[level]
    return threshold, round(threshold - verified_hours, 2)


@dataclass(frozen=True)
class RollWeights:
    """How an honour roll weighs its four parts (settings ``RECOGNITION_WEIGHT_*``)."""

    hours: float = 0.4
    very_satisfied: float = 0.3
    on_time: float = 0.2
    no_complaints: float = 0.1
