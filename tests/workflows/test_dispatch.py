"""Dispatch inside the workflow: policies, next-candidate chains, open calls, units, re-dispatch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from core.models import OrderEvent, Volunteer, VolunteerSkill
from core.quiet_hours import QuietHours
from core.vocab import DispatchPolicy, OrderStatus
from tests.helpers import Harness, Registry
from tests.polling import eventually
from tests.workflows.test_order_workflow import rejected_with
from workflows import errors
from workflows.order import (
    AcceptInput,
    AssignInput,
    CompleteInput,
    DeclineInput,
    DispatchInput,
    OpenCallInput,
    OrderView,
    OrderWorkflow,
)

Handle = WorkflowHandle[OrderWorkflow, OrderView]
ITEM = "legal.mediation"


async def until(handle: Handle, check: Callable[[OrderView], bool]) -> OrderView:
    """The workflow's state once ``check`` holds (the workflow acts on its own)."""
    return await eventually(
        lambda: handle.query(OrderWorkflow.state), check, what="the expected state"
    )


async def ranked_trio(system: Harness, registry: Registry) -> tuple[int, int, int]:
    """Three volunteers the ranking orders best, second, third for ``ITEM``."""
    best = await registry.volunteer(system.township, skills=[ITEM], trade="law")
    second = await registry.volunteer(system.township, skills=[ITEM])
    third = await registry.volunteer(system.township, skills=["legal"])
    return best, second, third


async def test_auto_policy_dispatches_itself_moves_on_and_gives_up_after_max_attempts(
    system: Harness, registry: Registry, env: WorkflowEnvironment
) -> None:
    await registry.policy("legal", DispatchPolicy.AUTO)
    best, second, third = await ranked_trio(system, registry)
    handle = await system.submit(item_code=ITEM)

    view = await until(handle, lambda v: v.volunteer_id == best)
    assert (view.status, view.dispatch_policy, view.dispatch_attempts) == (
        OrderStatus.DISPATCHED,
        DispatchPolicy.AUTO,
        1,
    )
    await handle.execute_update(OrderWorkflow.decline, DeclineInput(volunteer_id=best))
    view = await until(handle, lambda v: v.volunteer_id == second)
    assert view.dispatch_attempts == 2

    # The second stays silent: after ACCEPT_TIMEOUT the third gets it.
    await env.sleep(timedelta(seconds=system.settings.accept_timeout.total_seconds() + 60))
    view = await until(handle, lambda v: v.volunteer_id == third)
    assert view.passed_over == [second]
    assert view.dispatch_attempts == 3

    # The third declines: three attempts made, the order waits for an admin, flagged.
    await handle.execute_update(OrderWorkflow.decline, DeclineInput(volunteer_id=third))
    view = await until(handle, lambda v: v.undispatchable)
    assert (view.status, view.volunteer_id) == (OrderStatus.PENDING, None)
    events = await system.settled_events(handle)  # the read model has caught up
    order = await system.order(handle)
    assert (order.undispatchable, order.dispatch_attempts, order.status) == (True, 3, "pending")
    assert events.count("dispatched") == 3 and events[-1] == "undispatchable"

    # An admin takes over (even one who let it time out may be chosen by hand).
    view = await handle.execute_update(
        OrderWorkflow.dispatch, DispatchInput(volunteer_id=second, admin_id=1)
    )
    assert (view.undispatchable, view.volunteer_id) == (False, second)
    assert (await system.order(handle)).undispatchable is False


async def test_suggest_policy_waits_for_the_admin_then_moves_on_by_itself(
    system: Harness, registry: Registry
) -> None:
    await registry.policy("legal", DispatchPolicy.SUGGEST)
    best, second, _ = await ranked_trio(system, registry)
    handle = await system.submit(item_code=ITEM)
    view = await handle.query(OrderWorkflow.state)
    assert (view.status, view.dispatch_attempts) == (OrderStatus.PENDING, 0)

    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=best))
    await handle.execute_update(OrderWorkflow.decline, DeclineInput(volunteer_id=best))
    view = await until(handle, lambda v: v.volunteer_id == second)
    assert view.declined_by == [best]
    assert (await system.settled_events(handle))[-3:] == ["dispatched", "declined", "dispatched"]


def _retire_skilled(session: Session, category: str) -> None:
    skilled = select(VolunteerSkill.volunteer_id).where(
        or_(VolunteerSkill.code == category, VolunteerSkill.code.startswith(f"{category}."))
    )
    session.execute(update(Volunteer).where(Volunteer.id.in_(skilled)).values(active=False))


async def test_auto_policy_with_nobody_to_ask_is_undispatchable_at_once(
    system: Harness, registry: Registry
) -> None:
    # Ranking is county-wide: nobody to ask means no active volunteer with the skill anywhere,
    # whatever earlier tests (the console's pages among them) left registered.
    await system.db.run(_retire_skilled, "legal")
    await registry.policy("legal", DispatchPolicy.AUTO)
    handle = await system.submit(item_code="legal.education")
    view = await until(handle, lambda v: v.undispatchable)
    assert (view.status, view.dispatch_attempts) == (OrderStatus.PENDING, 0)


async def test_open_call_first_accept_wins_and_everyone_else_is_told_it_is_taken(
    system: Harness,
) -> None:
    handle = await system.submit()
    offered = [await system.volunteer() for _ in range(4)]
    view = await handle.execute_update(
        OrderWorkflow.open_call, OpenCallInput(volunteer_ids=offered, admin_id=1)
    )
    assert (view.status, view.offered_to, view.volunteer_id) == (
        OrderStatus.DISPATCHED,
        offered,
        None,
    )
    results = await asyncio.gather(
        *(
            handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=v))
            for v in offered
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, OrderView)]
    losers = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert len(winners) == 1 and len(losers) == 3
    for failure in losers:
        assert isinstance(failure.cause, ApplicationError)
        assert failure.cause.type == errors.ALREADY_TAKEN
    view = await handle.query(OrderWorkflow.state)
    assert view.status == OrderStatus.ACCEPTED and view.volunteer_id in offered
    order = await system.order(handle)
    assert order.volunteer_id == view.volunteer_id
    assert (await system.events(handle)).count("accepted") == 1


async def test_open_call_declines_and_timeout_pass_over_everyone(
    system: Harness, env: WorkflowEnvironment
) -> None:
    handle = await system.submit()
    a, b, outsider = [await system.volunteer() for _ in range(3)]
    await handle.execute_update(OrderWorkflow.open_call, OpenCallInput(volunteer_ids=[a, b]))
    await rejected_with(
        handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=outsider)),
        errors.NOT_ASSIGNED,
    )
    view = await handle.execute_update(OrderWorkflow.decline, DeclineInput(volunteer_id=a))
    assert (view.status, view.offered_to) == (OrderStatus.DISPATCHED, [b])
    await env.sleep(timedelta(seconds=system.settings.accept_timeout.total_seconds() + 60))
    view = await until(handle, lambda v: v.status == OrderStatus.PENDING)
    assert (view.declined_by, view.passed_over, view.offered_to) == ([a], [b], [])


async def test_team_dispatch_goes_through_the_leader_with_its_own_timeout(
    system: Harness, registry: Registry, env: WorkflowEnvironment
) -> None:
    leader = await registry.volunteer(system.township)
    first = await registry.volunteer(system.township)
    second = await registry.volunteer(system.township)
    unit = await registry.unit(system.township, leader=leader, members=[first, second])
    handle = await system.submit()
    view = await handle.execute_update(
        OrderWorkflow.dispatch, DispatchInput(unit_id=unit, leader_id=leader)
    )
    assert (view.status, view.unit_id, view.leader_id, view.volunteer_id) == (
        OrderStatus.DISPATCHED,
        unit,
        leader,
        None,
    )
    await rejected_with(
        handle.execute_update(
            OrderWorkflow.assign, AssignInput(leader_id=first, volunteer_id=second)
        ),
        errors.NOT_LEADER,
    )
    await rejected_with(
        handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=first)),
        errors.NOT_ASSIGNED,
    )
    await handle.execute_update(
        OrderWorkflow.assign, AssignInput(leader_id=leader, volunteer_id=first)
    )
    # The member declines: back to the leader, who picks another.
    view = await handle.execute_update(OrderWorkflow.decline, DeclineInput(volunteer_id=first))
    assert (view.status, view.unit_id, view.volunteer_id) == (OrderStatus.DISPATCHED, unit, None)
    await handle.execute_update(
        OrderWorkflow.assign, AssignInput(leader_id=leader, volunteer_id=second)
    )
    view = await handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=second))
    assert (view.status, view.volunteer_id, view.unit_id) == (OrderStatus.ACCEPTED, second, unit)
    order = await system.order(handle)
    assert (order.unit_id, order.volunteer_id) == (unit, second)

    # A leader who never hands the order on: after TEAM_ASSIGN_TIMEOUT it returns to the center.
    idle = await system.submit()
    await idle.execute_update(OrderWorkflow.dispatch, DispatchInput(unit_id=unit, leader_id=leader))
    await env.sleep(timedelta(seconds=system.settings.team_assign_timeout.total_seconds() + 60))
    view = await until(idle, lambda v: v.status == OrderStatus.PENDING)
    assert (view.unit_id, view.leader_id) == (None, None)
    assert (await system.events(idle))[-1] == "accept_timeout"


async def test_redispatch_of_an_accepted_order_keeps_the_deadline(system: Harness) -> None:
    handle = await system.submit()
    ill, stand_in = await system.volunteer(), await system.volunteer()
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=ill))
    before = await handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=ill))
    view = await handle.execute_update(
        OrderWorkflow.dispatch, DispatchInput(volunteer_id=stand_in, admin_id=7)
    )
    assert (view.status, view.volunteer_id) == (OrderStatus.DISPATCHED, stand_in)
    assert view.deadline_at == before.deadline_at
    await rejected_with(
        handle.execute_update(OrderWorkflow.complete, CompleteInput(volunteer_id=ill, hours=1)),
        errors.INVALID_TRANSITION,
    )
    order = await system.order(handle)
    assert order.volunteer_id == stand_in
    timeline = await system.db.run(_last_event, order.id)
    assert timeline == ("redispatched", stand_in, ill)


def _last_event(session: Session, order_id: int) -> tuple[str, int | None, object]:
    ev = session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.seq.desc())
    ).first()
    assert ev is not None
    return ev.event, ev.volunteer_id, ev.data.get("previous_volunteer_id")


async def test_the_accept_window_stops_in_the_quiet_hours(
    system: Harness, env: WorkflowEnvironment
) -> None:
    """An offer made an hour before the quiet hours keeps waiting through them.

    The quiet hours are set around the test server's own clock (which starts at the real
    time), so the test means the same at any hour it runs.
    """
    zone = ZoneInfo(system.settings.county_timezone)
    now = (await env.get_current_time()).astimezone(zone)
    start = (now.hour * 60 + now.minute + 60) % (24 * 60)  # quiet from an hour from now...
    quiet = QuietHours(start, (start + 120) % (24 * 60), system.settings.county_timezone)
    system.settings = system.settings.model_copy(
        update={"quiet_hours": quiet, "accept_timeout": timedelta(hours=2)}
    )
    handle = await system.submit()
    volunteer = await system.volunteer()
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=volunteer))
    # Two hours later the plain window would have lapsed; an hour of it is still to come.
    await env.sleep(timedelta(hours=2, minutes=5))
    view = await handle.query(OrderWorkflow.state)
    assert (view.status, view.volunteer_id) == (OrderStatus.DISPATCHED, volunteer)
    await env.sleep(timedelta(hours=2))
    view = await until(handle, lambda v: v.status == OrderStatus.PENDING)
    assert (await system.events(handle))[-1] == "accept_timeout"
