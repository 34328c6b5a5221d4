"""What the recognition workflow's activities carry: a volunteer's or unit's figures over a
period, and their place on a roll. Beside the workflow, below it: the activity contracts
speak in these types too."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Figures:
    """One volunteer's or unit's figures over the period's completed orders."""

    id: int
    verified_hours: float
    orders: int
    on_time: int
    rated: int  # reached by the follow-up with a rating
    very_satisfied: int
    complaints: int


@dataclass
class RankedEntry:
    rank: int
    id: int
    score: float
    verified_hours: float
    very_satisfied_share: float | None
    on_time_rate: float | None
    complaints: int
