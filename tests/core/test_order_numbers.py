"""Order numbers as people read them: the month in county time, then the order's place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.order_numbers import compose, month_of, spoken, typed

pytestmark = pytest.mark.unit


def test_the_month_is_the_countys_not_utcs() -> None:
    # 30 November 2026, 17:00 UTC is already 1 December in Beijing.
    at = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert month_of(at, "Asia/Shanghai") == "2612"
    assert month_of(at, "UTC") == "2611"


def test_numbers_read_aloud_in_two_groups_and_grow_past_ten_thousand() -> None:
    assert compose("2612", 457) == "26120457"
    assert spoken("26120457") == "2612 0457"
    assert spoken(compose("2612", 12345)) == "2612 12345"


@pytest.mark.parametrize(
    ("text", "number"),
    [("2612 0457", "26120457"), (" 26120457 ", "26120457"), ("2612-0457", "26120457")],
)
def test_what_people_type_finds_the_number(text: str, number: str) -> None:
    assert typed(text) == number


@pytest.mark.parametrize("text", ["2612", "龙秀英", "2612 04a7", ""])
def test_what_cannot_be_a_number_is_none(text: str) -> None:
    assert typed(text) is None
