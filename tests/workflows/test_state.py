"""The order's state machine, pure: every command in every situation, accepted or refused.

No server, database or clock: each case builds a state by running the transitions
themselves, then tries one command. A refused command raises the named business error and
leaves the state exactly as it was; an accepted one moves it and says what must happen.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.exceptions import ApplicationError

from core.vocab import (
    DispatchPolicy,
    FollowUpMethod,
    FollowUpOutcome,
    Notice,
    OrderStatus,
    Rating,
    ReviewChannel,
)
from workflows import errors
from workflows.order import state as machine
from workflows.order.messages import (
    AcceptInput,
    AssignInput,
    CancelInput,
    CompleteInput,
    DeclineInput,
    DispatchInput,
    FollowUpResultInput,
    HurryInput,
    OpenCallInput,
    OrderInput,
    OrderTimers,
    ReviewInput,
    VisitInput,
)
from workflows.order.state import Effects, OrderState

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
VOLUNTEER, OTHER, THIRD = 7, 8, 9
UNIT, LEADER, MEMBER = 3, 5, 6
FOLLOW_UP = 11


def fresh(policy: DispatchPolicy = DispatchPolicy.MANUAL) -> OrderState:
    return OrderState.start(
        OrderInput(
            order_id=1,
            item_code="care.errands",
            category_code="care",
            township="蓼皋街道",
            submitted_at=T0.isoformat(),
            timers=OrderTimers(),
            dispatch_policy=policy,
        )
    )


def then(s: OrderState, *steps: Callable[[OrderState], Any]) -> OrderState:
    for step in steps:
        step(s)
    return s


def to_volunteer(s: OrderState) -> None:
    machine.dispatch(s, DispatchInput(volunteer_id=VOLUNTEER), NOW)


def accepted(s: OrderState) -> None:
    to_volunteer(s)
    machine.accept(s, AcceptInput(volunteer_id=VOLUNTEER), NOW)


def completed(s: OrderState) -> None:
    accepted(s)
    machine.complete(s, CompleteInput(volunteer_id=VOLUNTEER, hours=2), NOW)


def reviewed(s: OrderState) -> None:
    completed(s)
    machine.review(s, ReviewInput(rating=Rating.SATISFIED), NOW)


def follow_up_open(s: OrderState) -> None:
    reviewed(s)
    machine.open_follow_up(s, 0, NOW)
    machine.follow_up_opened(s, FOLLOW_UP, queued=True)


RESULT = FollowUpResultInput(
    follow_up_id=FOLLOW_UP, method=FollowUpMethod.PHONE, outcome=FollowUpOutcome.CONFIRMED
)


# The situations an order can be in, each reached through the transitions themselves.
SITUATIONS: dict[str, Callable[[], OrderState]] = {
    "pending": fresh,
    "dispatched": lambda: then(fresh(), to_volunteer),
    "with_leader": lambda: then(
        fresh(),
        lambda s: machine.dispatch(s, DispatchInput(unit_id=UNIT, leader_id=LEADER), NOW),
    ),
    "open_call": lambda: then(
        fresh(), lambda s: machine.open_call(s, OpenCallInput(volunteer_ids=[OTHER, THIRD]), NOW)
    ),
    "accepted": lambda: then(fresh(), accepted),
    "completed": lambda: then(fresh(), completed),
    "window_closed": lambda: then(
        fresh(), completed, lambda s: machine.review_window_expired(s, NOW)
    ),
    "reviewed": lambda: then(fresh(), reviewed),
    "follow_up_open": lambda: then(fresh(), follow_up_open),
    "closed": lambda: then(
        fresh(),
        follow_up_open,
        lambda s: machine.record_follow_up(s, RESULT, NOW),
    ),
    "cancelled": lambda: then(fresh(), lambda s: machine.cancel(s, CancelInput(), NOW)),
}

Command = tuple[
    Callable[[OrderState, Any], None], Callable[[OrderState, Any, datetime], Effects], Any
]
COMMANDS: dict[str, Command] = {
    "dispatch": (machine.check_dispatch, machine.dispatch, DispatchInput(volunteer_id=OTHER)),
    "dispatch_unit": (
        machine.check_dispatch,
        machine.dispatch,
        DispatchInput(unit_id=UNIT + 1, leader_id=LEADER),
    ),
    "open_call": (
        machine.check_open_call,
        machine.open_call,
        OpenCallInput(volunteer_ids=[OTHER, THIRD]),
    ),
    "assign": (
        machine.check_assign,
        machine.assign,
        AssignInput(leader_id=LEADER, volunteer_id=MEMBER),
    ),
    "assign_by_stranger": (
        machine.check_assign,
        machine.assign,
        AssignInput(leader_id=OTHER, volunteer_id=MEMBER),
    ),
    "accept": (machine.check_accept, machine.accept, AcceptInput(volunteer_id=VOLUNTEER)),
    "accept_other": (machine.check_accept, machine.accept, AcceptInput(volunteer_id=OTHER)),
    "decline": (machine.check_decline, machine.decline, DeclineInput(volunteer_id=VOLUNTEER)),
    "decline_leader": (machine.check_decline, machine.decline, DeclineInput(volunteer_id=LEADER)),
    "complete": (
        machine.check_complete,
        machine.complete,
        CompleteInput(volunteer_id=VOLUNTEER, hours=1.5),
    ),
    "complete_other": (
        machine.check_complete,
        machine.complete,
        CompleteInput(volunteer_id=OTHER, hours=1.5),
    ),
    "review": (machine.check_review, machine.review, ReviewInput(rating=Rating.AVERAGE)),
    "cancel": (machine.check_cancel, machine.cancel, CancelInput()),
    "follow_up": (machine.check_follow_up, machine.record_follow_up, RESULT),
    "follow_up_other": (
        machine.check_follow_up,
        machine.record_follow_up,
        FollowUpResultInput(
            follow_up_id=FOLLOW_UP + 1,
            method=FollowUpMethod.PHONE,
            outcome=FollowUpOutcome.CONFIRMED,
        ),
    ),
}

INVALID = errors.INVALID_TRANSITION
FINISHED = errors.ORDER_FINISHED
NOT_ASSIGNED = errors.NOT_ASSIGNED
D, A, P = OrderStatus.DISPATCHED, OrderStatus.ACCEPTED, OrderStatus.PENDING
REFUSED: dict[str, OrderStatus | str] = dict.fromkeys(COMMANDS, INVALID)
# situation → command → the status it moves to, or the error that refuses it.
CANCELLED = OrderStatus.CANCELLED
# situation → command → the status it moves to, or the error that refuses it; anything not
# named is refused as an invalid transition.
# Any order not yet completed may be (re)dispatched, offered, or cancelled.
OPEN = REFUSED | {"dispatch": D, "dispatch_unit": D, "open_call": D, "cancel": CANCELLED}
EXPECTED: dict[str, dict[str, OrderStatus | str]] = {
    "pending": OPEN,
    "dispatched": OPEN | {
        "accept": A, "accept_other": NOT_ASSIGNED, "decline": P, "decline_leader": NOT_ASSIGNED,
    },
    "with_leader": OPEN | {
        "assign": D, "assign_by_stranger": errors.NOT_LEADER, "accept": NOT_ASSIGNED,
        "accept_other": NOT_ASSIGNED, "decline": NOT_ASSIGNED, "decline_leader": P,
    },
    "open_call": OPEN | {
        "accept": NOT_ASSIGNED, "accept_other": A, "decline": NOT_ASSIGNED,
        "decline_leader": NOT_ASSIGNED,
    },
    "accepted": OPEN | {
        "open_call": INVALID, "decline": P, "decline_leader": NOT_ASSIGNED,
        "complete": OrderStatus.COMPLETED, "complete_other": NOT_ASSIGNED,
    },
    "completed": REFUSED | {"review": OrderStatus.REVIEWED},
    "window_closed": REFUSED | {"review": errors.REVIEW_WINDOW_CLOSED},
    "reviewed": REFUSED,
    "follow_up_open": REFUSED
    | {"follow_up": OrderStatus.CLOSED, "follow_up_other": errors.FOLLOW_UP_MISMATCH},
    "closed": dict.fromkeys(COMMANDS, FINISHED),
    "cancelled": dict.fromkeys(COMMANDS, FINISHED),
}  # fmt: skip

CASES = [(where, what, want) for where, row in EXPECTED.items() for what, want in row.items()]


@pytest.mark.parametrize(("where", "what", "want"), CASES, ids=[f"{w}-{c}" for w, c, _ in CASES])
def test_every_command_in_every_situation(where: str, what: str, want: OrderStatus | str) -> None:
    s = SITUATIONS[where]()
    check, transition, inp = COMMANDS[what]
    before = copy.deepcopy(s)
    if isinstance(want, OrderStatus):
        check(s, inp)
        fx = transition(s, inp, NOW)
        assert s.status == want
        assert [e.seq for e in fx.events] == list(range(before.seq + 1, s.seq + 1))
        # A status change is announced to Temporal's search attributes.
        changed = [u.value for u in fx.search_attributes if u.key.name == "OrderStatus"]
        if want != before.status:
            assert changed == [want.value]
        assert changed in ([], [want.value])
        return
    with pytest.raises(ApplicationError) as refused:
        check(s, inp)
    assert refused.value.type == want
    assert refused.value.non_retryable
    assert asdict(s) == asdict(before)


def test_the_table_covers_every_command_in_every_situation() -> None:
    assert set(EXPECTED) == set(SITUATIONS)
    assert all(set(row) == set(COMMANDS) for row in EXPECTED.values())


def test_redispatching_an_accepted_order_tells_the_previous_volunteer() -> None:
    s = SITUATIONS["accepted"]()
    fx = machine.dispatch(s, DispatchInput(volunteer_id=OTHER, admin_id=2), NOW)
    (ev,) = fx.events
    assert (ev.event, ev.actor, ev.data["previous_volunteer_id"]) == ("redispatched", "admin:2", 7)
    assert [(n.notice, n.volunteer_id) for n in fx.notices] == [
        (Notice.DISPATCHED, OTHER),
        (Notice.WITHDRAWN, VOLUNTEER),
    ]
    assert s.deadline == T0 + timedelta(hours=72)  # the deadline never moves


def test_an_open_call_decline_leaves_the_others_waiting_on_the_same_timer() -> None:
    s = SITUATIONS["open_call"]()
    generation = s.generation
    machine.decline(s, DeclineInput(volunteer_id=OTHER), NOW)
    assert (s.status, s.offered, s.generation) == (OrderStatus.DISPATCHED, [THIRD], generation)
    fx = machine.decline(s, DeclineInput(volunteer_id=THIRD), NOW)
    assert s.status == OrderStatus.PENDING and s.declined_by == [OTHER, THIRD]
    assert fx.events[0].data == {}


def test_the_accept_timeout_passes_over_the_silent_and_goes_back() -> None:
    s = SITUATIONS["dispatched"]()
    fx = machine.offer_timed_out(s, NOW)
    assert s.status == OrderStatus.PENDING and s.passed_over == [VOLUNTEER]
    assert (fx.events[0].event, fx.events[0].volunteer_id) == ("accept_timeout", VOLUNTEER)
    # A unit member who stays silent sends the order back to the leader, not the center.
    s = SITUATIONS["with_leader"]()
    machine.assign(s, AssignInput(leader_id=LEADER, volunteer_id=MEMBER), NOW)
    fx = machine.offer_timed_out(s, NOW)
    assert (s.status, s.volunteer_id, s.awaiting_leader) == (OrderStatus.DISPATCHED, None, True)
    assert fx.events[0].data == {"unit_id": UNIT, "back_to": "leader"}


def test_suggest_and_auto_ask_for_the_next_candidate_after_a_decline() -> None:
    s = then(fresh(DispatchPolicy.SUGGEST), to_volunteer)
    assert not s.auto_wanted
    machine.decline(s, DeclineInput(volunteer_id=VOLUNTEER), NOW)
    assert s.auto_wanted and s.excluded == [VOLUNTEER]
    assert fresh(DispatchPolicy.AUTO).auto_wanted
    assert not then(fresh(), to_volunteer, lambda s: machine.offer_timed_out(s, NOW)).auto_wanted


def test_escalation_raises_the_level_and_flags_the_order_overdue() -> None:
    s = SITUATIONS["accepted"]()
    first = machine.escalate(s, NOW)
    second = machine.escalate(s, NOW + timedelta(hours=24))
    assert [(u.key.name, u.value) for u in second.search_attributes] == [
        ("Overdue", True),
        ("EscalationLevel", 2),
    ]
    assert (first.escalation_level, second.escalation_level, s.overdue) == (1, 2, True)
    assert [n.escalation_level for n in (*first.notices, *second.notices)] == [1, 2]


def test_giving_up_flags_the_order_once_and_an_admin_dispatch_clears_it() -> None:
    s = fresh(DispatchPolicy.AUTO)
    assert machine.give_up(s, "no_candidates", NOW) is not None
    assert machine.give_up(s, "no_candidates", NOW) is None
    assert s.undispatchable
    machine.dispatch(s, DispatchInput(volunteer_id=VOLUNTEER), NOW)
    assert not s.undispatchable


def test_completion_records_hours_and_whether_it_was_on_time() -> None:
    late = T0 + timedelta(hours=73)
    s = SITUATIONS["accepted"]()
    fx = machine.complete(s, CompleteInput(volunteer_id=VOLUNTEER, hours=3), late)
    assert fx.events[0].data == {"hours": 3, "on_time": False}
    assert (s.hours, s.completed_at) == (3, late)
    assert machine.snapshot(s).completed_at == late


def test_the_snapshot_and_the_view_agree() -> None:
    s = SITUATIONS["follow_up_open"]()
    shown, snap = machine.view(s), machine.snapshot(s)
    assert snap.status == shown.status.value == "reviewed"
    for name in ("seq", "volunteer_id", "rating", "review_rating", "hours", "dispatch_attempts"):
        assert getattr(snap, name) == getattr(shown, name)
    assert "follow-up task 11" in machine.details(s)


def test_the_temporal_ui_reads_the_service_by_name_and_the_deadline_in_county_time() -> None:
    s = SITUATIONS["accepted"]()
    line = machine.details(s, item_name="代购代办", zone="Asia/Shanghai")
    local = s.deadline.astimezone(ZoneInfo("Asia/Shanghai"))
    assert "代购代办 (`care.errands`)" in line
    assert f"due {local:%Y-%m-%d %H:%M} Asia/Shanghai" in line and "UTC" not in line


def _refused(check: Callable[[], None], code: str) -> None:
    with pytest.raises(ApplicationError) as refused:
        check()
    assert refused.value.type == code


@pytest.mark.parametrize("where", ["pending", "dispatched", "accepted"])
def test_a_resident_hurries_an_open_order_once_an_interval(where: str) -> None:
    s = SITUATIONS[where]()
    hurry = HurryInput(interval_s=3600)
    machine.check_hurry(s, hurry, NOW)
    fx = machine.hurry(s, hurry, NOW)
    assert [e.event for e in fx.events] == ["hurried"]
    assert (s.hurry_count, s.last_hurried_at) == (1, NOW)
    before = copy.deepcopy(s)
    _refused(lambda: machine.check_hurry(s, hurry, NOW + timedelta(minutes=59)), "HurryTooSoon")
    assert s == before
    machine.check_hurry(s, hurry, NOW + timedelta(hours=1))
    assert machine.snapshot(s).hurry_count == 1


@pytest.mark.parametrize(
    ("where", "code"),
    [("completed", INVALID), ("reviewed", INVALID), ("closed", FINISHED), ("cancelled", FINISHED)],
)
def test_nothing_is_left_to_hurry_once_completed_or_ended(where: str, code: str) -> None:
    s = SITUATIONS[where]()
    _refused(lambda: machine.check_hurry(s, HurryInput(), NOW), code)


def test_check_in_and_out_are_the_holders_kept_once_and_in_order() -> None:
    s = SITUATIONS["accepted"]()
    mine, theirs = VisitInput(volunteer_id=VOLUNTEER), VisitInput(volunteer_id=OTHER)
    _refused(lambda: machine.check_visit(s, theirs), NOT_ASSIGNED)
    _refused(lambda: machine.check_check_out(s, mine), "NotCheckedIn")
    machine.check_visit(s, mine)
    fx = machine.check_in(s, mine, NOW)
    assert fx is not None and [e.event for e in fx.events] == ["checked_in"]
    assert machine.check_in(s, mine, NOW + timedelta(hours=1)) is None  # the first time stays
    assert s.checked_in_at == NOW
    machine.check_check_out(s, mine)
    assert machine.check_out(s, mine, NOW + timedelta(hours=2)) is not None
    assert machine.check_out(s, mine, NOW + timedelta(hours=3)) is None
    snap = machine.snapshot(s)
    assert (snap.checked_in_at, snap.checked_out_at) == (NOW, NOW + timedelta(hours=2))
    for other in (SITUATIONS["dispatched"](), SITUATIONS["completed"]()):
        _refused(partial(machine.check_visit, other, mine), INVALID)


def test_a_review_on_site_is_recorded_with_its_channel() -> None:
    s = SITUATIONS["completed"]()
    fx = machine.review(s, ReviewInput(rating=Rating.AVERAGE, channel=ReviewChannel.ON_SITE), NOW)
    assert fx.events[0].data == {"rating": "average", "channel": "on_site"}
    assert machine.snapshot(s).review_channel == "on_site"
    assert (s.reviewed_at, s.review_channel) == (NOW, ReviewChannel.ON_SITE)
