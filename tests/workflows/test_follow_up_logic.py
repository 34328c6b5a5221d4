"""The automated follow-up call's decisions, pure: what each webhook means, how a call ends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.vocab import (
    CallOutcome,
    FollowUpOutcome,
    OrderStatus,
    QueueReason,
    Rating,
    confirm_keypad,
)
from tests.workflows.test_state import FOLLOW_UP, NOW, SITUATIONS
from workflows.order import follow_up
from workflows.order import state as machine
from workflows.order.messages import CallProgress, CallState
from workflows.order.state import OrderState

pytestmark = pytest.mark.unit

CALL = 21


def waiting() -> OrderState:
    """Reviewed "satisfied"; the follow-up opened with calls planned and the first placed."""
    s = SITUATIONS["reviewed"]()
    machine.open_follow_up(s, 3, NOW)
    machine.follow_up_opened(s, FOLLOW_UP, queued=False)
    follow_up.placed(s, 1, CALL, "CA1")
    return s


def heard(s: OrderState, event: str, **fields: str) -> CallState:
    follow_up.classify(s, CallProgress(call_id=CALL, call_sid="CA1", event=event, **fields))
    return s.calls[CALL]


@pytest.mark.parametrize(
    ("callbacks", "outcome", "rating"),
    [
        ([("gather-1", "1")], CallOutcome.RATED, Rating.VERY_SATISFIED),
        ([("gather-1", "4")], CallOutcome.RATED, Rating.DISSATISFIED),
        ([("gather-1", "9")], CallOutcome.STAFF_REQUESTED, None),
        ([("gather-1", "")], None, None),  # the prompt repeats once
        ([("gather-1", "7"), ("gather-2", "")], CallOutcome.NO_INPUT, None),
        ([("gather-1", ""), ("gather-2", "2")], CallOutcome.RATED, Rating.SATISFIED),
        ([("status:busy", "")], CallOutcome.BUSY, None),
        ([("status:no-answer", "")], CallOutcome.NO_ANSWER, None),
        ([("status:completed", "")], CallOutcome.NO_INPUT, None),
        # The first decisive callback settles the call; the hang-up after it only informs.
        ([("gather-1", "3"), ("status:completed", "")], CallOutcome.RATED, Rating.AVERAGE),
    ],
)
def test_what_each_callback_means(
    callbacks: list[tuple[str, str]], outcome: CallOutcome | None, rating: Rating | None
) -> None:
    s = waiting()
    for event, digits in callbacks:
        call = heard(s, event, digits=digits)
    assert (call.outcome, call.rating) == (outcome, rating)


def test_an_answering_machine_ends_the_call_and_a_repeat_counts_once() -> None:
    s = waiting()
    assert heard(s, "answered", answered_by="machine_start").outcome == CallOutcome.MACHINE
    s = waiting()
    heard(s, "gather-1", digits="")
    heard(s, "gather-1", digits="")  # Twilio delivered the same callback twice
    assert heard(s, "gather-2", digits="").outcome == CallOutcome.NO_INPUT
    assert len(s.seen_callbacks) == 2


def test_a_rating_closes_the_order_confirmed_or_corrected() -> None:
    for pressed, outcome in (
        ("2", FollowUpOutcome.CONFIRMED),
        ("3", FollowUpOutcome.RATING_CORRECTED),
    ):
        s = waiting()
        call = heard(s, "gather-1", digits=pressed)
        fx, over = follow_up.conclude(s, call, NOW, next_at=None)
        assert over and s.status == OrderStatus.CLOSED
        assert [e.event for e in fx.events] == ["call_ended", "followed_up", "closed"]
        assert fx.close_follow_up is not None and fx.close_follow_up.outcome == outcome
        assert s.review_rating == Rating.SATISFIED  # both ratings are kept


@pytest.mark.parametrize(
    ("pressed", "last", "reason"),
    [
        ("4", False, QueueReason.DISSATISFIED),
        ("9", False, QueueReason.STAFF_REQUESTED),
        ("", True, QueueReason.ATTEMPTS_EXHAUSTED),
    ],
)
def test_what_a_call_cannot_settle_goes_to_staff(
    pressed: str, last: bool, reason: QueueReason
) -> None:
    s = waiting()
    call = heard(s, "gather-1", digits=pressed)
    if pressed == "":
        call = heard(s, "gather-2", digits="")
    fx, over = follow_up.conclude(s, call, NOW, next_at=None if last else NOW + timedelta(hours=4))
    assert over and s.follow_up_queued and s.status == OrderStatus.REVIEWED
    assert fx.queue_follow_up is not None and fx.queue_follow_up.reason == reason
    assert [e.event for e in fx.events] == ["call_ended", "follow_up_queued"]


def test_an_unanswered_call_is_tried_again_later() -> None:
    s = waiting()
    call = heard(s, "status:no-answer")
    next_at = NOW + timedelta(hours=4)
    fx, over = follow_up.conclude(s, call, NOW, next_at=next_at)
    assert not over and not s.follow_up_queued
    assert fx.events[0].data["next_call_at"] == next_at.isoformat()


@pytest.mark.parametrize(
    ("reviewed", "keys"),
    [
        (Rating.SATISFIED, ["satisfied", "very_satisfied", "average", "dissatisfied"]),
        (Rating.VERY_SATISFIED, ["very_satisfied", "satisfied", "average", "dissatisfied"]),
        (Rating.DISSATISFIED, ["dissatisfied", "very_satisfied", "satisfied", "average"]),
    ],
)
def test_a_call_confirming_the_review_reads_1_as_it_and_2_to_4_as_the_others(
    reviewed: Rating, keys: list[str]
) -> None:
    s = waiting()
    s.confirming = reviewed
    assert [confirm_keypad(reviewed)[str(k)] for k in range(1, 5)] == keys
    for digit, meant in zip("1234", keys, strict=True):
        s.calls.clear()
        s.seen_callbacks.clear()
        assert heard(s, "gather-1", digits=digit).rating == meant
    s.calls.clear()
    s.seen_callbacks.clear()
    assert heard(s, "gather-1", digits="9").outcome == CallOutcome.STAFF_REQUESTED


@pytest.mark.parametrize("reviewed", [Rating.SATISFIED, Rating.VERY_SATISFIED])
def test_keys_read_by_the_api_keep_one_meaning_whatever_was_reviewed(reviewed: Rating) -> None:
    s = waiting()
    s.confirming = reviewed
    # 1 confirms; 2 opens the menu and settles nothing, whose keys are the usual grades.
    meanings = [
        ("gather-1", "1", reviewed.value, CallOutcome.RATED, reviewed),
        ("gather-1", "9", "staff", CallOutcome.STAFF_REQUESTED, None),
        ("gather-2", "3", "", CallOutcome.NO_INPUT, None),
    ]
    for event, digits, meaning, outcome, rating in meanings:
        s.calls.clear()
        s.seen_callbacks.clear()
        call = heard(s, event, digits=digits, meaning=meaning)
        assert (call.outcome, call.rating) == (outcome, rating)
    s.calls.clear()
    s.seen_callbacks.clear()
    opened = heard(s, "gather-2", digits="2", meaning="menu")
    assert (opened.outcome, opened.rating) == (None, None)  # not "no input" at the last round
    chose = heard(s, "gather-menu-1", digits="2", meaning="satisfied")
    assert (chose.outcome, chose.rating) == (CallOutcome.RATED, Rating.SATISFIED)
    s.calls.clear()
    s.seen_callbacks.clear()
    heard(s, "gather-1", digits="2", meaning="menu")
    assert heard(s, "gather-menu-2", digits="", meaning="").outcome == CallOutcome.NO_INPUT


def test_a_confirmed_review_closes_as_confirmed_and_another_key_as_a_correction() -> None:
    s = waiting()
    s.confirming = s.review_rating
    call = heard(s, "gather-1", digits="1")
    fx, over = follow_up.conclude(s, call, NOW, next_at=None)
    assert over and fx.close_follow_up is not None
    assert fx.close_follow_up.outcome == FollowUpOutcome.CONFIRMED
    assert s.rating == s.review_rating
