"""An activity's roster, pure: places, the waiting list, withdrawals, attendance and hours."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from core.vocab import MemberStatus
from workflows import errors
from workflows.order.state import roster
from workflows.order.state.roster import Roster

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
STARTS = T0 + timedelta(days=4)


def team(headcount: int, invited: int) -> Roster:
    r = Roster(headcount=headcount, starts_at=STARTS)
    roster.invite(r, list(range(1, invited + 1)), T0)
    return r


def refused(code: str, call: object, r: Roster, *args: object) -> None:
    """The call fails with ``code`` and leaves the roster as it was."""
    before = copy.deepcopy(r)
    with pytest.raises(ApplicationError) as failed:
        call(r, *args)  # type: ignore[operator]
    assert failed.value.type == code
    assert r == before


def test_places_go_in_the_order_the_answers_came_and_the_rest_wait() -> None:
    r = team(5, 6)
    came = (3, 1, 6, 2, 5, 4)
    answers = [roster.accept(r, vid, T0 + timedelta(minutes=i)) for i, vid in enumerate(came)]
    assert answers == [MemberStatus.ACCEPTED] * 5 + [MemberStatus.WAITING]
    assert r.accepted == [3, 1, 6, 2, 5] and r.waiting == [4]
    assert (r.full, r.settled, r.places_left) == (True, True, 0)


def test_a_repeated_sign_up_is_not_a_second_one() -> None:
    r = team(1, 2)
    assert roster.accept(r, 1, T0) == MemberStatus.ACCEPTED
    assert roster.accept(r, 1, T0 + timedelta(hours=1)) is None
    assert roster.accept(r, 2, T0) == MemberStatus.WAITING
    assert roster.accept(r, 2, T0 + timedelta(hours=1)) is None
    assert (r.accepted, r.waiting) == ([1], [2])


def test_only_the_invited_answer() -> None:
    r = team(3, 2)
    refused(errors.NOT_ASSIGNED, roster.accept, r, 9, T0)
    refused(errors.NOT_ASSIGNED, roster.decline, r, 9, T0)
    refused(errors.NOT_ASSIGNED, roster.withdraw, r, 9, T0)
    refused(errors.NOT_ASSIGNED, roster.check_in, r, 9, STARTS)


def test_inviting_again_asks_only_the_new_ones() -> None:
    r = team(3, 2)
    roster.decline(r, 2, T0)
    assert roster.invite(r, [2, 3, 4], T0) == [3, 4]
    assert [m.status for m in r.members] == [
        MemberStatus.INVITED,
        MemberStatus.DECLINED,
        MemberStatus.INVITED,
        MemberStatus.INVITED,
    ]
    refused(errors.INVALID_TRANSITION, roster.invite, r, [], T0)
    refused(errors.INVALID_TRANSITION, roster.invite, r, [5, 5], T0)


def test_a_withdrawal_frees_the_place_for_the_first_in_line() -> None:
    r = team(2, 4)
    for vid in (1, 2, 3, 4):
        roster.accept(r, vid, T0 + timedelta(minutes=vid))
    assert roster.withdraw(r, 1, T0 + timedelta(days=1)) == 3
    assert (r.accepted, r.waiting) == ([2, 3], [4])
    # A waiting member leaving frees nothing; the one after them stays in line.
    assert roster.withdraw(r, 4, T0 + timedelta(days=1)) is None
    assert (r.accepted, r.waiting) == ([2, 3], [])
    # With nobody waiting the place stays open (the shell tells the leader and the center).
    assert roster.withdraw(r, 2, T0 + timedelta(days=2)) is None
    assert (r.accepted, r.places_left, r.full) == ([3], 1, False)


def test_no_withdrawal_once_it_started_nor_by_one_without_a_place() -> None:
    r = team(2, 2)
    roster.accept(r, 1, T0)
    refused(errors.INVALID_TRANSITION, roster.withdraw, r, 1, STARTS)
    refused(errors.INVALID_TRANSITION, roster.withdraw, r, 2, T0)


def test_one_who_withdrew_or_declined_may_sign_up_again_at_the_back() -> None:
    r = team(1, 2)
    roster.accept(r, 1, T0)
    roster.decline(r, 2, T0)
    assert roster.decline(r, 2, T0) is False  # a repeat records nothing
    assert roster.accept(r, 2, T0 + timedelta(hours=1)) == MemberStatus.WAITING
    roster.withdraw(r, 1, T0 + timedelta(hours=2))
    assert roster.accept(r, 1, T0 + timedelta(hours=3)) == MemberStatus.WAITING
    assert (r.accepted, r.waiting) == ([2], [1])
    refused(errors.INVALID_TRANSITION, roster.decline, r, 2, T0)


def test_a_smaller_team_is_settled_only_when_confirmed_and_only_with_someone_in_it() -> None:
    r = team(5, 3)
    refused(errors.INVALID_TRANSITION, roster.confirm, r)
    roster.accept(r, 1, T0)
    roster.accept(r, 2, T0)
    assert r.settled is False
    assert roster.confirm(r) is True and r.settled
    assert roster.confirm(r) is False
    # Others may still join the places left.
    assert roster.accept(r, 3, T0) == MemberStatus.ACCEPTED


def test_each_member_checks_in_and_out_once_and_hours_follow() -> None:
    r = team(3, 4)
    for vid in (1, 2, 3, 4):
        roster.accept(r, vid, T0)
    refused(errors.NOT_ASSIGNED, roster.check_in, r, 4, STARTS)  # waiting: no place
    refused(errors.NOT_CHECKED_IN, roster.check_out, r, 1, STARTS)
    assert roster.check_in(r, 1, STARTS)
    assert not roster.check_in(r, 1, STARTS + timedelta(hours=1))  # keeps the first time
    roster.check_in(r, 2, STARTS + timedelta(minutes=20))
    assert roster.check_out(r, 1, STARTS + timedelta(hours=2, minutes=50))
    assert not roster.check_out(r, 1, STARTS + timedelta(hours=5))
    done = STARTS + timedelta(hours=3)
    # 1: 2 h 50 → 3; 2 never checked out: to now, 2 h 40 → 2.5; 3 never came: 0.
    assert roster.default_hours(r, done) == {1: 3.0, 2: 2.5, 3: 0.0}


def test_hours_go_only_to_those_with_a_place_and_within_a_day() -> None:
    r = team(2, 3)
    for vid in (1, 2, 3):
        roster.accept(r, vid, T0)
    roster.check_member_hours(r, {1: 3, 2: 0})
    refused(errors.NOT_ASSIGNED, roster.check_member_hours, r, {3: 2})
    refused(errors.INVALID_TRANSITION, roster.check_member_hours, r, {1: 25})
    refused(errors.INVALID_TRANSITION, roster.check_member_hours, r, {1: -1})
