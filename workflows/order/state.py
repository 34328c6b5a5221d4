"""The order's state machine, pure: its state in one dataclass, a check and a transition a move.

pending → dispatched → accepted → completed → reviewed → (follow-up) → closed, with decline
and the accept timeout returning the order to pending, cancel before completion, and an
escalation each time the completion deadline (and every repeat after it) passes.

No Temporal server, database or clock in here (search-attribute updates are plain values):
``now`` is an argument. A ``check_*`` raises
the named business error (``workflows.errors``) and changes nothing. A transition changes the
state and returns ``Effects``: what the Temporal shell (``workflow.py``) must then do, in
this order: upsert the search attributes that changed, persist the events (and the side
tables' rows) in one activity, then send the SMS notices.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from temporalio.common import SearchAttributeUpdate

from activities.contracts import (
    CallRecord,
    EventRecord,
    FollowUpClosing,
    FollowUpQueueing,
    OrderSnapshot,
    SmsInput,
    TransitionRecord,
)
from core.search_attributes import SA_ESCALATION, SA_OVERDUE, SA_STATUS
from core.vocab import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    QUEUE_PRIORITY,
    ActorKind,
    DispatchPolicy,
    EventName,
    FollowUpMethod,
    FollowUpOutcome,
    FollowUpStatus,
    Notice,
    OrderStatus,
    QueueReason,
    Rating,
    ReviewChannel,
    SettledBy,
    actor,
)
from workflows import errors
from workflows.errors import rejected
from workflows.order.messages import (
    AcceptInput,
    AssignInput,
    CallState,
    CancelInput,
    CompleteInput,
    DeclineInput,
    DispatchInput,
    FollowUpResultInput,
    HurryInput,
    OpenCallInput,
    OrderInput,
    OrderView,
    ReviewInput,
    VisitInput,
)

# --- state and effects -------------------------------------------------------------------


@dataclass
class OrderState:
    """Everything the workflow knows of one order (ids, codes and times only)."""

    order_id: int
    item_code: str
    deadline: datetime
    dispatch_policy: DispatchPolicy
    max_dispatch_attempts: int
    # The last audit event's number; the API recorded ``submitted`` as 1.
    seq: int
    status: OrderStatus = OrderStatus.PENDING
    volunteer_id: int | None = None
    declined_by: list[int] = field(default_factory=list)
    # Volunteers who let an offer time out: auto-dispatch skips them, admins may not.
    passed_over: list[int] = field(default_factory=list)
    unit_id: int | None = None
    leader_id: int | None = None
    # Volunteers an open call offers the order to.
    offered: list[int] = field(default_factory=list)
    dispatch_attempts: int = 0
    undispatchable: bool = False
    # The shell's dispatch loop should ask for the next candidate (suggest/auto policies).
    auto_wanted: bool = False
    overdue: bool = False
    escalation_level: int = 0
    review_rating: Rating | None = None
    rating: Rating | None = None
    hours: float | None = None
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    review_window_expired: bool = False
    review_channel: ReviewChannel | None = None
    reviewed_at: datetime | None = None
    # The follow-up calls ask the resident to confirm this rating of theirs (their review).
    confirming: Rating | None = None
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    hurry_count: int = 0
    last_hurried_at: datetime | None = None
    follow_up_id: int | None = None
    # The follow-up row is being written: a staff result may arrive before its id does.
    follow_up_opening: bool = False
    follow_up_done: bool = False
    follow_up_queued: bool = False
    # Automated calls by row id, filled by placing them and by their webhooks (which may
    # arrive before the placing activity's result does).
    calls: dict[int, CallState] = field(default_factory=dict)
    follow_up_calls: int = 0
    seen_callbacks: set[tuple[str, str]] = field(default_factory=set)
    # Bumped by every change that should restart the dispatch loop's wait.
    generation: int = 0

    @classmethod
    def start(cls, inp: OrderInput) -> OrderState:
        submitted_at = datetime.fromisoformat(inp.submitted_at)
        return cls(
            order_id=inp.order_id,
            item_code=inp.item_code,
            deadline=submitted_at + timedelta(seconds=inp.timers.completion_sla_s),
            dispatch_policy=inp.dispatch_policy,
            max_dispatch_attempts=inp.max_dispatch_attempts,
            seq=inp.last_seq,
            auto_wanted=inp.dispatch_policy == DispatchPolicy.AUTO,
        )

    @property
    def awaiting_leader(self) -> bool:
        """Dispatched to a unit whose leader has not yet handed it to a member."""
        return (
            self.status == OrderStatus.DISPATCHED
            and self.unit_id is not None
            and self.volunteer_id is None
        )

    @property
    def excluded(self) -> list[int]:
        """Whom automatic dispatch must not ask again."""
        return sorted(set(self.declined_by) | set(self.passed_over))


@dataclass
class Effects:
    """What one transition asks of the shell, in order: upsert, persist, notify."""

    events: list[EventRecord] = field(default_factory=list)
    # One upsert of the search attributes that changed (see core.search_attributes).
    search_attributes: list[SearchAttributeUpdate[Any]] = field(default_factory=list)
    notices: list[SmsInput] = field(default_factory=list)
    escalation_level: int | None = None
    escalation_at: datetime | None = None
    open_follow_up_at: datetime | None = None
    follow_up_status: FollowUpStatus = FollowUpStatus.OPEN
    close_follow_up: FollowUpClosing | None = None
    queue_follow_up: FollowUpQueueing | None = None
    call: CallRecord | None = None

    def record(self, state: OrderState) -> TransitionRecord:
        """The projection's input: the events and side rows, with the state's snapshot."""
        return TransitionRecord(
            order_id=state.order_id,
            snapshot=snapshot(state),
            events=self.events,
            open_follow_up_at=self.open_follow_up_at,
            follow_up_status=self.follow_up_status,
            close_follow_up=self.close_follow_up,
            escalation_level=self.escalation_level,
            escalation_at=self.escalation_at,
            queue_follow_up=self.queue_follow_up,
            call=self.call,
        )


# --- views ---------------------------------------------------------------------------------


def view(s: OrderState) -> OrderView:
    """The order as every command and the ``state`` query answer it."""
    return OrderView(
        order_id=s.order_id,
        status=s.status,
        volunteer_id=s.volunteer_id,
        deadline_at=s.deadline,
        overdue=s.overdue,
        escalation_level=s.escalation_level,
        review_rating=s.review_rating,
        rating=s.rating,
        follow_up_id=s.follow_up_id,
        declined_by=list(s.declined_by),
        seq=s.seq,
        unit_id=s.unit_id,
        leader_id=s.leader_id,
        offered_to=list(s.offered) if s.status == OrderStatus.DISPATCHED else [],
        passed_over=list(s.passed_over),
        dispatch_policy=s.dispatch_policy,
        dispatch_attempts=s.dispatch_attempts,
        undispatchable=s.undispatchable,
        follow_up_calls=s.follow_up_calls,
        follow_up_queued=s.follow_up_queued,
        hours=s.hours,
        completed_at=s.completed_at,
        closed_at=s.closed_at,
        checked_in_at=s.checked_in_at,
        checked_out_at=s.checked_out_at,
        hurry_count=s.hurry_count,
        last_hurried_at=s.last_hurried_at,
        review_channel=s.review_channel,
    )


_SNAPSHOT_FIELDS = tuple(f.name for f in fields(OrderSnapshot))


def snapshot(s: OrderState) -> OrderSnapshot:
    """The read model's columns: the view's fields of the same names, the status as text."""
    shown = view(s)
    columns = {name: getattr(shown, name) for name in _SNAPSHOT_FIELDS}
    columns["status"] = shown.status.value
    columns["review_channel"] = shown.review_channel.value if shown.review_channel else None
    return OrderSnapshot(**columns)


def details(s: OrderState) -> str:
    """The details line admins read in the Temporal UI (ids and codes only)."""
    parts = [f"**{s.status.value}**", f"item `{s.item_code}`"]
    if s.volunteer_id is not None:
        parts.append(f"volunteer {s.volunteer_id}")
    if s.unit_id is not None:
        parts.append(f"unit {s.unit_id} (leader {s.leader_id})")
    if s.offered and s.status == OrderStatus.DISPATCHED:
        parts.append(f"open call to {len(s.offered)}")
    if s.undispatchable:
        parts.append("**undispatchable**")
    parts.append(f"due {s.deadline:%Y-%m-%d %H:%M} UTC")
    if s.escalation_level:
        parts.append(f"escalation level {s.escalation_level}")
    if s.follow_up_id is not None:
        parts.append(f"follow-up task {s.follow_up_id}")
        if s.follow_up_calls:
            parts.append(f"{s.follow_up_calls} automated call(s)")
        if s.follow_up_queued and not s.follow_up_done:
            parts.append("in the call-center queue")
    return " · ".join(parts)


# --- small steps every transition uses ---------------------------------------------------------


def event(
    s: OrderState,
    name: EventName,
    now: datetime,
    *,
    by: str | None = None,
    volunteer_id: int | None = None,
    note_id: str | None = None,
    data: Mapping[str, object] | None = None,
) -> EventRecord:
    """The next audit event (numbered on from the state's ``seq``)."""
    s.seq += 1
    return EventRecord(
        seq=s.seq,
        event=name.value,
        actor=by or actor(ActorKind.SYSTEM),
        at=now,
        volunteer_id=volunteer_id,
        note_id=note_id,
        data=dict(data or {}),
    )


def notice(s: OrderState, kind: Notice, ev: EventRecord, **ids: int | None) -> SmsInput:
    return SmsInput(order_id=s.order_id, notice=kind, seq=ev.seq, **ids)


def _set_status(s: OrderState, status: OrderStatus, fx: Effects) -> None:
    s.status = status
    s.generation += 1
    fx.search_attributes.append(SA_STATUS.value_set(status.value))


def _bump(s: OrderState) -> None:
    """Something changed without a status change that restarts the dispatch loop's wait."""
    s.generation += 1


def _dispatch_to(
    s: OrderState,
    fx: Effects,
    *,
    volunteer_id: int | None = None,
    unit_id: int | None = None,
    leader_id: int | None = None,
    offered: list[int] | None = None,
) -> None:
    """Hand the order to one holder: a volunteer, a unit's leader, or an open call."""
    s.volunteer_id = volunteer_id
    s.unit_id = unit_id
    s.leader_id = leader_id if unit_id is not None else None
    s.offered = list(offered or [])
    s.dispatch_attempts += 1
    _set_status(s, OrderStatus.DISPATCHED, fx)


def _return_to_center(s: OrderState, fx: Effects) -> None:
    """Back to pending; under ``suggest``/``auto`` the loop tries the next candidate."""
    s.volunteer_id = None
    s.unit_id = None
    s.leader_id = None
    s.offered = []
    s.auto_wanted = s.dispatch_policy != DispatchPolicy.MANUAL
    _set_status(s, OrderStatus.PENDING, fx)


def _volunteer_acted(
    s: OrderState,
    fx: Effects,
    name: EventName,
    now: datetime,
    *,
    by: int,
    volunteer_id: int,
    tell: Notice,
    note_id: str | None = None,
    data: Mapping[str, object] | None = None,
) -> Effects:
    """A volunteer (or their leader, ``by``) moved the order: the event, and who is told."""
    acted = event(
        s,
        name,
        now,
        by=actor(ActorKind.VOLUNTEER, by),
        volunteer_id=volunteer_id,
        note_id=note_id,
        data=data,
    )
    fx.events.append(acted)
    fx.notices.append(notice(s, tell, acted, volunteer_id=volunteer_id))
    return fx


def _require_live(s: OrderState) -> None:
    if s.status in FINAL_STATUSES:
        raise rejected(errors.ORDER_FINISHED, f"the order is {s.status}")


def _only_when(s: OrderState, allowed: Collection[OrderStatus], what: str) -> None:
    """Live, and in one of ``allowed``: else the command does not fit (``what`` says why)."""
    _require_live(s)
    if s.status not in allowed:
        raise rejected(errors.INVALID_TRANSITION, f"{what}; this one is {s.status}")


def _not_for(volunteer_id: int, what: str = "dispatched") -> Exception:
    return rejected(errors.NOT_ASSIGNED, f"the order is not {what} to volunteer {volunteer_id}")


# --- commands --------------------------------------------------------------------------------


def check_dispatch(s: OrderState, inp: DispatchInput) -> None:
    _only_when(s, OPEN_STATUSES, "only an order not yet completed can be dispatched")
    if (inp.volunteer_id is None) == (inp.unit_id is None):
        raise rejected(errors.INVALID_TRANSITION, "dispatch to a volunteer or to a unit")
    if inp.unit_id is not None and inp.leader_id is None:
        raise rejected(errors.INVALID_TRANSITION, f"unit {inp.unit_id} has no leader")
    if inp.volunteer_id is not None:
        if inp.volunteer_id in s.declined_by:
            raise rejected(
                errors.ALREADY_DECLINED, f"volunteer {inp.volunteer_id} already declined this order"
            )
        if inp.volunteer_id == s.volunteer_id:
            raise rejected(
                errors.INVALID_TRANSITION, f"the order is already with volunteer {inp.volunteer_id}"
            )
    if inp.unit_id is not None and inp.unit_id == s.unit_id:
        raise rejected(errors.INVALID_TRANSITION, f"the order is already with unit {inp.unit_id}")


def dispatch(s: OrderState, inp: DispatchInput, now: datetime) -> Effects:
    """An admin dispatches (or re-dispatches an accepted order) to a volunteer or a unit."""
    fx = Effects()
    previous = s.volunteer_id
    accepted = s.status == OrderStatus.ACCEPTED
    _dispatch_to(s, fx, volunteer_id=inp.volunteer_id, unit_id=inp.unit_id, leader_id=inp.leader_id)
    # An admin acting clears the undispatchable flag: someone has the order again.
    s.undispatchable = False
    data: dict[str, object] = {"attempt": s.dispatch_attempts}
    if inp.unit_id is not None:
        data.update(unit_id=inp.unit_id, leader_id=inp.leader_id)
    if previous is not None:
        data["previous_volunteer_id"] = previous
    dispatched = event(
        s,
        EventName.REDISPATCHED if accepted else EventName.DISPATCHED,
        now,
        by=actor(ActorKind.ADMIN, inp.admin_id),
        volunteer_id=inp.volunteer_id,
        note_id=inp.note_id,
        data=data,
    )
    fx.events.append(dispatched)
    if inp.unit_id is not None:
        fx.notices.append(
            notice(
                s, Notice.TEAM_DISPATCHED, dispatched, unit_id=inp.unit_id, leader_id=inp.leader_id
            )
        )
    else:
        fx.notices.append(notice(s, Notice.DISPATCHED, dispatched, volunteer_id=inp.volunteer_id))
    if previous is not None and previous != inp.volunteer_id:
        fx.notices.append(notice(s, Notice.WITHDRAWN, dispatched, volunteer_id=previous))
    return fx


def check_open_call(s: OrderState, inp: OpenCallInput) -> None:
    _only_when(
        s,
        (OrderStatus.PENDING, OrderStatus.DISPATCHED),
        "only a pending or dispatched order can be offered",
    )
    if not inp.volunteer_ids or len(set(inp.volunteer_ids)) != len(inp.volunteer_ids):
        raise rejected(errors.INVALID_TRANSITION, "offer to one or more distinct volunteers")
    declined = sorted(set(inp.volunteer_ids) & set(s.declined_by))
    if declined:
        raise rejected(
            errors.ALREADY_DECLINED, f"volunteers {declined} already declined this order"
        )


def open_call(s: OrderState, inp: OpenCallInput, now: datetime) -> Effects:
    """Offer the order to several volunteers; the first to accept gets it."""
    fx = Effects()
    _dispatch_to(s, fx, offered=inp.volunteer_ids)
    s.undispatchable = False
    offered = event(
        s,
        EventName.OPEN_CALL,
        now,
        by=actor(ActorKind.ADMIN, inp.admin_id),
        data={"offered_to": list(inp.volunteer_ids), "attempt": s.dispatch_attempts},
    )
    fx.events.append(offered)
    fx.notices.extend(
        notice(s, Notice.DISPATCHED, offered, volunteer_id=v) for v in inp.volunteer_ids
    )
    return fx


def check_assign(s: OrderState, inp: AssignInput) -> None:
    _require_live(s)
    if not s.awaiting_leader:
        raise rejected(
            errors.INVALID_TRANSITION, "the order is not waiting for a unit leader to assign it"
        )
    if inp.leader_id != s.leader_id:
        raise rejected(
            errors.NOT_LEADER, f"volunteer {inp.leader_id} does not lead unit {s.unit_id}"
        )
    if inp.volunteer_id in s.declined_by:
        raise rejected(
            errors.ALREADY_DECLINED, f"volunteer {inp.volunteer_id} already declined this order"
        )


def assign(s: OrderState, inp: AssignInput, now: datetime) -> Effects:
    """The leader of the unit holding the order hands it to a member, who then accepts."""
    s.volunteer_id = inp.volunteer_id
    _bump(s)
    return _volunteer_acted(
        s,
        Effects(),
        EventName.ASSIGNED,
        now,
        by=inp.leader_id,
        volunteer_id=inp.volunteer_id,
        tell=Notice.DISPATCHED,
        data={"unit_id": s.unit_id},
    )


def check_accept(s: OrderState, inp: AcceptInput) -> None:
    _require_live(s)
    if s.status == OrderStatus.ACCEPTED:
        if inp.volunteer_id == s.volunteer_id:
            raise rejected(errors.INVALID_TRANSITION, "you have already accepted this order")
        if inp.volunteer_id in s.offered:
            raise rejected(errors.ALREADY_TAKEN, "another volunteer took this order first")
    _only_when(s, (OrderStatus.DISPATCHED,), "only a dispatched order can be accepted")
    if inp.volunteer_id not in s.offered and inp.volunteer_id != s.volunteer_id:
        raise _not_for(inp.volunteer_id)


def accept(s: OrderState, inp: AcceptInput, now: datetime) -> Effects:
    fx = Effects()
    s.volunteer_id = inp.volunteer_id
    _set_status(s, OrderStatus.ACCEPTED, fx)
    return _volunteer_acted(
        s,
        fx,
        EventName.ACCEPTED,
        now,
        by=inp.volunteer_id,
        volunteer_id=inp.volunteer_id,
        tell=Notice.ACCEPTED,
        data={"unit_id": s.unit_id} if s.unit_id is not None else {},
    )


def check_decline(s: OrderState, inp: DeclineInput) -> None:
    _only_when(
        s,
        (OrderStatus.DISPATCHED, OrderStatus.ACCEPTED),
        "only a dispatched or accepted order can be declined",
    )
    holder = s.leader_id if s.awaiting_leader else s.volunteer_id
    offered = s.status == OrderStatus.DISPATCHED and inp.volunteer_id in s.offered
    if inp.volunteer_id != holder and not offered:
        raise _not_for(inp.volunteer_id)


def decline(s: OrderState, inp: DeclineInput, now: datetime) -> Effects:
    """The holder gives the order back: to the rest of an open call, the leader, or the center."""
    fx = Effects()
    s.declined_by.append(inp.volunteer_id)
    data: dict[str, object] = {}
    if s.status == OrderStatus.DISPATCHED and inp.volunteer_id in s.offered:
        s.offered.remove(inp.volunteer_id)
        if not s.offered:
            _return_to_center(s, fx)
        # Others are still offered it: their wait goes on (no bump).
    elif s.unit_id is not None and s.volunteer_id == inp.volunteer_id:
        # A member declines: the leader chooses again.
        s.volunteer_id = None
        data = {"unit_id": s.unit_id, "back_to": "leader"}
        if s.status == OrderStatus.ACCEPTED:
            _set_status(s, OrderStatus.DISPATCHED, fx)
        else:
            _bump(s)
    else:
        if s.unit_id is not None:
            data = {"unit_id": s.unit_id}
        _return_to_center(s, fx)
    fx.events.append(
        event(
            s,
            EventName.DECLINED,
            now,
            by=actor(ActorKind.VOLUNTEER, inp.volunteer_id),
            volunteer_id=inp.volunteer_id,
            note_id=inp.note_id,
            data=data,
        )
    )
    return fx


def check_complete(s: OrderState, inp: CompleteInput) -> None:
    _only_when(s, (OrderStatus.ACCEPTED,), "only an accepted order can be completed")
    if inp.volunteer_id != s.volunteer_id:
        raise _not_for(inp.volunteer_id, "assigned")


def complete(s: OrderState, inp: CompleteInput, now: datetime) -> Effects:
    fx = Effects()
    s.hours = inp.hours
    s.completed_at = now
    _set_status(s, OrderStatus.COMPLETED, fx)
    return _volunteer_acted(
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


def check_review(s: OrderState, inp: ReviewInput) -> None:
    _require_live(s)
    if s.status == OrderStatus.REVIEWED:
        raise rejected(errors.INVALID_TRANSITION, "this order has already been reviewed")
    _only_when(s, (OrderStatus.COMPLETED,), "an order can be reviewed once it is completed")
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
    _set_status(s, OrderStatus.REVIEWED, fx)
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


def check_hurry(s: OrderState, inp: HurryInput, now: datetime) -> None:
    _only_when(s, OPEN_STATUSES, "only an order not yet completed can be hurried")
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
    _only_when(s, (OrderStatus.ACCEPTED,), "only an accepted order can be checked in or out")
    if inp.volunteer_id != s.volunteer_id:
        raise _not_for(inp.volunteer_id, "accepted by")


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
    _only_when(s, OPEN_STATUSES, "only an order not yet completed can be cancelled")


def cancel(s: OrderState, inp: CancelInput, now: datetime) -> Effects:
    fx = Effects()
    _set_status(s, OrderStatus.CANCELLED, fx)
    s.closed_at = now
    fx.events.append(event(s, EventName.CANCELLED, now, by=actor(inp.by), note_id=inp.note_id))
    return fx


def check_follow_up(s: OrderState, inp: FollowUpResultInput) -> None:
    _require_live(s)
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


# --- what timers and the follow-up decide ------------------------------------------------------


def auto_dispatched(
    s: OrderState, volunteer_id: int, score: float | None, now: datetime
) -> Effects:
    """The workflow itself dispatched to the best candidate (``suggest``/``auto``)."""
    fx = Effects()
    _dispatch_to(s, fx, volunteer_id=volunteer_id)
    dispatched = event(
        s,
        EventName.DISPATCHED,
        now,
        volunteer_id=volunteer_id,
        data={
            "policy": s.dispatch_policy.value,
            "attempt": s.dispatch_attempts,
            "score": score,
        },
    )
    fx.events.append(dispatched)
    fx.notices.append(notice(s, Notice.DISPATCHED, dispatched, volunteer_id=volunteer_id))
    return fx


def give_up(s: OrderState, reason: str, now: datetime) -> Effects | None:
    """Nobody left to ask, or enough tries: flag the order for the admins (once)."""
    if s.undispatchable:
        return None
    s.undispatchable = True
    ev = event(
        s,
        EventName.UNDISPATCHABLE,
        now,
        data={"reason": reason, "attempts": s.dispatch_attempts},
    )
    return Effects(events=[ev])


def offer_timed_out(s: OrderState, now: datetime) -> Effects:
    """Nobody acted on the offer in time: back to the leader, or to the center."""
    fx = Effects()
    unit = s.unit_id
    if unit is not None and s.volunteer_id is not None:
        # The member the leader chose stayed silent: back to the leader.
        member = s.volunteer_id
        s.passed_over.append(member)
        s.volunteer_id = None
        _bump(s)
        fx.events.append(
            event(
                s,
                EventName.ACCEPT_TIMEOUT,
                now,
                volunteer_id=member,
                data={"unit_id": unit, "back_to": "leader"},
            )
        )
        return fx
    silent = list(s.offered) or ([s.volunteer_id] if s.volunteer_id else [])
    s.passed_over.extend(silent)
    data: dict[str, object] = {}
    if unit is not None:
        data = {"unit_id": unit, "leader_id": s.leader_id, "stage": "leader"}
    elif s.offered:
        data = {"offered_to": list(s.offered)}
    _return_to_center(s, fx)
    fx.events.append(
        event(
            s,
            EventName.ACCEPT_TIMEOUT,
            now,
            volunteer_id=silent[0] if len(silent) == 1 and unit is None else None,
            data=data,
        )
    )
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


def review_window_expired(s: OrderState, now: datetime) -> Effects:
    s.review_window_expired = True
    return Effects(events=[event(s, EventName.REVIEW_WINDOW_EXPIRED, now)])


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
    _set_status(s, OrderStatus.CLOSED, fx)
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
