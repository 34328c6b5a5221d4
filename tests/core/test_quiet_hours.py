"""Answer-by times fall in daytime: the offer's clock stops in the quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.quiet_hours import QuietHours
from core.settings import Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHTS = QuietHours.parse("21:00-07:00")


def at(day: int, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    ("start", "window", "expected"),
    [
        # Dispatched late in the evening: the four hours run from 07:00.
        (at(7, 22, 24), timedelta(hours=4), at(8, 11, 0)),
        # Inside the day: as before.
        (at(8, 9, 0), timedelta(hours=4), at(8, 13, 0)),
        # Across the evening: two hours before 21:00, two after 07:00.
        (at(8, 19, 0), timedelta(hours=4), at(9, 9, 0)),
        # Ending on the dot of the quiet hours' start.
        (at(8, 17, 0), timedelta(hours=4), at(8, 21, 0)),
        # In the small hours: waits for 07:00.
        (at(8, 2, 30), timedelta(hours=1), at(8, 8, 0)),
        # Longer than a day's 14 hours: over two nights.
        (at(8, 20, 0), timedelta(hours=16), at(10, 8, 0)),
        (at(8, 20, 0), timedelta(0), at(8, 20, 0)),
    ],
)
def test_the_window_counts_only_daytime(
    start: datetime, window: timedelta, expected: datetime
) -> None:
    assert NIGHTS.answer_by(start, window) == expected


def test_the_answer_is_in_the_zone_it_was_asked_in() -> None:
    start = at(7, 22, 24).astimezone(UTC)  # 14:24 UTC
    got = NIGHTS.answer_by(start, timedelta(hours=4))
    assert got.tzinfo is UTC and got == at(8, 11, 0)


def test_quiet_hours_that_do_not_wrap_midnight() -> None:
    small_hours = QuietHours.parse("00:00-06:00")
    assert small_hours.answer_by(at(7, 23, 0), timedelta(hours=2)) == at(8, 7, 0)
    assert str(small_hours) == "00:00-06:00"


def test_a_daylight_saving_night_counts_its_real_hours() -> None:
    """Kept general: in a zone with DST, the clock runs on real hours, not wall-clock ones."""
    berlin = ZoneInfo("Europe/Berlin")
    quiet = QuietHours.parse("01:00-05:00", timezone="Europe/Berlin")
    # 2026-03-29: 02:00 becomes 03:00. From 23:00 a 3-hour window: 23-01 (2 h), then 05-06.
    start = datetime(2026, 3, 28, 23, 0, tzinfo=berlin)
    assert quiet.answer_by(start, timedelta(hours=3)) == datetime(2026, 3, 29, 6, 0, tzinfo=berlin)
    # Awake across the change itself: 00:00 + 2 h real time is 03:00 local.
    awake = QuietHours.parse("04:00-05:00", timezone="Europe/Berlin")
    midnight = datetime(2026, 3, 29, 0, 0, tzinfo=berlin)
    assert awake.answer_by(midnight, timedelta(hours=2)) == datetime(
        2026, 3, 29, 3, 0, tzinfo=berlin
    )


@pytest.mark.parametrize("text", ["21:00", "25:00-07:00", "21:00-21:00", "21:60-07:00", "night"])
def test_nonsense_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        QuietHours.parse(text)


def test_the_setting_defaults_to_nights_in_the_county_zone_and_can_be_off() -> None:
    default = Settings(environment="development")
    assert str(default.quiet_hours) == "21:00-07:00"
    assert default.quiet_hours is not None and default.quiet_hours.timezone == "Asia/Shanghai"
    elsewhere = Settings(environment="development", county_timezone="Asia/Urumqi")
    assert elsewhere.quiet_hours is not None and elsewhere.quiet_hours.timezone == "Asia/Urumqi"

    def read(text: str) -> QuietHours | None:
        return Settings.model_validate(
            {"environment": "development", "quiet_hours": text}
        ).quiet_hours

    assert read("off") is None
    assert str(read("22:30-06:30")) == "22:30-06:30"
