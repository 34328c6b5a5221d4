"""OrderWorkflow on the time-skipping server, with the real activities and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from core.search_attributes import SA_ESCALATION, SA_OVERDUE, SA_STATUS
from core.vocab import FollowUpMethod, FollowUpOutcome, OrderStatus, Rating, ReviewChannel
from tests.helpers import WHOLE_LOOP, Harness, escalation_levels, follow_up_of, order_id_of
from tests.polling import eventually
from workflows import errors
from workflows.order import (
    AcceptInput,
    CancelInput,
    CompleteInput,
    DeclineInput,
    DispatchInput,
    FollowUpResultInput,
    HurryInput,
    OrderView,
    OrderWorkflow,
    ReviewInput,
    VisitInput,
)

Handle = WorkflowHandle[OrderWorkflow, OrderView]


async def rejected_with(coro: object, error_type: str) -> str:
    """Await a command that must be rejected; return the reason given."""
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await coro  # type: ignore[misc]
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == error_type, cause.message
    return cause.message


async def to_accepted(system: Harness) -> tuple[Handle, int]:
    handle = await system.submit()
    volunteer = await system.volunteer()
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=volunteer))
    await handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=volunteer))
    return handle, volunteer


async def to_completed(system: Harness) -> Handle:
    handle, volunteer = await to_accepted(system)
    await handle.execute_update(
        OrderWorkflow.complete, CompleteInput(volunteer_id=volunteer, hours=1)
    )
    return handle


async def to_follow_up(system: Harness, rating: Rating = Rating.SATISFIED) -> Handle:
    handle, volunteer = await to_accepted(system)
    await handle.execute_update(
        OrderWorkflow.complete, CompleteInput(volunteer_id=volunteer, hours=2.5)
    )
    await handle.execute_update(OrderWorkflow.review, ReviewInput(rating=rating))
    await wait_for_follow_up(handle)
    return handle


async def wait_for_follow_up(handle: Handle) -> int:
    view = await eventually(
        lambda: handle.query(OrderWorkflow.state),
        lambda v: v.follow_up_id is not None,
        what="a follow-up task opened",
    )
    assert view.follow_up_id is not None
    return view.follow_up_id


async def test_full_lifecycle_persists_every_transition_once(system: Harness) -> None:
    handle = await to_follow_up(system, Rating.VERY_SATISFIED)
    follow_up_id = await wait_for_follow_up(handle)
    order = await system.order(handle)
    assert order.status == "reviewed"
    assert order.rating == "very_satisfied"
    assert order.hours == 2.5

    view = await handle.execute_update(
        OrderWorkflow.record_follow_up,
        FollowUpResultInput(
            follow_up_id=follow_up_id,
            method=FollowUpMethod.PHONE,
            outcome=FollowUpOutcome.CONFIRMED,
        ),
    )
    assert view.status == OrderStatus.CLOSED
    result = await handle.result()
    assert result.status == OrderStatus.CLOSED

    assert await system.events(handle) == WHOLE_LOOP
    order = await system.order(handle)
    assert (order.status, order.rating, order.review_rating) == (
        "closed",
        "very_satisfied",
        "very_satisfied",
    )
    assert order.closed_at is not None and order.completed_at is not None
    task = await system.db.run(follow_up_of, order_id_of(handle))
    assert task is not None
    assert (task.status, task.method, task.outcome) == ("done", "phone", "confirmed")

    desc = await handle.describe()
    assert desc.typed_search_attributes.get(SA_STATUS) == "closed"
    assert desc.typed_search_attributes.get(SA_OVERDUE) is False
    # No resident personal data anywhere in the history, and the history stays small
    # (Temporal warns at 10,240 events and 10 MB).
    fetched = await handle.fetch_history()
    history = fetched.to_json()
    for secret in ("龙秀英", "13800138000", "龙井社区", "买药"):
        assert secret not in history
    assert len(fetched.events) < 120
    assert len(history.encode()) < 100_000


async def test_decline_returns_to_pending_and_remembers_who_declined(system: Harness) -> None:
    handle = await system.submit()
    first, second = await system.volunteer(), await system.volunteer()
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=first))
    view = await handle.execute_update(OrderWorkflow.decline, DeclineInput(volunteer_id=first))
    assert view.status == OrderStatus.PENDING
    assert view.volunteer_id is None
    assert view.declined_by == [first]

    await rejected_with(
        handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=first)),
        errors.ALREADY_DECLINED,
    )
    view = await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=second))
    assert (view.status, view.volunteer_id) == (OrderStatus.DISPATCHED, second)
    assert await system.events(handle) == ["submitted", "dispatched", "declined", "dispatched"]
    order = await system.order(handle)
    assert (order.status, order.volunteer_id) == ("dispatched", second)


async def test_invalid_transitions_are_rejected_and_change_nothing(system: Harness) -> None:
    handle = await system.submit()
    volunteer, other = await system.volunteer(), await system.volunteer()

    await rejected_with(
        handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=volunteer)),
        errors.INVALID_TRANSITION,
    )
    await rejected_with(
        handle.execute_update(OrderWorkflow.review, ReviewInput(rating=Rating.SATISFIED)),
        errors.INVALID_TRANSITION,
    )
    await rejected_with(
        handle.execute_update(
            OrderWorkflow.complete, CompleteInput(volunteer_id=volunteer, hours=1)
        ),
        errors.INVALID_TRANSITION,
    )
    await rejected_with(
        handle.execute_update(OrderWorkflow.decline, DeclineInput(volunteer_id=volunteer)),
        errors.INVALID_TRANSITION,
    )
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=volunteer))
    reason = await rejected_with(
        handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=other)),
        errors.NOT_ASSIGNED,
    )
    assert str(other) in reason
    await rejected_with(
        handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=volunteer)),
        errors.INVALID_TRANSITION,
    )
    await handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=volunteer))
    await rejected_with(
        handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=volunteer)),
        errors.INVALID_TRANSITION,
    )
    await rejected_with(
        handle.execute_update(OrderWorkflow.complete, CompleteInput(volunteer_id=other, hours=1)),
        errors.NOT_ASSIGNED,
    )
    await rejected_with(
        handle.execute_update(
            OrderWorkflow.record_follow_up,
            FollowUpResultInput(
                follow_up_id=1, method=FollowUpMethod.PHONE, outcome=FollowUpOutcome.CONFIRMED
            ),
        ),
        errors.INVALID_TRANSITION,
    )

    # Rejected commands were refused by validators: none of them reached history.
    history = await handle.fetch_history()
    accepted_updates = [
        e
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted_updates) == 2  # the dispatch and the accept
    assert await system.events(handle) == ["submitted", "dispatched", "accepted"]
    view = await handle.query(OrderWorkflow.state)
    assert (view.status, view.volunteer_id) == (OrderStatus.ACCEPTED, volunteer)


async def test_concurrent_accepts_have_exactly_one_winner(system: Harness) -> None:
    handle = await system.submit()
    volunteer = await system.volunteer()
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=volunteer))
    results = await asyncio.gather(
        *(
            handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=volunteer))
            for _ in range(5)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, OrderView)]
    losers = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert len(winners) == 1, results
    assert len(losers) == 4
    assert await system.events(handle) == ["submitted", "dispatched", "accepted"]


async def test_accept_timeout_returns_order_to_pending(
    system: Harness, env: WorkflowEnvironment
) -> None:
    handle = await system.submit()
    volunteer = await system.volunteer()
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=volunteer))
    await env.sleep(timedelta(hours=3, minutes=59))
    assert (await handle.query(OrderWorkflow.state)).status == OrderStatus.DISPATCHED
    await env.sleep(timedelta(minutes=2))
    await wait_for_events(system, handle, "accept_timeout")
    view = await handle.query(OrderWorkflow.state)
    assert (view.status, view.volunteer_id) == (OrderStatus.PENDING, None)
    details = (await handle.describe()).raw_description.execution_config.user_metadata
    assert "volunteer" not in details.details.data.decode()  # the UI line forgets them too
    order = await system.order(handle)
    assert (order.status, order.volunteer_id) == ("pending", None)
    # The volunteer who let it lapse can be dispatched again (they did not decline).
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=volunteer))


async def test_escalates_at_the_deadline_and_again_every_repeat(
    system: Harness, env: WorkflowEnvironment
) -> None:
    handle, volunteer = await to_accepted(system)
    order_id = order_id_of(handle)
    await env.sleep(timedelta(hours=71, minutes=50))
    assert await system.db.run(escalation_levels, order_id) == []
    await env.sleep(timedelta(minutes=20))
    await wait_for_events(system, handle, "escalated")
    assert await system.db.run(escalation_levels, order_id) == [1]
    order = await system.order(handle)
    assert (order.overdue, order.escalation_level) == (True, 1)

    await env.sleep(timedelta(hours=24))
    await eventually(
        lambda: system.db.run(escalation_levels, order_id),
        lambda levels: levels == [1, 2],
        what="escalations 1 and 2",
    )
    desc = await handle.describe()
    assert desc.typed_search_attributes.get(SA_OVERDUE) is True
    assert desc.typed_search_attributes.get(SA_ESCALATION) == 2

    # Completion stops the escalation clock; the order stays marked overdue.
    view = await handle.execute_update(
        OrderWorkflow.complete, CompleteInput(volunteer_id=volunteer, hours=1)
    )
    assert view.overdue and view.escalation_level == 2
    await env.sleep(timedelta(hours=48))
    assert await system.db.run(escalation_levels, order_id) == [1, 2]


async def test_review_window_expiry_goes_to_follow_up_which_records_the_rating(
    system: Harness, env: WorkflowEnvironment
) -> None:
    handle = await to_completed(system)
    await env.sleep(timedelta(days=3, minutes=1))
    follow_up_id = await wait_for_follow_up(handle)
    assert await system.events(handle) == [
        "submitted",
        "dispatched",
        "accepted",
        "completed",
        "review_window_expired",
        "follow_up_created",
    ]
    await rejected_with(
        handle.execute_update(OrderWorkflow.review, ReviewInput(rating=Rating.SATISFIED)),
        errors.REVIEW_WINDOW_CLOSED,
    )
    await rejected_with(
        handle.execute_update(
            OrderWorkflow.record_follow_up,
            FollowUpResultInput(
                follow_up_id=follow_up_id + 1000,
                method=FollowUpMethod.PHONE,
                outcome=FollowUpOutcome.CONFIRMED,
            ),
        ),
        errors.FOLLOW_UP_MISMATCH,
    )
    # Nobody rated it yet: the follow-up must bring the rating back.
    await rejected_with(
        handle.execute_update(
            OrderWorkflow.record_follow_up,
            FollowUpResultInput(
                follow_up_id=follow_up_id,
                method=FollowUpMethod.HOME_VISIT,
                outcome=FollowUpOutcome.CONFIRMED,
            ),
        ),
        errors.RATING_REQUIRED,
    )
    await handle.execute_update(
        OrderWorkflow.record_follow_up,
        FollowUpResultInput(
            follow_up_id=follow_up_id,
            method=FollowUpMethod.HOME_VISIT,
            outcome=FollowUpOutcome.CONFIRMED,
            rating=Rating.AVERAGE,
        ),
    )
    await handle.result()
    order = await system.order(handle)
    assert (order.status, order.rating, order.review_rating) == ("closed", "average", None)


async def test_follow_up_correction_keeps_both_ratings(system: Harness) -> None:
    handle = await to_follow_up(system, Rating.VERY_SATISFIED)
    follow_up_id = await wait_for_follow_up(handle)
    await handle.execute_update(
        OrderWorkflow.record_follow_up,
        FollowUpResultInput(
            follow_up_id=follow_up_id,
            method=FollowUpMethod.PHONE,
            outcome=FollowUpOutcome.RATING_CORRECTED,
            rating=Rating.DISSATISFIED,
        ),
    )
    await handle.result()
    order = await system.order(handle)
    assert (order.rating, order.review_rating) == ("dissatisfied", "very_satisfied")


async def test_unreachable_resident_closes_without_a_rating(
    system: Harness, env: WorkflowEnvironment
) -> None:
    handle = await to_completed(system)
    await env.sleep(timedelta(days=3, minutes=1))
    follow_up_id = await wait_for_follow_up(handle)
    view = await handle.execute_update(
        OrderWorkflow.record_follow_up,
        FollowUpResultInput(
            follow_up_id=follow_up_id,
            method=FollowUpMethod.FIELD_VISIT,
            outcome=FollowUpOutcome.UNREACHABLE,
        ),
    )
    assert (view.status, view.rating) == (OrderStatus.CLOSED, None)
    task = await system.db.run(follow_up_of, order_id_of(handle))
    assert task is not None and (task.status, task.outcome) == ("done", "unreachable")


async def test_cancel_before_completion_ends_the_workflow(
    system: Harness, env: WorkflowEnvironment
) -> None:
    handle = await system.submit()
    volunteer = await system.volunteer()
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=volunteer))
    view = await handle.execute_update(OrderWorkflow.cancel, CancelInput())
    assert view.status == OrderStatus.CANCELLED
    result = await handle.result()
    assert result.status == OrderStatus.CANCELLED
    await env.sleep(timedelta(hours=100))
    assert await system.events(handle) == ["submitted", "dispatched", "cancelled"]
    assert await system.db.run(escalation_levels, order_id_of(handle)) == []
    order = await system.order(handle)
    assert order.status == "cancelled" and order.closed_at is not None


async def test_cancel_after_completion_is_rejected(system: Harness) -> None:
    handle = await to_completed(system)
    await rejected_with(
        handle.execute_update(OrderWorkflow.cancel, CancelInput()), errors.INVALID_TRANSITION
    )
    assert (await system.order(handle)).status == "completed"


async def wait_for_events(system: Harness, handle: Handle, event: str) -> None:
    await eventually(lambda: system.events(handle), lambda seen: event in seen, what=event)


async def test_hurry_check_in_out_and_an_on_site_review_reach_the_read_model(
    system: Harness,
) -> None:
    handle = await system.submit()
    await handle.execute_update(OrderWorkflow.hurry, HurryInput(interval_s=3600))
    await rejected_with(
        handle.execute_update(OrderWorkflow.hurry, HurryInput(interval_s=3600)),
        errors.HURRY_TOO_SOON,
    )
    volunteer = await system.volunteer()
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=volunteer))
    await handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=volunteer))
    visit = VisitInput(volunteer_id=volunteer)
    await rejected_with(handle.execute_update(OrderWorkflow.check_out, visit), "NotCheckedIn")
    await handle.execute_update(OrderWorkflow.check_in, visit)
    await handle.execute_update(OrderWorkflow.check_in, visit)  # kept once
    view = await handle.execute_update(OrderWorkflow.check_out, visit)
    assert view.checked_in_at is not None and view.checked_out_at is not None
    await handle.execute_update(
        OrderWorkflow.complete, CompleteInput(volunteer_id=volunteer, hours=1)
    )
    await handle.execute_update(
        OrderWorkflow.review, ReviewInput(rating=Rating.SATISFIED, channel=ReviewChannel.ON_SITE)
    )
    order = await system.order(handle)
    assert (order.hurry_count, order.review_channel) == (1, "on_site")
    assert order.checked_in_at == view.checked_in_at
    assert order.checked_out_at == view.checked_out_at
    assert await system.events(handle) == [
        "submitted",
        "hurried",
        "dispatched",
        "accepted",
        "checked_in",
        "checked_out",
        "completed",
        "reviewed",
        "follow_up_created",
    ]


async def test_a_command_is_checked_projected_and_answered_in_one_workflow_task(
    system: Harness,
) -> None:
    # The projection runs as a local activity, so nothing waits on the task queue
    # between the update's acceptance and its answer, and unchanged search attributes are
    # not upserted again.
    handle = await system.submit()
    first, volunteer = await system.volunteer(), await system.volunteer()
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=first))
    # Still dispatched, to someone else: the status attribute keeps its value.
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=volunteer))
    await handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=volunteer))
    await handle.execute_update(
        OrderWorkflow.complete, CompleteInput(volunteer_id=volunteer, hours=1)
    )
    events = (await handle.fetch_history()).events
    kinds = [e.event_type for e in events]
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in kinds
    accepted = [
        i
        for i, k in enumerate(kinds)
        if k == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    completed = [
        i
        for i, k in enumerate(kinds)
        if k == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
    ]
    assert len(accepted) == len(completed) == 4  # dispatch, dispatch again, accept, complete
    commands = [events[start:end] for start, end in zip(accepted, completed, strict=True)]
    for between in commands:
        kinds_between = [e.event_type for e in between]
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED not in kinds_between
        projections = [
            e
            for e in between
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
        ]
        assert len(projections) == 1
    upserts = [
        [
            e
            for e in between
            if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        ]
        for between in commands
    ]
    # The first also records the patch's own attribute (TemporalChangeVersion).
    assert [len(u) for u in upserts] == [2, 0, 1, 1]
    assert await system.events(handle) == [
        "submitted",
        "dispatched",
        "dispatched",
        "accepted",
        "completed",
    ]
