"""The resident's review (评单), and its window closing."""

from __future__ import annotations

from datetime import datetime

from core.vocab import (
    ActorKind,
    EventName,
    OrderStatus,
    ReviewChannel,
    actor,
)
from workflows import errors
from workflows.errors import rejected
from workflows.order.messages import (
    ReviewInput,
)
from workflows.order.state.base import (
    Effects,
    OrderState,
    event,
    only_when,
    require_live,
    set_status,
)


def check_review(s: OrderState, inp: ReviewInput) -> None:
    require_live(s)
    if s.status == OrderStatus.REVIEWED:
        raise rejected(errors.INVALID_TRANSITION, "this order has already been reviewed")
    only_when(s, (OrderStatus.COMPLETED,), "an order can be reviewed once it is completed")
    if s.review_window_expired:
        raise rejected(
            errors.REVIEW_WINDOW_CLOSED,
            "the review window has closed; the follow-up call will record the rating",
        )


def review(s: OrderState, inp: ReviewInput, now: datetime) -> Effects:
    fx = Effects()
    s.review_rating = inp.rating
    s.rating = inp.rating
    s.review_channel = inp.channel
    s.reviewed_at = now
    set_status(s, OrderStatus.REVIEWED, fx)
    data = {"rating": inp.rating.value}
    if inp.channel != ReviewChannel.ONLINE:
        data["channel"] = inp.channel.value
    fx.events.append(
        event(
            s,
            EventName.REVIEWED,
            now,
            by=actor(ActorKind.RESIDENT),
            note_id=inp.note_id,
            data=data,
        )
    )
    return fx


def review_window_expired(s: OrderState, now: datetime) -> Effects:
    s.review_window_expired = True
    return Effects(events=[event(s, EventName.REVIEW_WINDOW_EXPIRED, now)])
