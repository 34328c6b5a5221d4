"""``OrderWorkflow``: the Temporal shell around the order's state machine (``state.py``).

One durable workflow per request for help. Each handler checks the command (update
validators refuse a bad transition before anything reaches history), applies the pure
transition and carries out its effects: search attributes, then one ``record_transition``
activity that persists the events and the read model before the command returns (so the
API reads its own writes), then SMS in the background (they never hold the order up).

Since ``PROJECTION_PATCH`` the projection and the candidate pick run as local activities:
a command is checked, applied, projected and answered in one workflow task, with one marker
in history instead of an activity's scheduled, started and completed events and a second
workflow task. They still retry, and stay idempotent on their keys (a worker killed mid-task
replays the task and runs the projection again). SMS and calls stay regular activities: they
talk to the outside, take seconds and must never hold an order's workflow task.

The phases are loops over timers: the dispatch loop (accept and team-assign timeouts, and
automatic dispatch under the ``suggest``/``auto`` policies), the completion deadline's
escalations, the review window, and the follow-up, whose automated calls (``follow_up.py``)
report back through the ``call_progress`` signal. Inputs and messages carry ids, codes and
times only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import (
    RetryPolicy,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        CALL_IMPOSSIBLE,
        PickInput,
        PlaceCallInput,
        SmsInput,
        TransitionResult,
        pick_candidate,
        place_follow_up_call,
        record_transition,
        send_sms,
    )
    from core.calling_hours import CallingHours
    from core.order_numbers import spoken
    from core.search_attributes import (
        SA_CATEGORY,
        SA_ESCALATION,
        SA_NUMBER,
        SA_OVERDUE,
        SA_STATUS,
        SA_TOWNSHIP,
        SEARCH_ATTRIBUTES,
    )
    from core.timeouts import DATABASE_ATTEMPT, DATABASE_FIRST_RETRY
    from core.vocab import OPEN_STATUSES, CallOutcome, Notice, OrderStatus
    from core.workflow_ids import workflow_id
    from workflows.order import follow_up
    from workflows.order import messages as msg
    from workflows.order import state as machine
    from workflows.order.state import Effects, OrderState

# The projection and the candidate pick: short attempts (see core/timeouts.py).
DATABASE_RETRY = RetryPolicy(
    initial_interval=DATABASE_FIRST_RETRY, maximum_interval=timedelta(seconds=30)
)
# One attempt of a Twilio request (the client's own HTTP timeout is shorter).
TWILIO_ATTEMPT = timedelta(seconds=30)
# After the resident's own review, the first call waits and asks to confirm it.
CONFIRM_REVIEW_PATCH = "follow-up-confirms-review"
# Projections and picks as local activities (a command answered in one workflow task),
# search attributes upserted only when their value changes. Orders started before it keep
# regular activities to the end.
PROJECTION_PATCH = "projection-local-activity"
# Offers' clocks stop in the quiet hours (``core.quiet_hours``): the accept and team-assign
# timers end when the pages and texts say. Offers already waiting keep their timers.
QUIET_HOURS_PATCH = "offer-quiet-hours"
# Twilio's side: a placing attempt retries for up to CALL_PLACING_WINDOW, then the call counts
# as failed and the next one is planned. SMS retry for a day and never hold the order up.
CALL_PLACING_WINDOW = timedelta(minutes=30)
CALL_RETRY = RetryPolicy(
    maximum_interval=timedelta(minutes=2), non_retryable_error_types=[CALL_IMPOSSIBLE]
)
SMS_WINDOW = timedelta(hours=24)
SMS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=10)
)
_SA_BY_NAME = {key.name: key for key in SEARCH_ATTRIBUTES}
In = TypeVar("In")
Out = TypeVar("Out")

__all__ = [
    "SEARCH_ATTRIBUTES",
    "OrderWorkflow",
    "initial_search_attributes",
    "summary",
    "workflow_id",
]


def initial_search_attributes(inp: msg.OrderInput) -> TypedSearchAttributes:
    """Search attributes an order starts with (the starter sets them at start)."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_STATUS, OrderStatus.PENDING.value),
            SearchAttributePair(SA_CATEGORY, inp.category_code),
            SearchAttributePair(SA_TOWNSHIP, inp.township),
            SearchAttributePair(SA_OVERDUE, False),
            SearchAttributePair(SA_ESCALATION, 0),
            *([SearchAttributePair(SA_NUMBER, inp.number)] if inp.number else []),
        ]
    )


def summary(inp: msg.OrderInput) -> str:
    """The one-line summary shown in the Temporal UI's workflow list (no personal data)."""
    shown = spoken(inp.number) if inp.number else str(inp.order_id)
    return f"{shown} · {inp.item_name or inp.item_code} · {inp.township}"


@workflow.defn
class OrderWorkflow:
    @workflow.init
    def __init__(self, inp: msg.OrderInput) -> None:
        self._inp = inp
        self._s = OrderState.start(inp)
        # SMS in flight: they never hold the order up, but the run waits for them to finish.
        self._notices: list[asyncio.Task[None]] = []

    @workflow.run
    async def run(self, inp: msg.OrderInput) -> msg.OrderView:
        self._describe()
        if inp.notify and inp.received_sms:
            # Keyed on the submitted event (seq 1): sent once however often the run replays.
            received = SmsInput(order_id=inp.order_id, notice=Notice.RECEIVED, seq=inp.last_seq)
            self._notices.append(asyncio.create_task(self._send_sms(received)))
        watcher = asyncio.create_task(self._watch_deadline())
        await self._until_completed_or_cancelled()
        if self._s.status != OrderStatus.CANCELLED:
            await self._await_review()
            await self._follow_up()
        await watcher
        await workflow.wait_condition(lambda: all(task.done() for task in self._notices))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return machine.view(self._s)

    # --- commands: check, apply, carry out ---------------------------------------------------

    @workflow.update
    async def dispatch(self, inp: msg.DispatchInput) -> msg.OrderView:
        """An admin dispatches (or re-dispatches) to a volunteer or a unit."""
        return await self._command(machine.check_dispatch, machine.dispatch, inp)

    @dispatch.validator
    def _check_dispatch(self, inp: msg.DispatchInput) -> None:
        machine.check_dispatch(self._s, inp)

    @workflow.update
    async def open_call(self, inp: msg.OpenCallInput) -> msg.OrderView:
        """Offer the order to several volunteers; the first to accept gets it."""
        return await self._command(machine.check_open_call, machine.open_call, inp)

    @open_call.validator
    def _check_open_call(self, inp: msg.OpenCallInput) -> None:
        machine.check_open_call(self._s, inp)

    @workflow.update
    async def assign(self, inp: msg.AssignInput) -> msg.OrderView:
        """The leader of the unit holding the order hands it to a member, who then accepts."""
        return await self._command(machine.check_assign, machine.assign, inp)

    @assign.validator
    def _check_assign(self, inp: msg.AssignInput) -> None:
        machine.check_assign(self._s, inp)

    @workflow.update
    async def accept(self, inp: msg.AcceptInput) -> msg.OrderView:
        return await self._command(machine.check_accept, machine.accept, inp)

    @accept.validator
    def _check_accept(self, inp: msg.AcceptInput) -> None:
        machine.check_accept(self._s, inp)

    @workflow.update
    async def decline(self, inp: msg.DeclineInput) -> msg.OrderView:
        return await self._command(machine.check_decline, machine.decline, inp)

    @decline.validator
    def _check_decline(self, inp: msg.DeclineInput) -> None:
        machine.check_decline(self._s, inp)

    @workflow.update
    async def complete(self, inp: msg.CompleteInput) -> msg.OrderView:
        return await self._command(machine.check_complete, machine.complete, inp)

    @complete.validator
    def _check_complete(self, inp: msg.CompleteInput) -> None:
        machine.check_complete(self._s, inp)

    @workflow.update
    async def review(self, inp: msg.ReviewInput) -> msg.OrderView:
        return await self._command(machine.check_review, machine.review, inp)

    @review.validator
    def _check_review(self, inp: msg.ReviewInput) -> None:
        machine.check_review(self._s, inp)

    @workflow.update
    async def cancel(self, inp: msg.CancelInput) -> msg.OrderView:
        return await self._command(machine.check_cancel, machine.cancel, inp)

    @cancel.validator
    def _check_cancel(self, inp: msg.CancelInput) -> None:
        machine.check_cancel(self._s, inp)

    @workflow.update
    async def hurry(self, inp: msg.HurryInput) -> msg.OrderView:
        """The resident hurries the order (催办), at most once per interval."""
        # Checked again here, as ``_command`` does: the interval depends on the time too.
        machine.check_hurry(self._s, inp, workflow.now())
        await self._carry_out(machine.hurry(self._s, inp, workflow.now()))
        return machine.view(self._s)

    @hurry.validator
    def _check_hurry(self, inp: msg.HurryInput) -> None:
        machine.check_hurry(self._s, inp, workflow.now())

    @workflow.update
    async def check_in(self, inp: msg.VisitInput) -> msg.OrderView:
        """The volunteer holding the order arrives (idempotent)."""
        return await self._command(machine.check_visit, machine.check_in, inp)

    @check_in.validator
    def _check_check_in(self, inp: msg.VisitInput) -> None:
        machine.check_visit(self._s, inp)

    @workflow.update
    async def check_out(self, inp: msg.VisitInput) -> msg.OrderView:
        """The volunteer holding the order leaves (idempotent): the hours are proposed."""
        return await self._command(machine.check_check_out, machine.check_out, inp)

    @check_out.validator
    def _check_check_out(self, inp: msg.VisitInput) -> None:
        machine.check_check_out(self._s, inp)

    @workflow.update
    async def record_follow_up(self, inp: msg.FollowUpResultInput) -> msg.OrderView:
        machine.check_follow_up(self._s, inp)
        # The task may be listed before its id reaches the workflow (see open_follow_up).
        await workflow.wait_condition(lambda: self._s.follow_up_id is not None)
        return await self._command(machine.check_follow_up, machine.record_follow_up, inp)

    @record_follow_up.validator
    def _check_follow_up(self, inp: msg.FollowUpResultInput) -> None:
        machine.check_follow_up(self._s, inp)

    @workflow.signal
    def call_progress(self, inp: msg.CallProgress) -> None:
        """A Twilio webhook's news about a follow-up call (deduplicated by callback)."""
        follow_up.classify(self._s, inp)

    @workflow.query
    def state(self) -> msg.OrderView:
        return machine.view(self._s)

    async def _command(
        self,
        check: Callable[[OrderState, Any], None],
        transition: Callable[[OrderState, Any, datetime], Effects | None],
        inp: Any,
    ) -> msg.OrderView:
        # Checked again in the handler: two racing commands both passed their validators,
        # and only the first to run here may apply (of two accepts, exactly one wins).
        check(self._s, inp)
        await self._carry_out(transition(self._s, inp, workflow.now()))
        return machine.view(self._s)

    # --- carrying out a transition's effects ---------------------------------------------------

    async def _carry_out(self, fx: Effects | None) -> TransitionResult | None:
        """Upsert what changed, persist the transition, then send its notices."""
        if fx is None:
            return None
        local = self._local()
        changed = _changed(fx.search_attributes) if local else fx.search_attributes
        if changed:
            workflow.upsert_search_attributes(changed)
        self._describe()
        record = fx.record(self._s)
        summary = ", ".join(e.event for e in fx.events)
        result = await _database(record_transition, record, local=local, summary=summary)
        if self._inp.notify:
            for sms in fx.notices:
                self._notices.append(asyncio.create_task(self._send_sms(sms)))
        return result

    async def _send_sms(self, sms: SmsInput) -> None:
        try:
            await workflow.execute_activity(
                send_sms,
                sms,
                start_to_close_timeout=TWILIO_ATTEMPT,
                schedule_to_close_timeout=SMS_WINDOW,
                retry_policy=SMS_RETRY,
                summary=f"sms {sms.notice.value}",
            )
        except ActivityError as err:
            workflow.logger.warning(
                "order %s: %s SMS not sent: %s", sms.order_id, sms.notice.value, err.cause
            )

    def _describe(self) -> None:
        workflow.set_current_details(
            machine.details(
                self._s, item_name=self._inp.item_name, zone=self._inp.follow_up.timezone
            )
        )

    @staticmethod
    def _local() -> bool:
        """Whether this order projects through local activities (``PROJECTION_PATCH``).

        Asked at each projection, not once in ``run``: an update can run before ``run``
        starts. The SDK remembers the first answer for the whole run, so an order that
        replays an older history keeps regular activities even for its new commands.
        """
        return workflow.patched(PROJECTION_PATCH)

    # --- phases ----------------------------------------------------------------------------------

    async def _until_completed_or_cancelled(self) -> None:
        """Pending ⇄ dispatched → accepted, until completion or cancellation."""
        s = self._s
        while s.status in OPEN_STATUSES:
            generation = s.generation
            if s.status == OrderStatus.PENDING and s.auto_wanted:
                s.auto_wanted = False
                await self._dispatch_next()
                continue
            if s.status != OrderStatus.DISPATCHED:
                await workflow.wait_condition(lambda: s.generation != generation)  # noqa: B023
                continue
            leader = s.awaiting_leader
            try:
                await workflow.wait_condition(
                    lambda: s.generation != generation,  # noqa: B023
                    timeout=self._offer_window(leader=leader),
                    timeout_summary="assign-timeout" if leader else "accept-timeout",
                )
            except TimeoutError:
                # An accept may land in the same activation as the timer: it wins.
                if s.generation == generation:
                    await self._carry_out(machine.offer_timed_out(s, workflow.now()))

    def _offer_window(self, *, leader: bool) -> timedelta:
        """How long the offer made now waits for its answer; the night does not count."""
        timers = self._inp.timers
        window = timedelta(
            seconds=timers.team_assign_timeout_s if leader else timers.accept_timeout_s
        )
        quiet = timers.quiet_hours
        if quiet is None or not workflow.patched(QUIET_HOURS_PATCH):
            return window
        now = workflow.now()
        return quiet.answer_by(now, window) - now

    async def _dispatch_next(self) -> None:
        """Dispatch to the best candidate not yet tried, or give up and tell the admins."""
        s = self._s
        if s.dispatch_attempts >= s.max_dispatch_attempts:
            await self._carry_out(machine.give_up(s, "attempts_exhausted", workflow.now()))
            return
        generation = s.generation
        pick = await _database(
            pick_candidate,
            PickInput(order_id=s.order_id, exclude=s.excluded),
            local=self._local(),
            summary="pick candidate",
        )
        if s.generation != generation or s.status != OrderStatus.PENDING:
            return  # an admin dispatched or the resident cancelled meanwhile
        if pick.volunteer_id is None:
            await self._carry_out(machine.give_up(s, "no_candidates", workflow.now()))
            return
        await self._carry_out(
            machine.auto_dispatched(s, pick.volunteer_id, pick.score, workflow.now())
        )

    async def _watch_deadline(self) -> None:
        """Escalate when the completion deadline passes, and again every repeat interval."""
        s = self._s
        due = s.deadline
        repeat = timedelta(seconds=self._inp.timers.escalation_repeat_s)
        while s.status in OPEN_STATUSES:
            wait = due - workflow.now()
            if wait > timedelta(0):
                try:
                    await workflow.wait_condition(
                        lambda: s.status not in OPEN_STATUSES,
                        timeout=wait,
                        timeout_summary=f"escalation-{s.escalation_level + 1}",
                    )
                    return
                except TimeoutError:
                    if s.status not in OPEN_STATUSES:
                        return
            await self._carry_out(machine.escalate(s, workflow.now()))
            due += repeat

    async def _await_review(self) -> None:
        s = self._s
        try:
            await workflow.wait_condition(
                lambda: s.status != OrderStatus.COMPLETED,
                timeout=timedelta(seconds=self._inp.timers.review_window_s),
                timeout_summary="review-window",
            )
        except TimeoutError:
            if s.status == OrderStatus.COMPLETED:
                await self._carry_out(machine.review_window_expired(s, workflow.now()))

    async def _follow_up(self) -> None:
        """Open the follow-up (回访), try the automated calls, wait for its result."""
        s = self._s
        max_calls = self._inp.follow_up.max_calls
        opened = await self._carry_out(machine.open_follow_up(s, max_calls, workflow.now()))
        assert opened is not None
        machine.follow_up_opened(s, opened.follow_up_id, queued=max_calls == 0)
        self._describe()
        if max_calls > 0:
            await self._call_resident()
        await workflow.wait_condition(lambda: s.follow_up_done)

    async def _call_resident(self) -> None:
        """Call until a call settles the follow-up or hands it to staff (see follow_up.py)."""
        s = self._s
        plan = self._inp.follow_up
        hours = CallingHours(
            start_minute=plan.calling_start_minute, end_minute=plan.calling_end_minute
        )
        due = workflow.now()
        if s.review_rating is not None and workflow.patched(CONFIRM_REVIEW_PATCH):
            s.confirming = s.review_rating
            if s.reviewed_at is not None:
                due = max(due, s.reviewed_at + timedelta(seconds=plan.after_review_s))
        for attempt in range(1, plan.max_calls + 1):
            at = hours.next_allowed(due, plan.timezone)
            if await self._settled_before(at):
                return
            call = await self._place_call(attempt)
            if call is None:
                return
            await _wait_until(
                lambda: call.outcome is not None or s.follow_up_done,  # noqa: B023
                within=timedelta(seconds=plan.call_timeout_s),
                summary=f"call-{attempt}-outcome",
            )
            if call.outcome is None and not s.follow_up_done:
                call.outcome = CallOutcome.LOST
            due = workflow.now() + timedelta(seconds=plan.retry_delay_s)
            last = attempt == plan.max_calls
            fx, over = follow_up.conclude(
                s,
                call,
                workflow.now(),
                next_at=None if last else hours.next_allowed(due, plan.timezone),
            )
            await self._carry_out(fx)
            if over:
                return

    async def _settled_before(self, at: datetime) -> bool:
        """Wait until ``at`` unless staff settle the follow-up first; whether they did."""
        s = self._s
        await _wait_until(
            lambda: s.follow_up_done, within=at - workflow.now(), summary="calling-hours"
        )
        return s.follow_up_done

    async def _place_call(self, attempt: int) -> msg.CallState | None:
        """Place one call; ``None`` when no call can ever be placed (the task is queued)."""
        s = self._s
        assert s.follow_up_id is not None
        try:
            result = await workflow.execute_activity(
                place_follow_up_call,
                PlaceCallInput(
                    order_id=s.order_id,
                    follow_up_id=s.follow_up_id,
                    attempt=attempt,
                    confirm_rating=s.confirming,
                ),
                start_to_close_timeout=TWILIO_ATTEMPT,
                schedule_to_close_timeout=CALL_PLACING_WINDOW,
                retry_policy=CALL_RETRY,
                summary=f"follow-up call {attempt}",
            )
        except ActivityError as err:
            s.follow_up_calls = attempt
            cause = err.cause
            if s.follow_up_done:
                return None
            if isinstance(cause, ApplicationError) and cause.type == CALL_IMPOSSIBLE:
                await self._carry_out(
                    follow_up.not_placed(s, attempt, cause.message, workflow.now())
                )
                return None
            # Twilio stayed unreachable for the whole placing window: a failed attempt.
            workflow.logger.warning("order %s: call %d not placed: %s", s.order_id, attempt, err)
            return msg.CallState(call_id=None, attempt=attempt, outcome=CallOutcome.FAILED)
        call = follow_up.placed(s, attempt, result.call_id, result.call_sid)
        await self._carry_out(follow_up.call_placed(s, call, workflow.now()))
        return call


async def _database(activity: Callable[[In], Out], arg: In, *, local: bool, summary: str) -> Out:
    """One database activity (the projection, the pick): local under ``PROJECTION_PATCH``."""
    run = workflow.execute_local_activity if local else workflow.execute_activity
    return await run(
        activity,
        arg,
        start_to_close_timeout=DATABASE_ATTEMPT,
        retry_policy=DATABASE_RETRY,
        summary=summary,
    )


def _changed(updates: list[SearchAttributeUpdate[Any]]) -> list[SearchAttributeUpdate[Any]]:
    """The updates whose value differs from the attribute's current one.

    An unchanged value would still be one more upsert recorded in history and indexed.
    """
    current = workflow.info().typed_search_attributes
    return [u for u in updates if current.get(u.key) != u.value]


async def _wait_until(condition: Callable[[], bool], *, within: timedelta, summary: str) -> None:
    """Wait for ``condition`` or ``within``, whichever comes first."""
    if condition() or within <= timedelta(0):
        return
    with contextlib.suppress(TimeoutError):
        await workflow.wait_condition(condition, timeout=within, timeout_summary=summary)
