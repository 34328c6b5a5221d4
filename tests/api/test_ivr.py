"""The keypad line's decisions, pure: every step with every kind of key."""

from __future__ import annotations

import pytest

from api.ivr import Move, Next, Step, aloud, decide

pytestmark = pytest.mark.unit

NEEDS = ["care.elderly_visit", "care.errands", "care.disability"]
ERRANDS = "care.errands"

# (step, round, key, item, knows the caller's address) -> next
CASES: list[tuple[Step, int, str, str | None, bool, Next]] = [
    # 0 is a person wherever the call is.
    *[(step, 1, "0", None, True, Next(Move.PERSON)) for step in Step],
    (Step.STATUS, 1, "1", None, True, Next(Move.NEWS)),
    (Step.STATUS, 1, "", None, True, Next(Move.MAIN)),
    (Step.STATUS, 2, "7", None, False, Next(Move.MAIN)),
    (Step.MAIN, 1, "1", None, False, Next(Move.NEEDS)),
    (Step.MAIN, 1, "", None, False, Next(Move.AGAIN, round_=2)),
    (Step.MAIN, 1, "5", None, False, Next(Move.AGAIN, round_=2)),
    (Step.MAIN, 2, "", None, False, Next(Move.GOODBYE)),
    # A need by its key: a known caller may reorder to their address, anyone else says it.
    (Step.NEEDS, 1, "2", None, True, Next(Move.ADDRESS, item=ERRANDS)),
    (Step.NEEDS, 1, "2", None, False, Next(Move.RECORD, item=ERRANDS)),
    (Step.NEEDS, 1, "9", None, True, Next(Move.RECORD)),
    (Step.NEEDS, 1, "4", None, True, Next(Move.AGAIN, round_=2)),  # no fourth need here
    (Step.NEEDS, 2, "", None, True, Next(Move.GOODBYE)),
    (Step.ADDRESS, 1, "1", ERRANDS, True, Next(Move.ORDER, item=ERRANDS)),
    (Step.ADDRESS, 1, "2", ERRANDS, True, Next(Move.RECORD, item=ERRANDS)),
    # Never an order to an address we do not have, nor one without a need.
    (Step.ADDRESS, 1, "1", ERRANDS, False, Next(Move.AGAIN, item=ERRANDS, round_=2)),
    (Step.ADDRESS, 1, "1", None, True, Next(Move.AGAIN, round_=2)),
    (Step.ADDRESS, 2, "", ERRANDS, True, Next(Move.GOODBYE)),
]


@pytest.mark.parametrize(("step", "round_", "key", "item", "known", "expected"), CASES)
def test_each_key_at_each_step(
    step: Step, round_: int, key: str, item: str | None, known: bool, expected: Next
) -> None:
    assert decide(step, round_, key, item=item, needs=NEEDS, knows_address=known) == expected


def test_an_order_number_is_read_digit_by_digit_in_its_two_groups() -> None:
    assert aloud("26120457") == "二六幺二，零四五七"
    assert aloud("123") == "幺二三"
