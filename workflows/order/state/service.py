"""The service (接单 to done): completion, hurrying, arrival and leaving, cancelling, and the
escalation when the deadline passes."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.search_attributes import SA_ESCALATION, SA_OVERDUE
from core.vocab import (
    OPEN_STATUSES,
    ActorKind,
    EventName,
    Notice,
    OrderStatus,
    actor,
)
from workflows import errors
from workflows.errors import rejected
from workflows.order.messages import (
    CancelInput,
    CompleteInput,
    HurryInput,
    VisitInput,
)
from workflows.order.state.base import (
    Effects,
    OrderState,
    event,
    not_for,
    notice,
    only_when,
    set_status,
    volunteer_acted,
)


def check_complete(s: OrderState, inp: CompleteInput) -> None:
    only_when(s, (OrderStatus.ACCEPTED,), "only an accepted order can be completed")
    if inp.volunteer_id != s.volunteer_id:
        raise not_for(inp.volunteer_id, "assigned")


def complete(s: OrderState, inp: CompleteInput, now: datetime) -> Effects:
    fx = Effects()
    s.hours = inp.hours
    s.completed_at = now
    set_status(s, OrderStatus.COMPLETED, fx)
    return volunteer_acted(
        s,
        fx,
        EventName.COMPLETED,
        now,
        by=inp.volunteer_id,
        volunteer_id=inp.volunteer_id,
        tell=Notice.COMPLETED,
        note_id=inp.note_id,
        data={"hours": inp.hours, "on_time": now <= s.deadline},
    )


def check_hurry(s: OrderState, inp: HurryInput, now: datetime) -> None:
    only_when(s, OPEN_STATUSES, "only an order not yet completed can be hurried")
    if s.last_hurried_at is not None:
        next_at = s.last_hurried_at + timedelta(seconds=inp.interval_s)
        if now < next_at:
            raise rejected(
                errors.HURRY_TOO_SOON,
                f"the order was hurried at {s.last_hurried_at.isoformat()}; "
                f"hurry again after {next_at.isoformat()}",
            )


def hurry(s: OrderState, inp: HurryInput, now: datetime) -> Effects:
    """The resident hurries the order (催办): on the timeline, and counted for the admins."""
    s.hurry_count += 1
    s.last_hurried_at = now
    return Effects(
        events=[
            event(
                s,
                EventName.HURRIED,
                now,
                by=actor(ActorKind.RESIDENT),
                data={"count": s.hurry_count},
            )
        ]
    )


def check_visit(s: OrderState, inp: VisitInput) -> None:
    only_when(s, (OrderStatus.ACCEPTED,), "only an accepted order can be checked in or out")
    if inp.volunteer_id != s.volunteer_id:
        raise not_for(inp.volunteer_id, "accepted by")


def check_in(s: OrderState, inp: VisitInput, now: datetime) -> Effects | None:
    """The volunteer arrives; a repeated check-in keeps the first time."""
    return _visit(s, inp, EventName.CHECKED_IN, now)


def check_check_out(s: OrderState, inp: VisitInput) -> None:
    check_visit(s, inp)
    if s.checked_in_at is None:
        raise rejected(errors.NOT_CHECKED_IN, "check in on arrival before checking out")


def check_out(s: OrderState, inp: VisitInput, now: datetime) -> Effects | None:
    """The volunteer leaves; a repeated check-out keeps the first time."""
    return _visit(s, inp, EventName.CHECKED_OUT, now)


_VISIT_TIMES = {EventName.CHECKED_IN: "checked_in_at", EventName.CHECKED_OUT: "checked_out_at"}


def _visit(s: OrderState, inp: VisitInput, name: EventName, now: datetime) -> Effects | None:
    """Arrival or leaving, recorded once: a repeat changes nothing and records nothing."""
    if getattr(s, _VISIT_TIMES[name]) is not None:
        return None
    setattr(s, _VISIT_TIMES[name], now)
    by = actor(ActorKind.VOLUNTEER, inp.volunteer_id)
    return Effects(events=[event(s, name, now, by=by, volunteer_id=inp.volunteer_id)])


def check_cancel(s: OrderState, inp: CancelInput) -> None:
    only_when(s, OPEN_STATUSES, "only an order not yet completed can be cancelled")


def cancel(s: OrderState, inp: CancelInput, now: datetime) -> Effects:
    fx = Effects()
    set_status(s, OrderStatus.CANCELLED, fx)
    s.closed_at = now
    fx.events.append(event(s, EventName.CANCELLED, now, by=actor(inp.by), note_id=inp.note_id))
    return fx


def escalate(s: OrderState, now: datetime) -> Effects:
    """The completion deadline (or another repeat interval) passed without completion."""
    s.escalation_level += 1
    s.overdue = True
    fx = Effects(
        search_attributes=[
            SA_OVERDUE.value_set(True),
            SA_ESCALATION.value_set(s.escalation_level),
        ],
        escalation_level=s.escalation_level,
        escalation_at=now,
    )
    escalated = event(s, EventName.ESCALATED, now, data={"level": s.escalation_level})
    fx.events.append(escalated)
    fx.notices.append(notice(s, Notice.ESCALATED, escalated, escalation_level=s.escalation_level))
    return fx
