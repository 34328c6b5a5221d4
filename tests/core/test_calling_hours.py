"""Calling hours (the follow-up call rings only by day) and E.164 numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.calling_hours import CallingHours
from core.phones import e164

pytestmark = pytest.mark.unit

DAY = CallingHours.parse("08:00-20:00")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Beijing time is UTC+8: 02:00Z is 10:00 there, inside the window.
        ("2026-11-29T02:00", "2026-11-29T02:00"),
        # 00:00Z is exactly 08:00: the window opens.
        ("2026-11-29T00:00", "2026-11-29T00:00"),
        # 11:59Z is 19:59: still inside.
        ("2026-11-29T11:59", "2026-11-29T11:59"),
        # 12:00Z is 20:00: closed, so the next morning at 08:00 (00:00Z).
        ("2026-11-29T12:00", "2026-11-30T00:00"),
        # 18:00Z is 02:00 the next local day: that same local morning.
        ("2026-11-29T18:00", "2026-11-30T00:00"),
        # 23:30Z on the 28th is 07:30 on the 29th: half an hour to wait.
        ("2026-11-28T23:30", "2026-11-29T00:00"),
    ],
)
def test_next_allowed_waits_for_the_morning(at: str, expected: str) -> None:
    assert DAY.next_allowed(utc(at), "Asia/Shanghai") == utc(expected)


def test_windows_follow_their_time_zone_through_daylight_saving() -> None:
    # Europe/Berlin: 08:00 is 07:00Z in winter and 06:00Z in summer.
    winter = DAY.next_allowed(utc("2026-01-10T20:00"), "Europe/Berlin")
    summer = DAY.next_allowed(utc("2026-07-10T20:00"), "Europe/Berlin")
    assert (winter, summer) == (utc("2026-01-11T07:00"), utc("2026-07-11T06:00"))


@pytest.mark.parametrize(
    "text", ["8-20", "20:00-08:00", "08:00-08:00", "08:61-20:00", "25:00-26:00"]
)
def test_bad_windows_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        CallingHours.parse(text)


def test_a_window_prints_as_it_is_written() -> None:
    assert str(CallingHours.parse("9:05-18:30")) == "09:05-18:30"
    assert str(CallingHours.parse("00:00-24:00")) == "00:00-24:00"


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("+8613800138000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("023-8888 0000", "+862388880000"),
        ("+44 20 7946 0000", "+442079460000"),
        ("12ab", None),
        ("123", None),
        # China's numbering plan: mobiles have 11 digits, landlines an area code.
        ("123456", None),
        ("1380013800", None),
        ("+86123456", None),
        ("010-6552 9988", "+861065529988"),
        ("0856-5221234", "+868565221234"),
    ],
)
def test_numbers_become_e164(number: str, expected: str | None) -> None:
    assert e164(number, country_code="86") == expected
