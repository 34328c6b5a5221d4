"""The automated follow-up call (回访), pure: what a webhook means, how a call ends the loop.

A rating of 1-3 closes the order; 4 (dissatisfied) or 9 (asks for a person) go to the
call-center queue at once; no answer, busy, failed, an answering machine or no valid key are
tried again later, inside calling hours, up to the plan's number of calls, then queued.
The shell (``workflow.py``) places the calls and waits; this module decides.
"""

from __future__ import annotations

from datetime import datetime

from activities.contracts import CallRecord, EventRecord
from core.vocab import (
    GATHER_ROUNDS,
    MENU,
    STAFF,
    STAFF_KEY,
    ActorKind,
    CallOutcome,
    EventName,
    FollowUpMethod,
    FollowUpOutcome,
    QueueReason,
    Rating,
    SettledBy,
    actor,
    is_machine,
    keypad,
)
from workflows.order.messages import CallProgress, CallState
from workflows.order.state import (
    Effects,
    OrderState,
    close_follow_up,
    event,
    queue_for_staff,
)

# Twilio's terminal CallStatus values, and how each ends a call that nobody rated.
CALL_END_OUTCOMES: dict[str, CallOutcome] = {
    "completed": CallOutcome.NO_INPUT,
    "busy": CallOutcome.BUSY,
    "no-answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.FAILED,
    "canceled": CallOutcome.FAILED,
}


def classify(s: OrderState, progress: CallProgress) -> None:
    """Apply one webhook's news to its call; each ``(CallSid, event)`` counts once.

    The first decisive callback settles the call; later ones only add what they tell.
    """
    key = (progress.call_sid, progress.event)
    if key in s.seen_callbacks:
        return
    s.seen_callbacks.add(key)
    call = s.calls.setdefault(progress.call_id, CallState(call_id=progress.call_id))
    call.call_sid = call.call_sid or progress.call_sid
    call.call_status = progress.call_status or call.call_status
    call.answered_by = progress.answered_by or call.answered_by
    if call.outcome is not None:
        return
    if progress.event == "answered":
        if is_machine(progress.answered_by):
            call.outcome = CallOutcome.MACHINE
    elif progress.event.startswith("gather-"):
        digits = (progress.digits or "").strip()
        call.digits = digits
        meaning = read_keys(s, progress, digits)
        if isinstance(meaning, Rating):
            call.outcome = CallOutcome.RATED
            call.rating = meaning
        elif meaning == STAFF_KEY:
            call.outcome = CallOutcome.STAFF_REQUESTED
        elif meaning == MENU:
            pass  # the four-grade menu plays next: the call goes on
        elif gather_round(progress.event) >= GATHER_ROUNDS:
            # Earlier misses repeat the prompt (the TwiML does it); the last one ends it.
            call.outcome = CallOutcome.NO_INPUT
    elif progress.event.startswith("status:"):
        call.outcome = CALL_END_OUTCOMES.get(progress.event.removeprefix("status:"))


def read_keys(s: OrderState, progress: CallProgress, digits: str) -> Rating | str | None:
    """A rating, ``STAFF_KEY``, ``MENU`` or ``None``: as the API read the keys, or, in a
    signal from before it did, as confirming calls then meant them (histories replay)."""
    if progress.meaning is None:
        return keypad(digits, confirming=s.confirming)
    if progress.meaning == STAFF:
        return STAFF_KEY
    if progress.meaning == MENU:
        return MENU
    return Rating(progress.meaning) if progress.meaning in Rating._value2member_map_ else None


def gather_round(event_name: str) -> int:
    """``gather-2`` or ``gather-menu-2`` → 2 (an unparsable round counts as the last)."""
    suffix = event_name.removeprefix("gather-").removeprefix("menu-")
    return int(suffix) if suffix.isdigit() else GATHER_ROUNDS


def placed(s: OrderState, attempt: int, call_id: int, call_sid: str | None) -> CallState:
    """The call the placing activity reports (its webhooks may have come first)."""
    call = s.calls.setdefault(call_id, CallState(call_id=call_id, attempt=attempt))
    call.attempt = attempt
    call.call_sid = call.call_sid or call_sid
    s.follow_up_calls = attempt
    return call


def call_placed(s: OrderState, call: CallState, now: datetime) -> Effects:
    return Effects(
        events=[
            event(
                s,
                EventName.CALL_PLACED,
                now,
                data={"attempt": call.attempt, "call_sid": call.call_sid},
            )
        ],
        call=call_record(call, now),
    )


def call_record(call: CallState, now: datetime) -> CallRecord | None:
    """What the ``follow_up_calls`` row learns; nothing for a call never placed."""
    if call.call_id is None:
        return None
    return CallRecord(
        call_id=call.call_id,
        attempt=call.attempt,
        at=now,
        call_sid=call.call_sid,
        outcome=call.outcome,
        call_status=call.call_status,
        answered_by=call.answered_by,
        digits=call.digits,
    )


def call_ended(
    s: OrderState, call: CallState, now: datetime, *, next_at: datetime | None = None
) -> EventRecord:
    """The ``call_ended`` event: what the call heard, and when the next one is due."""
    data: dict[str, object] = {"attempt": call.attempt}
    if call.outcome is not None:
        data["outcome"] = call.outcome.value
    for name in ("call_sid", "call_status", "answered_by", "digits"):
        if (value := getattr(call, name)) is not None:
            data[name] = value
    if call.rating is not None:
        data["rating"] = call.rating.value
        if s.review_rating is not None:
            data["review_rating"] = s.review_rating.value
    if next_at is not None:
        data["next_call_at"] = next_at.isoformat()
    return event(s, EventName.CALL_ENDED, now, data=data)


def conclude(
    s: OrderState, call: CallState, now: datetime, *, next_at: datetime | None
) -> tuple[Effects, bool]:
    """Record how a call ended and decide: the effects, and whether the calls are over.

    ``next_at`` is when another call would be due, or ``None`` after the last one.
    """
    rating = call.rating if call.outcome == CallOutcome.RATED else None
    record = call_record(call, now)
    if s.follow_up_done:  # staff settled it meanwhile
        return Effects(events=[call_ended(s, call, now)], call=record), True
    if rating is not None and rating != Rating.DISSATISFIED:
        corrected = s.review_rating is not None and rating != s.review_rating
        closing = close_follow_up(
            s,
            now,
            method=FollowUpMethod.PHONE,
            outcome=FollowUpOutcome.RATING_CORRECTED if corrected else FollowUpOutcome.CONFIRMED,
            rating=rating,
            by=actor(ActorKind.SYSTEM, SettledBy.AUTOMATED_CALL.value),
            settled_by=SettledBy.AUTOMATED_CALL,
            before=(call_ended(s, call, now),),
            call=record,
        )
        return closing, True
    if rating is not None:
        reason = QueueReason.DISSATISFIED
    elif call.outcome == CallOutcome.STAFF_REQUESTED:
        reason = QueueReason.STAFF_REQUESTED
    elif next_at is None:
        reason = QueueReason.ATTEMPTS_EXHAUSTED
    else:
        return Effects(events=[call_ended(s, call, now, next_at=next_at)], call=record), False
    queued = queue_for_staff(
        s,
        reason,
        now,
        call_ended(s, call, now),
        call=record,
        call_rating=call.rating,
        data={"calls": call.attempt},
    )
    return queued, True


def not_placed(s: OrderState, attempt: int, reason: str, now: datetime) -> Effects:
    """No call can ever be placed (a refused number, no account): straight to staff."""
    return queue_for_staff(
        s, QueueReason.CALL_IMPOSSIBLE, now, data={"attempt": attempt, "error": reason}
    )
