"""Dispatch (派单): to a volunteer, a unit's leader or an open call, accepting, declining,
the accept timeout, and what the workflow dispatches by itself."""

from __future__ import annotations

from datetime import datetime

from core.vocab import (
    OPEN_STATUSES,
    ActorKind,
    DispatchPolicy,
    EventName,
    Notice,
    OrderStatus,
    actor,
)
from workflows import errors
from workflows.errors import rejected
from workflows.order.messages import (
    AcceptInput,
    AssignInput,
    DeclineInput,
    DispatchInput,
    OpenCallInput,
)
from workflows.order.state.base import (
    Effects,
    OrderState,
    bump,
    event,
    not_for,
    notice,
    only_when,
    require_live,
    set_status,
    volunteer_acted,
)


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
    set_status(s, OrderStatus.DISPATCHED, fx)


def _return_to_center(s: OrderState, fx: Effects) -> None:
    """Back to pending; under ``suggest``/``auto`` the loop tries the next candidate."""
    s.volunteer_id = None
    s.unit_id = None
    s.leader_id = None
    s.offered = []
    s.auto_wanted = s.dispatch_policy != DispatchPolicy.MANUAL
    set_status(s, OrderStatus.PENDING, fx)


def check_dispatch(s: OrderState, inp: DispatchInput) -> None:
    only_when(s, OPEN_STATUSES, "only an order not yet completed can be dispatched")
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
    only_when(
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
    require_live(s)
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
    bump(s)
    return volunteer_acted(
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
    require_live(s)
    if s.status == OrderStatus.ACCEPTED:
        if inp.volunteer_id == s.volunteer_id:
            raise rejected(errors.INVALID_TRANSITION, "you have already accepted this order")
        if inp.volunteer_id in s.offered:
            raise rejected(errors.ALREADY_TAKEN, "another volunteer took this order first")
    only_when(s, (OrderStatus.DISPATCHED,), "only a dispatched order can be accepted")
    if inp.volunteer_id not in s.offered and inp.volunteer_id != s.volunteer_id:
        raise not_for(inp.volunteer_id)


def accept(s: OrderState, inp: AcceptInput, now: datetime) -> Effects:
    fx = Effects()
    s.volunteer_id = inp.volunteer_id
    set_status(s, OrderStatus.ACCEPTED, fx)
    return volunteer_acted(
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
    only_when(
        s,
        (OrderStatus.DISPATCHED, OrderStatus.ACCEPTED),
        "only a dispatched or accepted order can be declined",
    )
    holder = s.leader_id if s.awaiting_leader else s.volunteer_id
    offered = s.status == OrderStatus.DISPATCHED and inp.volunteer_id in s.offered
    if inp.volunteer_id != holder and not offered:
        raise not_for(inp.volunteer_id)


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
            set_status(s, OrderStatus.DISPATCHED, fx)
        else:
            bump(s)
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
        bump(s)
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
