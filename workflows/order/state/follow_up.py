"""The follow-up (回访): opening it, handing it to the call-center queue, and its result,
which closes the order."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from activities.contracts import (
    CallRecord,
    EventRecord,
    FollowUpClosing,
    FollowUpQueueing,
)
from core.vocab import (
    QUEUE_PRIORITY,
    ActorKind,
    EventName,
    FollowUpMethod,
    FollowUpOutcome,
    FollowUpStatus,
    OrderStatus,
    QueueReason,
    Rating,
    SettledBy,
    actor,
)
from workflows import errors
from workflows.errors import rejected
from workflows.order.messages import (
    FollowUpResultInput,
)
from workflows.order.state.base import (
    Effects,
    OrderState,
    event,
    require_live,
    set_status,
)


def check_follow_up(s: OrderState, inp: FollowUpResultInput) -> None:
    require_live(s)
    if s.follow_up_done:
        raise rejected(errors.INVALID_TRANSITION, "the follow-up is already recorded")
    if not s.follow_up_opening:
        raise rejected(
            errors.INVALID_TRANSITION, f"the order has no open follow-up; it is {s.status}"
        )
    if s.follow_up_id is not None and inp.follow_up_id != s.follow_up_id:
        raise rejected(
            errors.FOLLOW_UP_MISMATCH,
            f"follow-up {inp.follow_up_id} does not belong to this order",
        )
    if inp.rating is None:
        if inp.outcome == FollowUpOutcome.RATING_CORRECTED:
            raise rejected(errors.RATING_REQUIRED, "rating_corrected needs the new rating")
        if s.review_rating is None and inp.outcome != FollowUpOutcome.UNREACHABLE:
            raise rejected(
                errors.RATING_REQUIRED,
                "the resident never reviewed this order: record the rating they give now",
            )


def record_follow_up(s: OrderState, inp: FollowUpResultInput, now: datetime) -> Effects:
    """Call-center staff record the follow-up's result (回访), which closes the order."""
    return close_follow_up(
        s,
        now,
        method=inp.method,
        outcome=inp.outcome,
        rating=inp.rating,
        by=actor(ActorKind.CALL_CENTER, inp.agent_id),
        settled_by=SettledBy.STAFF,
        note_id=inp.note_id,
        agent_id=inp.agent_id,
    )


def open_follow_up(s: OrderState, max_calls: int, now: datetime) -> Effects:
    """Open the follow-up: ``calling`` when automated calls are planned, else the queue.

    The task is listed as soon as its row commits, before its id reaches the workflow: a
    staff result may arrive in between, and must wait rather than be refused.
    """
    s.follow_up_opening = True
    calling = max_calls > 0
    return Effects(
        events=[
            event(
                s,
                EventName.FOLLOW_UP_CREATED,
                now,
                data={"automated_calls": max_calls} if calling else None,
            )
        ],
        open_follow_up_at=now,
        follow_up_status=FollowUpStatus.CALLING if calling else FollowUpStatus.OPEN,
    )


def follow_up_opened(s: OrderState, follow_up_id: int | None, *, queued: bool) -> None:
    s.follow_up_id = follow_up_id
    s.follow_up_queued = queued


def close_follow_up(
    s: OrderState,
    now: datetime,
    *,
    method: FollowUpMethod,
    outcome: FollowUpOutcome,
    rating: Rating | None,
    by: str,
    settled_by: SettledBy,
    note_id: str | None = None,
    agent_id: int | None = None,
    before: tuple[EventRecord, ...] = (),
    call: CallRecord | None = None,
) -> Effects:
    """The follow-up's result closes the order, whoever settled it."""
    assert s.follow_up_id is not None
    fx = Effects(events=list(before), call=call)
    s.follow_up_done = True
    if rating is not None:
        s.rating = rating
    set_status(s, OrderStatus.CLOSED, fx)
    s.closed_at = now
    data: dict[str, str] = {"method": method.value, "outcome": outcome.value}
    if rating is not None:
        data["rating"] = rating.value
        if s.review_rating is not None and rating != s.review_rating:
            data["review_rating"] = s.review_rating.value
    if settled_by != SettledBy.STAFF:
        data["settled_by"] = settled_by.value
    fx.events.append(event(s, EventName.FOLLOWED_UP, now, by=by, note_id=note_id, data=data))
    fx.events.append(event(s, EventName.CLOSED, now))
    fx.close_follow_up = FollowUpClosing(
        follow_up_id=s.follow_up_id,
        method=method,
        outcome=outcome,
        rating=rating,
        note_id=note_id,
        at=now,
        settled_by=settled_by,
        agent_id=agent_id,
    )
    return fx


def queue_for_staff(
    s: OrderState,
    reason: QueueReason,
    now: datetime,
    *before: EventRecord,
    call: CallRecord | None = None,
    call_rating: Rating | None = None,
    data: Mapping[str, object] | None = None,
) -> Effects:
    """Hand the follow-up to the call-center queue, as urgent as its reason."""
    assert s.follow_up_id is not None
    s.follow_up_queued = True
    priority = QUEUE_PRIORITY[reason]
    queued = event(
        s,
        EventName.FOLLOW_UP_QUEUED,
        now,
        data={"reason": reason.value, "priority": priority, **(data or {})},
    )
    return Effects(
        events=[*before, queued],
        call=call,
        queue_follow_up=FollowUpQueueing(
            follow_up_id=s.follow_up_id,
            reason=reason,
            priority=priority,
            at=now,
            call_rating=call_rating,
        ),
    )
