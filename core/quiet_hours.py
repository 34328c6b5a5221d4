"""Quiet hours (``QUIET_HOURS``, default 21:00-07:00): nobody is asked to answer at night.

An offer's wait for an answer counts only the time outside the quiet hours, in the county's
time zone: an order dispatched at 22:24 with a four-hour window is answered by 11:00 the next
morning, not at 02:24. Pure functions of their arguments (no clock, no I/O besides the
time-zone database), so the order workflow computes its accept timer with them and the pages
and texts show the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.calling_hours import hhmm, window_minutes

_DAY = 24 * 60
# A window the clock never reaches in this many days is a bug, not a wait.
_MAX_DAYS = 400


@dataclass(frozen=True)
class QuietHours:
    """A daily span ``[start, end)`` in minutes after local midnight when offers' clocks stop.

    It may wrap midnight (21:00-07:00 is the usual one). ``start == end`` is refused: it would
    mean never, or always.
    """

    start_minute: int
    end_minute: int
    timezone: str = "Asia/Shanghai"

    def checked(self) -> QuietHours:
        """These hours, if they make sense (the settings and ``parse`` check them once; a
        workflow's input is not checked again, it is read as it was written).

        Raises:
            ValueError: Outside the day, or starting when they end.
        """
        if not (0 <= self.start_minute < _DAY and 0 <= self.end_minute <= _DAY):
            raise ValueError(f"quiet hours out of the day: {self.start_minute}-{self.end_minute}")
        if self.start_minute == self.end_minute % _DAY:
            raise ValueError("quiet hours must start and end at different times, like 21:00-07:00")
        return self

    @classmethod
    def parse(cls, text: str, timezone: str = "Asia/Shanghai") -> QuietHours:
        """``"21:00-07:00"`` → ``QuietHours(1260, 420)``.

        Raises:
            ValueError: For text that is not ``HH:MM-HH:MM``.
        """
        start, end = window_minutes(text, "quiet hours look like 21:00-07:00")
        return cls(start_minute=start, end_minute=end, timezone=timezone).checked()

    def __str__(self) -> str:
        return f"{hhmm(self.start_minute)}-{hhmm(self.end_minute)}"

    def _awake(self) -> list[tuple[int, int]]:
        """The day's spans, in minutes, when the clock runs."""
        if self.start_minute < self.end_minute:
            spans = [(0, self.start_minute), (self.end_minute, _DAY)]
        else:
            spans = [(self.end_minute, self.start_minute)]
        return [(a, b) for a, b in spans if a < b]

    def answer_by(self, start: datetime, window: timedelta) -> datetime:
        """When a wait of ``window`` begun at ``start`` (aware) ends, counting only the time
        outside the quiet hours; in ``start``'s zone.

        The arithmetic is in UTC, so a day with a daylight-saving change counts its real hours.
        """
        try:
            self.checked()
        except ValueError:
            return start + window  # hours that make no sense stop no clock
        zone = ZoneInfo(self.timezone)
        moment = start.astimezone(UTC)
        left = window
        day = start.astimezone(zone).date()
        for _ in range(_MAX_DAYS):
            for a, b in self._awake():
                begin = max(_instant(day, a, zone), moment)
                end = _instant(day, b, zone)
                if begin >= end:
                    continue
                if left <= end - begin:
                    return (begin + left).astimezone(start.tzinfo)
                left -= end - begin
            day += timedelta(days=1)
        raise ValueError(f"no end to a wait of {window} within {_MAX_DAYS} days")


@dataclass(frozen=True)
class OfferTimeouts:
    """How long an offer waits: a volunteer's answer, a unit leader's choice; the clock stops
    in the quiet hours, as the workflow's timer does."""

    accept: timedelta
    team_assign: timedelta
    quiet: QuietHours | None = None

    def accept_by(self, offered_at: datetime, *, leader: bool) -> datetime:
        """When an offer made at ``offered_at`` lapses (to a unit's ``leader``, or not)."""
        window = self.team_assign if leader else self.accept
        if self.quiet is None:
            return offered_at + window
        return self.quiet.answer_by(offered_at, window)


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of ``minute`` after local midnight of ``day`` (24:00 is the next day's 0)."""
    day, minute = (day + timedelta(days=1), 0) if minute == _DAY else (day, minute)
    local = datetime.combine(day, time(hour=minute // 60, minute=minute % 60), tzinfo=zone)
    return local.astimezone(UTC)
