"""When the automated follow-up call may ring: a daily window in the county's time zone.

Pure functions of their arguments (no clock, no I/O besides the time-zone database), so
workflow code can use them on ``workflow.now()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class CallingHours:
    """A daily window ``[start, end)`` in minutes after local midnight, e.g. 08:00-20:00.

    ``start == end`` is not allowed (it would mean never, or always); a window that wraps
    midnight (``20:00-08:00``) is refused too: nobody wants the follow-up call at night.
    """

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < self.end_minute <= 24 * 60:
            raise ValueError(
                "calling hours must be a window within one day, like 08:00-20:00, "
                f"got minutes {self.start_minute}-{self.end_minute}"
            )

    @classmethod
    def parse(cls, text: str) -> CallingHours:
        """``"08:00-20:00"`` → ``CallingHours(480, 1200)``.

        Raises:
            ValueError: For text that is not ``HH:MM-HH:MM`` within one day.
        """
        start, end = window_minutes(text, "calling hours look like 08:00-20:00")
        return cls(start_minute=start, end_minute=end)

    def __str__(self) -> str:
        return f"{hhmm(self.start_minute)}-{hhmm(self.end_minute)}"

    def next_allowed(self, at: datetime, timezone: str) -> datetime:
        """The first instant at or after ``at`` (aware) inside the window, in ``at``'s zone.

        A time inside the window is returned unchanged; one after the window's end moves to
        the next day's start; one before the start moves to that day's start.
        """
        zone = ZoneInfo(timezone)
        local = at.astimezone(zone)
        minute = local.hour * 60 + local.minute
        day = local.date()
        if minute >= self.end_minute:
            day += timedelta(days=1)
        elif minute >= self.start_minute:
            return at
        start = datetime.combine(day, _time_of(self.start_minute), tzinfo=zone)
        return start.astimezone(at.tzinfo)


def window_minutes(text: str, looks_like: str) -> tuple[int, int]:
    """``"08:00-20:00"`` → ``(480, 1200)``: minutes after midnight, each at most 24:00.

    Raises:
        ValueError: ``looks_like`` for text that is not ``HH:MM-HH:MM``; a time of day that
            is none (``21:60``, ``25:00``).
    """
    match = _WINDOW.match(text)
    if not match:
        raise ValueError(f"{looks_like}, got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if m1 > 59 or m2 > 59 or h1 > 24 or h2 > 24:
        raise ValueError(f"not a time of day in {text!r}")
    return h1 * 60 + m1, h2 * 60 + m2


def hhmm(minute: int) -> str:
    """``1260`` → ``"21:00"``."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _time_of(minute: int) -> time:
    return time(hour=minute // 60, minute=minute % 60)
