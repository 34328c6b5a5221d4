"""The order's state, what a transition asks of the shell, and the small steps every phase
uses: numbering events, setting the status, refusing what does not fit."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.common import SearchAttributeUpdate

from activities.contracts import (
    CallRecord,
    EventRecord,
    FollowUpClosing,
    FollowUpQueueing,
    SmsInput,
    TransitionRecord,
)
from core.search_attributes import SA_STATUS
from core.snapshot import SNAPSHOT_FIELDS, OrderSnapshot
from core.vocab import (
    FINAL_STATUSES,
    ActorKind,
    DispatchPolicy,
    EventName,
    FollowUpStatus,
    Notice,
    OrderStatus,
    Rating,
    ReviewChannel,
    actor,
)
from workflows import errors
from workflows.errors import rejected
from workflows.order.messages import (
    CallState,
    OrderInput,
    OrderView,
)


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


# The view's fields that are the state's under another name; every other is the same name.
VIEW_FROM = {"deadline_at": "deadline", "offered_to": "offered"}
_VIEW_FIELDS = tuple(f.name for f in fields(OrderView))


def view(s: OrderState) -> OrderView:
    """The order as every command and the ``state`` query answer it: the state's fields of
    the view's names (lists copied), the offers only while the order is dispatched."""
    shown: dict[str, Any] = {}
    for name in _VIEW_FIELDS:
        value = getattr(s, VIEW_FROM.get(name, name))
        shown[name] = list(value) if isinstance(value, list) else value
    if s.status != OrderStatus.DISPATCHED:
        shown["offered_to"] = []
    return OrderView(**shown)


def snapshot(s: OrderState) -> OrderSnapshot:
    return snapshot_of(view(s))


def snapshot_of(shown: OrderView) -> OrderSnapshot:
    """The read model's columns: the view's fields of the same names, the status as text."""
    columns = {name: getattr(shown, name) for name in SNAPSHOT_FIELDS}
    columns["status"] = shown.status.value
    columns["review_channel"] = shown.review_channel.value if shown.review_channel else None
    return OrderSnapshot(**columns)


def details(s: OrderState, *, item_name: str = "", zone: str = "Asia/Shanghai") -> str:
    """The details line admins read in the Temporal UI (ids, codes and the service's name;
    times in the county's zone, as every page shows them)."""
    item = f"{item_name} (`{s.item_code}`)" if item_name else f"item `{s.item_code}`"
    parts = [f"**{s.status.value}**", item]
    if s.volunteer_id is not None:
        parts.append(f"volunteer {s.volunteer_id}")
    if s.unit_id is not None:
        parts.append(f"unit {s.unit_id} (leader {s.leader_id})")
    if s.offered and s.status == OrderStatus.DISPATCHED:
        parts.append(f"open call to {len(s.offered)}")
    if s.undispatchable:
        parts.append("**undispatchable**")
    local = s.deadline.astimezone(ZoneInfo(zone))
    parts.append(f"due {local:%Y-%m-%d %H:%M} {zone}")
    if s.escalation_level:
        parts.append(f"escalation level {s.escalation_level}")
    if s.follow_up_id is not None:
        parts.append(f"follow-up task {s.follow_up_id}")
        if s.follow_up_calls:
            parts.append(f"{s.follow_up_calls} automated call(s)")
        if s.follow_up_queued and not s.follow_up_done:
            parts.append("in the call-center queue")
    return " · ".join(parts)


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


def set_status(s: OrderState, status: OrderStatus, fx: Effects) -> None:
    s.status = status
    s.generation += 1
    fx.search_attributes.append(SA_STATUS.value_set(status.value))


def bump(s: OrderState) -> None:
    """Something changed without a status change that restarts the dispatch loop's wait."""
    s.generation += 1


def volunteer_acted(
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


def require_live(s: OrderState) -> None:
    if s.status in FINAL_STATUSES:
        raise rejected(errors.ORDER_FINISHED, f"the order is {s.status}")


def only_when(s: OrderState, allowed: Collection[OrderStatus], what: str) -> None:
    """Live, and in one of ``allowed``: else the command does not fit (``what`` says why)."""
    require_live(s)
    if s.status not in allowed:
        raise rejected(errors.INVALID_TRANSITION, f"{what}; this one is {s.status}")


def not_for(volunteer_id: int, what: str = "dispatched") -> Exception:
    return rejected(errors.NOT_ASSIGNED, f"the order is not {what} to volunteer {volunteer_id}")
