"""``OrderWorkflow``: one durable workflow per request for help, through the four orders.

pending → dispatched → accepted → completed → reviewed → (follow-up) → closed, with
decline and accept-timeout returning the order to pending, cancel before completion,
and escalation each time the 72-hour completion deadline (and every repeat after it)
passes without completion.

Dispatch goes to a volunteer, to a team or station (whose leader assigns a member), or as
an open call to several volunteers at once (the first accept wins). Under the ``suggest``
and ``auto`` policies the workflow itself dispatches to the next-best candidate after a
decline or timeout (``auto`` also at submission), and after ``max_dispatch_attempts``
flags the order undispatchable for the admins. An admin may re-dispatch an accepted
order; the completion deadline never moves.

The follow-up (回访) first calls the resident (``place_follow_up_call``; Twilio's webhooks
report back through the ``call_progress`` signal): a keypad rating settles it, anything else
is retried within calling hours, and what the calls cannot settle goes to call-center staff,
whose result closes the order. SMS at dispatch, accept, completion and escalation are sent
in the background and never hold the order up.

Every transition is persisted by the ``record_transition`` activity into the read
model and the audit table before the command that caused it returns, so the API can
read its own writes. Inputs and messages carry ids, codes and times only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import (
    RetryPolicy,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.messages import (
        CALL_IMPOSSIBLE,
        PICK_CANDIDATE,
        PLACE_CALL,
        RECORD_TRANSITION,
        SEND_SMS,
        CallRecord,
        EventRecord,
        FollowUpClosing,
        FollowUpQueueing,
        OrderSnapshot,
        PickInput,
        PickResult,
        PlaceCallInput,
        PlaceCallResult,
        SmsInput,
        SmsResult,
        TransitionRecord,
        TransitionResult,
    )
    from core.calling_hours import CallingHours
    from core.vocab import (
        FINAL_STATUSES,
        GATHER_ROUNDS,
        OPEN_STATUSES,
        QUEUE_PRIORITY,
        STAFF_KEY,
        ActorKind,
        CallOutcome,
        DispatchPolicy,
        EventName,
        FollowUpMethod,
        FollowUpOutcome,
        FollowUpStatus,
        Notice,
        OrderStatus,
        QueueReason,
        Rating,
        SettledBy,
        actor,
        is_machine,
        keypad,
    )
    from workflows import errors
    from workflows.errors import rejected
    from workflows.order_messages import (
        AcceptInput,
        AssignInput,
        CallProgress,
        CallState,
        CancelInput,
        CompleteInput,
        DeclineInput,
        DispatchInput,
        FollowUpResultInput,
        OpenCallInput,
        OrderInput,
        OrderView,
        ReviewInput,
    )

SA_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
SA_CATEGORY = SearchAttributeKey.for_keyword("ServiceCategory")
SA_TOWNSHIP = SearchAttributeKey.for_keyword("Township")
SA_OVERDUE = SearchAttributeKey.for_bool("Overdue")
SA_ESCALATION = SearchAttributeKey.for_int("EscalationLevel")
SEARCH_ATTRIBUTES = (SA_STATUS, SA_CATEGORY, SA_TOWNSHIP, SA_OVERDUE, SA_ESCALATION)

ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
# Twilio's side: a placing attempt retries for up to CALL_PLACING_WINDOW, then the call counts
# as failed and the next one is planned. SMS retry for a day and never hold the order up.
CALL_PLACING_WINDOW = timedelta(minutes=30)
CALL_RETRY = RetryPolicy(
    maximum_interval=timedelta(minutes=2), non_retryable_error_types=[CALL_IMPOSSIBLE]
)
SMS_WINDOW = timedelta(hours=24)
SMS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=10),
)
# Twilio's terminal CallStatus values, and how each ends a call that nobody rated.
CALL_END_OUTCOMES: dict[str, CallOutcome] = {
    "completed": CallOutcome.NO_INPUT,
    "busy": CallOutcome.BUSY,
    "no-answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.FAILED,
    "canceled": CallOutcome.FAILED,
}


def workflow_id(order_id: int) -> str:
    """The one place an order's workflow id is derived."""
    return f"order-{order_id}"


# --- the workflow -----------------------------------------------------------------------


@workflow.defn
class OrderWorkflow:
    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        self._inp = inp
        self._status = OrderStatus.PENDING
        self._volunteer_id: int | None = None
        self._declined_by: list[int] = []
        # Volunteers who let an offer time out: auto-dispatch skips them, admins may not.
        self._passed_over: list[int] = []
        self._unit_id: int | None = None
        self._leader_id: int | None = None
        self._offered: list[int] = []
        self._attempts = 0
        self._undispatchable = False
        self._auto_wanted = inp.dispatch_policy == DispatchPolicy.AUTO
        self._overdue = False
        self._escalation_level = 0
        self._review_rating: Rating | None = None
        self._rating: Rating | None = None
        self._hours: float | None = None
        self._completed_at: datetime | None = None
        self._closed_at: datetime | None = None
        self._review_window_expired = False
        self._follow_up_id: int | None = None
        self._follow_up_opening = False
        self._follow_up_done = False
        self._follow_up_queued = False
        # Automated follow-up calls by row id, filled by placing them and by their webhooks
        # (which may arrive before the placing activity's result does).
        self._calls: dict[int, CallState] = {}
        self._calls_made = 0
        self._seen_callbacks: set[tuple[str, str]] = set()
        # SMS in flight: they never hold the order up, but the run waits for them to finish.
        self._notices: list[asyncio.Task[None]] = []
        self._seq = inp.last_seq
        # Bumped on every status change so waits can tell "something happened" apart.
        self._generation = 0
        submitted_at = datetime.fromisoformat(inp.submitted_at)
        self._deadline = submitted_at + timedelta(seconds=inp.timers.completion_sla_s)

    @workflow.run
    async def run(self, inp: OrderInput) -> OrderView:
        self._describe()
        watcher = asyncio.create_task(self._watch_deadline())

        await self._until_completed_or_cancelled()
        if self._status != OrderStatus.CANCELLED:
            await self._await_review()
            await self._follow_up()

        await watcher
        await workflow.wait_condition(lambda: all(task.done() for task in self._notices))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view()

    # --- phases ---------------------------------------------------------------------------

    async def _until_completed_or_cancelled(self) -> None:
        """Pending ⇄ dispatched → accepted, until completion or cancellation."""
        while self._status in OPEN_STATUSES:
            generation = self._generation
            if self._status == OrderStatus.PENDING and self._auto_wanted:
                self._auto_wanted = False
                await self._dispatch_next()
                continue
            if self._status != OrderStatus.DISPATCHED:
                await workflow.wait_condition(self._changed_since(generation))
                continue
            waiting_for_leader = self._awaiting_leader()
            timers = self._inp.timers
            timeout = timedelta(
                seconds=timers.team_assign_timeout_s
                if waiting_for_leader
                else timers.accept_timeout_s
            )
            try:
                await workflow.wait_condition(
                    self._changed_since(generation),
                    timeout=timeout,
                    timeout_summary="assign-timeout" if waiting_for_leader else "accept-timeout",
                )
            except TimeoutError:
                # An accept may land in the same activation as the timer: it wins.
                if self._generation == generation:
                    await self._offer_timed_out()

    async def _dispatch_next(self) -> None:
        """Dispatch to the best candidate not yet tried, or give up and tell the admins."""
        if self._attempts >= self._inp.max_dispatch_attempts:
            await self._give_up("attempts_exhausted")
            return
        generation = self._generation
        pick = await workflow.execute_activity(
            PICK_CANDIDATE,
            PickInput(order_id=self._inp.order_id, exclude=self._excluded()),
            result_type=PickResult,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary="pick candidate",
        )
        if self._generation != generation or self._status != OrderStatus.PENDING:
            return  # an admin dispatched or the resident cancelled meanwhile
        if pick.volunteer_id is None:
            await self._give_up("no_candidates")
            return
        self._dispatch_to(volunteer_id=pick.volunteer_id)
        dispatched = self._event(
            EventName.DISPATCHED,
            volunteer_id=pick.volunteer_id,
            data={
                "policy": self._inp.dispatch_policy.value,
                "attempt": self._attempts,
                "score": pick.score,
            },
        )
        await self._persist(dispatched)
        self._notify(Notice.DISPATCHED, dispatched, volunteer_id=pick.volunteer_id)

    async def _give_up(self, reason: str) -> None:
        if self._undispatchable:
            return
        self._undispatchable = True
        self._describe()
        await self._persist(
            self._event(
                EventName.UNDISPATCHABLE, data={"reason": reason, "attempts": self._attempts}
            )
        )

    async def _await_review(self) -> None:
        window = timedelta(seconds=self._inp.timers.review_window_s)
        try:
            await workflow.wait_condition(
                lambda: self._status != OrderStatus.COMPLETED,
                timeout=window,
                timeout_summary="review-window",
            )
        except TimeoutError:
            if self._status == OrderStatus.COMPLETED:
                self._review_window_expired = True
                await self._persist(self._event(EventName.REVIEW_WINDOW_EXPIRED))

    async def _follow_up(self) -> None:
        """Open the follow-up (回访), try the automated calls, wait for its result.

        With automated calls planned the follow-up opens as ``calling`` and reaches the
        call-center queue only when the calls cannot settle it; otherwise it opens straight
        in the queue. A staff result is accepted at any point and closes the order.
        """
        calling = self._inp.follow_up.max_calls > 0
        now = workflow.now()
        # The task is listed as soon as its row commits, before the activity returns its
        # id here: a result may arrive in between, and must wait rather than be refused.
        self._follow_up_opening = True
        result = await self._persist(
            self._event(
                EventName.FOLLOW_UP_CREATED,
                data={"automated_calls": self._inp.follow_up.max_calls} if calling else None,
            ),
            open_follow_up_at=now,
            follow_up_status=FollowUpStatus.CALLING if calling else FollowUpStatus.OPEN,
        )
        self._follow_up_id = result.follow_up_id
        self._follow_up_queued = not calling
        self._describe()
        if calling:
            await self._call_resident()
        await workflow.wait_condition(lambda: self._follow_up_done)

    async def _call_resident(self) -> None:
        """Call until a call settles the follow-up or hands it to staff.

        A rating of 1-3 closes the order; 4 (dissatisfied) or 9 (asks for a person) queue it
        for staff at once; no answer, busy, failed, an answering machine or no valid key are
        tried again ``retry_delay`` later, inside calling hours, up to ``max_calls`` calls.
        """
        plan = self._inp.follow_up
        hours = CallingHours(
            start_minute=plan.calling_start_minute, end_minute=plan.calling_end_minute
        )
        due = workflow.now()
        for attempt in range(1, plan.max_calls + 1):
            at = hours.next_allowed(due, plan.timezone)
            if await self._settled_before(at):
                return
            call = await self._place_call(attempt)
            if call is None:
                return
            await self._wait_until(
                lambda: call.outcome is not None or self._follow_up_done,  # noqa: B023
                within=timedelta(seconds=plan.call_timeout_s),
                summary=f"call-{attempt}-outcome",
            )
            if call.outcome is None and not self._follow_up_done:
                call.outcome = CallOutcome.LOST
            due = workflow.now() + timedelta(seconds=plan.retry_delay_s)
            last = attempt == plan.max_calls
            if await self._conclude_call(
                call, next_at=None if last else hours.next_allowed(due, plan.timezone)
            ):
                return

    async def _settled_before(self, at: datetime) -> bool:
        """Wait until ``at`` unless staff settle the follow-up first; whether they did."""
        await self._wait_until(
            lambda: self._follow_up_done, within=at - workflow.now(), summary="calling-hours"
        )
        return self._follow_up_done

    @staticmethod
    async def _wait_until(
        condition: Callable[[], bool], *, within: timedelta, summary: str
    ) -> None:
        """Wait for ``condition`` or ``timeout``, whichever comes first."""
        if condition() or within <= timedelta(0):
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(condition, timeout=within, timeout_summary=summary)

    async def _place_call(self, attempt: int) -> CallState | None:
        """Place one call; ``None`` when no call can ever be placed (the task is queued)."""
        assert self._follow_up_id is not None
        try:
            placed = await workflow.execute_activity(
                PLACE_CALL,
                PlaceCallInput(
                    order_id=self._inp.order_id,
                    follow_up_id=self._follow_up_id,
                    attempt=attempt,
                ),
                result_type=PlaceCallResult,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                schedule_to_close_timeout=CALL_PLACING_WINDOW,
                retry_policy=CALL_RETRY,
                summary=f"follow-up call {attempt}",
            )
        except ActivityError as err:
            self._calls_made = attempt
            cause = err.cause
            if self._follow_up_done:
                return None
            if isinstance(cause, ApplicationError) and cause.type == CALL_IMPOSSIBLE:
                await self._queue_for_staff(
                    QueueReason.CALL_IMPOSSIBLE, data={"attempt": attempt, "error": cause.message}
                )
                return None
            # Twilio stayed unreachable for the whole placing window: a failed attempt.
            workflow.logger.warning(
                "order %s: call %d not placed: %s", self._inp.order_id, attempt, err
            )
            return CallState(call_id=None, attempt=attempt, outcome=CallOutcome.FAILED)
        call = self._calls.setdefault(
            placed.call_id, CallState(call_id=placed.call_id, attempt=attempt)
        )
        call.attempt = attempt
        call.call_sid = call.call_sid or placed.call_sid
        self._calls_made = attempt
        self._describe()
        await self._persist(
            self._event(
                EventName.CALL_PLACED,
                data={"attempt": attempt, "call_sid": call.call_sid},
            ),
            call=self._call_record(call),
        )
        return call

    async def _conclude_call(self, call: CallState, *, next_at: datetime | None) -> bool:
        """Record how a call ended and act on it; whether the calls are over."""
        rating = call.rating if call.outcome == CallOutcome.RATED else None
        record = self._call_record(call)
        if self._follow_up_done:
            await self._persist(self._call_ended(call), call=record)
            return True
        if rating is not None and rating != Rating.DISSATISFIED:
            assert self._follow_up_id is not None
            corrected = self._review_rating is not None and rating != self._review_rating
            await self._close_follow_up(
                follow_up_id=self._follow_up_id,
                method=FollowUpMethod.PHONE,
                outcome=FollowUpOutcome.RATING_CORRECTED
                if corrected
                else FollowUpOutcome.CONFIRMED,
                rating=rating,
                by=actor(ActorKind.SYSTEM, SettledBy.AUTOMATED_CALL.value),
                settled_by=SettledBy.AUTOMATED_CALL,
                before=(self._call_ended(call),),
                call=record,
            )
            return True
        if rating is not None:
            reason = QueueReason.DISSATISFIED
        elif call.outcome == CallOutcome.STAFF_REQUESTED:
            reason = QueueReason.STAFF_REQUESTED
        elif next_at is None:
            reason = QueueReason.ATTEMPTS_EXHAUSTED
        else:
            await self._persist(self._call_ended(call, next_at=next_at), call=record)
            return False
        await self._queue_for_staff(
            reason,
            self._call_ended(call),
            call=record,
            call_rating=call.rating,
            data={"calls": call.attempt},
        )
        return True

    def _call_ended(self, call: CallState, *, next_at: datetime | None = None) -> EventRecord:
        """The ``call_ended`` event: what the call heard, and when the next one is due."""
        data: dict[str, object] = {"attempt": call.attempt}
        if call.outcome is not None:
            data["outcome"] = call.outcome.value
        for name in ("call_sid", "call_status", "answered_by", "digits"):
            if (value := getattr(call, name)) is not None:
                data[name] = value
        if call.rating is not None:
            data["rating"] = call.rating.value
            if self._review_rating is not None:
                data["review_rating"] = self._review_rating.value
        if next_at is not None:
            data["next_call_at"] = next_at.isoformat()
        return self._event(EventName.CALL_ENDED, data=data)

    async def _queue_for_staff(
        self,
        reason: QueueReason,
        *before: EventRecord,
        call: CallRecord | None = None,
        call_rating: Rating | None = None,
        data: Mapping[str, object] | None = None,
    ) -> None:
        assert self._follow_up_id is not None
        self._follow_up_queued = True
        self._describe()
        priority = QUEUE_PRIORITY[reason]
        await self._persist(
            *before,
            self._event(
                EventName.FOLLOW_UP_QUEUED,
                data={"reason": reason.value, "priority": priority, **(data or {})},
            ),
            call=call,
            queue_follow_up=FollowUpQueueing(
                follow_up_id=self._follow_up_id,
                reason=reason,
                priority=priority,
                at=workflow.now(),
                call_rating=call_rating,
            ),
        )

    def _call_record(self, call: CallState) -> CallRecord | None:
        if call.call_id is None:
            return None
        return CallRecord(
            call_id=call.call_id,
            attempt=call.attempt,
            at=workflow.now(),
            call_sid=call.call_sid,
            outcome=call.outcome,
            call_status=call.call_status,
            answered_by=call.answered_by,
            digits=call.digits,
        )

    async def _watch_deadline(self) -> None:
        """Escalate when the completion deadline passes, and again every repeat interval."""
        due = self._deadline
        repeat = timedelta(seconds=self._inp.timers.escalation_repeat_s)
        while self._status in OPEN_STATUSES:
            wait = due - workflow.now()
            if wait > timedelta(0):
                try:
                    await workflow.wait_condition(
                        lambda: self._status not in OPEN_STATUSES,
                        timeout=wait,
                        timeout_summary=f"escalation-{self._escalation_level + 1}",
                    )
                    return
                except TimeoutError:
                    if self._status not in OPEN_STATUSES:
                        return
            await self._escalate()
            due += repeat

    # --- transitions made by timers -------------------------------------------------------

    async def _offer_timed_out(self) -> None:
        """Nobody acted on the offer in time: the order moves on (see the module docstring)."""
        unit = self._unit_id
        if unit is not None and self._volunteer_id is not None:
            # The member the leader chose stayed silent: back to the leader.
            member = self._volunteer_id
            self._passed_over.append(member)
            self._volunteer_id = None
            self._bump()
            await self._persist(
                self._event(
                    EventName.ACCEPT_TIMEOUT,
                    volunteer_id=member,
                    data={"unit_id": unit, "back_to": "leader"},
                )
            )
            return
        silent = list(self._offered) or ([self._volunteer_id] if self._volunteer_id else [])
        self._passed_over.extend(silent)
        data: dict[str, object] = {}
        if unit is not None:
            data = {"unit_id": unit, "leader_id": self._leader_id, "stage": "leader"}
        elif self._offered:
            data = {"offered_to": list(self._offered)}
        self._return_to_center()
        await self._persist(
            self._event(
                EventName.ACCEPT_TIMEOUT,
                volunteer_id=silent[0] if len(silent) == 1 and unit is None else None,
                data=data,
            )
        )

    async def _escalate(self) -> None:
        self._escalation_level += 1
        self._overdue = True
        workflow.upsert_search_attributes(
            [
                SA_OVERDUE.value_set(True),
                SA_ESCALATION.value_set(self._escalation_level),
            ]
        )
        self._describe()
        now = workflow.now()
        escalated = self._event(EventName.ESCALATED, data={"level": self._escalation_level})
        await self._persist(escalated, escalation_level=self._escalation_level, escalation_at=now)
        self._notify(Notice.ESCALATED, escalated, escalation_level=self._escalation_level)

    # --- commands -------------------------------------------------------------------------

    @workflow.update
    async def dispatch(self, inp: DispatchInput) -> OrderView:
        """An admin dispatches (or re-dispatches) to a volunteer or a unit."""
        self._check_dispatch(inp)
        previous = self._volunteer_id
        accepted = self._status == OrderStatus.ACCEPTED
        self._dispatch_to(
            volunteer_id=inp.volunteer_id, unit_id=inp.unit_id, leader_id=inp.leader_id
        )
        # An admin acting clears the undispatchable flag: someone has the order again.
        self._undispatchable = False
        data: dict[str, object] = {"attempt": self._attempts}
        if inp.unit_id is not None:
            data.update(unit_id=inp.unit_id, leader_id=inp.leader_id)
        if previous is not None:
            data["previous_volunteer_id"] = previous
        dispatched = self._event(
            EventName.REDISPATCHED if accepted else EventName.DISPATCHED,
            by=actor(ActorKind.ADMIN, inp.admin_id),
            volunteer_id=inp.volunteer_id,
            note_id=inp.note_id,
            data=data,
        )
        await self._persist(dispatched)
        if inp.unit_id is not None:
            self._notify(
                Notice.TEAM_DISPATCHED, dispatched, unit_id=inp.unit_id, leader_id=inp.leader_id
            )
        else:
            self._notify(Notice.DISPATCHED, dispatched, volunteer_id=inp.volunteer_id)
        if previous is not None and previous != inp.volunteer_id:
            self._notify(Notice.WITHDRAWN, dispatched, volunteer_id=previous)
        return self._view()

    @dispatch.validator
    def _check_dispatch(self, inp: DispatchInput) -> None:
        self._require_live()
        if self._status not in OPEN_STATUSES:
            raise rejected(
                errors.INVALID_TRANSITION,
                f"only an order not yet completed can be dispatched; this one is {self._status}",
            )
        if (inp.volunteer_id is None) == (inp.unit_id is None):
            raise rejected(errors.INVALID_TRANSITION, "dispatch to a volunteer or to a unit")
        if inp.unit_id is not None and inp.leader_id is None:
            raise rejected(errors.INVALID_TRANSITION, f"unit {inp.unit_id} has no leader")
        if inp.volunteer_id is not None:
            if inp.volunteer_id in self._declined_by:
                raise rejected(
                    errors.ALREADY_DECLINED,
                    f"volunteer {inp.volunteer_id} already declined this order",
                )
            if inp.volunteer_id == self._volunteer_id:
                raise rejected(
                    errors.INVALID_TRANSITION,
                    f"the order is already with volunteer {inp.volunteer_id}",
                )
        if inp.unit_id is not None and inp.unit_id == self._unit_id:
            raise rejected(
                errors.INVALID_TRANSITION, f"the order is already with unit {inp.unit_id}"
            )

    @workflow.update
    async def open_call(self, inp: OpenCallInput) -> OrderView:
        """Offer the order to several volunteers; the first to accept gets it."""
        self._check_open_call(inp)
        self._dispatch_to(offered=inp.volunteer_ids)
        self._undispatchable = False
        offered = self._event(
            EventName.OPEN_CALL,
            by=actor(ActorKind.ADMIN, inp.admin_id),
            data={"offered_to": list(inp.volunteer_ids), "attempt": self._attempts},
        )
        await self._persist(offered)
        for volunteer_id in inp.volunteer_ids:
            self._notify(Notice.DISPATCHED, offered, volunteer_id=volunteer_id)
        return self._view()

    @open_call.validator
    def _check_open_call(self, inp: OpenCallInput) -> None:
        self._require_live()
        if self._status not in (OrderStatus.PENDING, OrderStatus.DISPATCHED):
            raise rejected(
                errors.INVALID_TRANSITION,
                f"only a pending or dispatched order can be offered; this one is {self._status}",
            )
        if not inp.volunteer_ids or len(set(inp.volunteer_ids)) != len(inp.volunteer_ids):
            raise rejected(errors.INVALID_TRANSITION, "offer to one or more distinct volunteers")
        declined = sorted(set(inp.volunteer_ids) & set(self._declined_by))
        if declined:
            raise rejected(
                errors.ALREADY_DECLINED, f"volunteers {declined} already declined this order"
            )

    @workflow.update
    async def assign(self, inp: AssignInput) -> OrderView:
        """The leader of the unit holding the order hands it to a member, who then accepts."""
        self._check_assign(inp)
        self._volunteer_id = inp.volunteer_id
        self._bump()
        assigned = self._event(
            EventName.ASSIGNED,
            by=actor(ActorKind.VOLUNTEER, inp.leader_id),
            volunteer_id=inp.volunteer_id,
            data={"unit_id": self._unit_id},
        )
        await self._persist(assigned)
        self._notify(Notice.DISPATCHED, assigned, volunteer_id=inp.volunteer_id)
        return self._view()

    @assign.validator
    def _check_assign(self, inp: AssignInput) -> None:
        self._require_live()
        if not self._awaiting_leader():
            raise rejected(
                errors.INVALID_TRANSITION, "the order is not waiting for a unit leader to assign it"
            )
        if inp.leader_id != self._leader_id:
            raise rejected(
                errors.NOT_LEADER,
                f"volunteer {inp.leader_id} does not lead unit {self._unit_id}",
            )
        if inp.volunteer_id in self._declined_by:
            raise rejected(
                errors.ALREADY_DECLINED,
                f"volunteer {inp.volunteer_id} already declined this order",
            )

    @workflow.update
    async def accept(self, inp: AcceptInput) -> OrderView:
        self._check_accept(inp)
        self._volunteer_id = inp.volunteer_id
        self._set_status(OrderStatus.ACCEPTED)
        data = {"unit_id": self._unit_id} if self._unit_id is not None else {}
        accepted = self._event(
            EventName.ACCEPTED,
            by=actor(ActorKind.VOLUNTEER, inp.volunteer_id),
            volunteer_id=inp.volunteer_id,
            data=data,
        )
        await self._persist(accepted)
        self._notify(Notice.ACCEPTED, accepted, volunteer_id=inp.volunteer_id)
        return self._view()

    @accept.validator
    def _check_accept(self, inp: AcceptInput) -> None:
        self._require_live()
        if self._status == OrderStatus.ACCEPTED:
            if inp.volunteer_id == self._volunteer_id:
                raise rejected(errors.INVALID_TRANSITION, "you have already accepted this order")
            if inp.volunteer_id in self._offered:
                raise rejected(errors.ALREADY_TAKEN, "another volunteer took this order first")
        if self._status != OrderStatus.DISPATCHED:
            raise rejected(
                errors.INVALID_TRANSITION,
                f"only a dispatched order can be accepted; this one is {self._status}",
            )
        if inp.volunteer_id not in self._offered and inp.volunteer_id != self._volunteer_id:
            raise rejected(
                errors.NOT_ASSIGNED,
                f"the order is not dispatched to volunteer {inp.volunteer_id}",
            )

    @workflow.update
    async def decline(self, inp: DeclineInput) -> OrderView:
        self._check_decline(inp)
        self._declined_by.append(inp.volunteer_id)
        data: dict[str, object] = {}
        if self._status == OrderStatus.DISPATCHED and inp.volunteer_id in self._offered:
            self._offered.remove(inp.volunteer_id)
            if self._offered:
                self._bump(restart_timer=False)
            else:
                self._return_to_center()
        elif self._unit_id is not None and self._volunteer_id == inp.volunteer_id:
            # A member declines: the leader chooses again.
            self._volunteer_id = None
            data = {"unit_id": self._unit_id, "back_to": "leader"}
            if self._status == OrderStatus.ACCEPTED:
                self._set_status(OrderStatus.DISPATCHED)
            else:
                self._bump()
        else:
            if self._unit_id is not None:
                data = {"unit_id": self._unit_id}
            self._return_to_center()
        await self._persist(
            self._event(
                EventName.DECLINED,
                by=actor(ActorKind.VOLUNTEER, inp.volunteer_id),
                volunteer_id=inp.volunteer_id,
                note_id=inp.note_id,
                data=data,
            )
        )
        return self._view()

    @decline.validator
    def _check_decline(self, inp: DeclineInput) -> None:
        self._require_live()
        if self._status not in (OrderStatus.DISPATCHED, OrderStatus.ACCEPTED):
            raise rejected(
                errors.INVALID_TRANSITION,
                f"only a dispatched or accepted order can be declined; this one is {self._status}",
            )
        holder = self._leader_id if self._awaiting_leader() else self._volunteer_id
        offered = self._status == OrderStatus.DISPATCHED and inp.volunteer_id in self._offered
        if inp.volunteer_id != holder and not offered:
            raise rejected(
                errors.NOT_ASSIGNED,
                f"the order is not dispatched to volunteer {inp.volunteer_id}",
            )

    @workflow.update
    async def complete(self, inp: CompleteInput) -> OrderView:
        self._check_complete(inp)
        self._hours = inp.hours
        self._completed_at = workflow.now()
        self._set_status(OrderStatus.COMPLETED)
        completed = self._event(
            EventName.COMPLETED,
            by=actor(ActorKind.VOLUNTEER, inp.volunteer_id),
            volunteer_id=inp.volunteer_id,
            note_id=inp.note_id,
            data={
                "hours": inp.hours,
                "on_time": self._completed_at <= self._deadline,
            },
        )
        await self._persist(completed)
        self._notify(Notice.COMPLETED, completed, volunteer_id=inp.volunteer_id)
        return self._view()

    @complete.validator
    def _check_complete(self, inp: CompleteInput) -> None:
        self._require_live()
        if self._status != OrderStatus.ACCEPTED:
            raise rejected(
                errors.INVALID_TRANSITION,
                f"only an accepted order can be completed; this one is {self._status}",
            )
        if inp.volunteer_id != self._volunteer_id:
            raise rejected(
                errors.NOT_ASSIGNED,
                f"the order is not assigned to volunteer {inp.volunteer_id}",
            )

    @workflow.update
    async def review(self, inp: ReviewInput) -> OrderView:
        self._check_review(inp)
        self._review_rating = inp.rating
        self._rating = inp.rating
        self._set_status(OrderStatus.REVIEWED)
        await self._persist(
            self._event(
                EventName.REVIEWED,
                by=actor(ActorKind.RESIDENT),
                note_id=inp.note_id,
                data={"rating": inp.rating.value},
            )
        )
        return self._view()

    @review.validator
    def _check_review(self, inp: ReviewInput) -> None:
        self._require_live()
        if self._status == OrderStatus.REVIEWED:
            raise rejected(errors.INVALID_TRANSITION, "this order has already been reviewed")
        if self._status != OrderStatus.COMPLETED:
            raise rejected(
                errors.INVALID_TRANSITION,
                f"an order can be reviewed once it is completed; this one is {self._status}",
            )
        if self._review_window_expired:
            raise rejected(
                errors.REVIEW_WINDOW_CLOSED,
                "the review window has closed; the follow-up call will record the rating",
            )

    @workflow.update
    async def cancel(self, inp: CancelInput) -> OrderView:
        self._check_cancel(inp)
        self._set_status(OrderStatus.CANCELLED)
        self._closed_at = workflow.now()
        await self._persist(self._event(EventName.CANCELLED, by=actor(inp.by), note_id=inp.note_id))
        return self._view()

    @cancel.validator
    def _check_cancel(self, inp: CancelInput) -> None:
        self._require_live()
        if self._status not in OPEN_STATUSES:
            raise rejected(
                errors.INVALID_TRANSITION,
                f"only an order not yet completed can be cancelled; this one is {self._status}",
            )

    @workflow.update
    async def record_follow_up(self, inp: FollowUpResultInput) -> OrderView:
        self._check_follow_up(inp)
        await workflow.wait_condition(lambda: self._follow_up_id is not None)
        self._check_follow_up(inp)
        await self._close_follow_up(
            follow_up_id=inp.follow_up_id,
            method=inp.method,
            outcome=inp.outcome,
            rating=inp.rating,
            by=actor(ActorKind.CALL_CENTER, inp.agent_id),
            settled_by=SettledBy.STAFF,
            note_id=inp.note_id,
            agent_id=inp.agent_id,
        )
        return self._view()

    async def _close_follow_up(
        self,
        *,
        follow_up_id: int,
        method: FollowUpMethod,
        outcome: FollowUpOutcome,
        rating: Rating | None,
        by: str,
        settled_by: SettledBy,
        note_id: str | None = None,
        agent_id: int | None = None,
        before: tuple[EventRecord, ...] = (),
        call: CallRecord | None = None,
    ) -> None:
        """The follow-up's result closes the order, whoever settled it."""
        self._follow_up_done = True
        if rating is not None:
            self._rating = rating
        self._set_status(OrderStatus.CLOSED)
        now = workflow.now()
        self._closed_at = now
        data: dict[str, str] = {"method": method.value, "outcome": outcome.value}
        if rating is not None:
            data["rating"] = rating.value
            if self._review_rating is not None and rating != self._review_rating:
                data["review_rating"] = self._review_rating.value
        if settled_by != SettledBy.STAFF:
            data["settled_by"] = settled_by.value
        await self._persist(
            *before,
            self._event(EventName.FOLLOWED_UP, by=by, note_id=note_id, data=data),
            self._event(EventName.CLOSED),
            close_follow_up=FollowUpClosing(
                follow_up_id=follow_up_id,
                method=method,
                outcome=outcome,
                rating=rating,
                note_id=note_id,
                at=now,
                settled_by=settled_by,
                agent_id=agent_id,
            ),
            call=call,
        )

    @record_follow_up.validator
    def _check_follow_up(self, inp: FollowUpResultInput) -> None:
        self._require_live()
        if self._follow_up_done:
            raise rejected(errors.INVALID_TRANSITION, "the follow-up is already recorded")
        if not self._follow_up_opening:
            raise rejected(
                errors.INVALID_TRANSITION,
                f"the order has no open follow-up; it is {self._status}",
            )
        if self._follow_up_id is not None and inp.follow_up_id != self._follow_up_id:
            raise rejected(
                errors.FOLLOW_UP_MISMATCH,
                f"follow-up {inp.follow_up_id} does not belong to this order",
            )
        if inp.rating is None:
            if inp.outcome == FollowUpOutcome.RATING_CORRECTED:
                raise rejected(errors.RATING_REQUIRED, "rating_corrected needs the new rating")
            if self._review_rating is None and inp.outcome != FollowUpOutcome.UNREACHABLE:
                raise rejected(
                    errors.RATING_REQUIRED,
                    "the resident never reviewed this order: record the rating they give now",
                )

    @workflow.signal
    def call_progress(self, inp: CallProgress) -> None:
        """A Twilio webhook's news about a follow-up call (deduplicated by callback)."""
        key = (inp.call_sid, inp.event)
        if key in self._seen_callbacks:
            return
        self._seen_callbacks.add(key)
        call = self._calls.setdefault(inp.call_id, CallState(call_id=inp.call_id))
        call.call_sid = call.call_sid or inp.call_sid
        call.call_status = inp.call_status or call.call_status
        call.answered_by = inp.answered_by or call.answered_by
        if call.outcome is not None:
            return  # the first decisive callback settles the call; later ones only inform
        if inp.event == "answered":
            if is_machine(inp.answered_by):
                call.outcome = CallOutcome.MACHINE
        elif inp.event.startswith("gather-"):
            digits = (inp.digits or "").strip()
            call.digits = digits
            meaning = keypad(digits)
            if isinstance(meaning, Rating):
                call.outcome = CallOutcome.RATED
                call.rating = meaning
            elif meaning == STAFF_KEY:
                call.outcome = CallOutcome.STAFF_REQUESTED
            elif _round(inp.event) >= GATHER_ROUNDS:
                # Earlier misses repeat the prompt (the TwiML does it); the last one ends it.
                call.outcome = CallOutcome.NO_INPUT
        elif inp.event.startswith("status:"):
            call.outcome = CALL_END_OUTCOMES.get(inp.event.removeprefix("status:"))

    @workflow.query
    def state(self) -> OrderView:
        return self._view()

    # --- helpers --------------------------------------------------------------------------

    def _require_live(self) -> None:
        if self._status in FINAL_STATUSES:
            raise rejected(errors.ORDER_FINISHED, f"the order is {self._status}")

    def _changed_since(self, generation: int) -> Callable[[], bool]:
        return lambda: self._generation != generation

    def _set_status(self, status: OrderStatus) -> None:
        self._status = status
        self._generation += 1
        workflow.upsert_search_attributes([SA_STATUS.value_set(status.value)])
        self._describe()

    def _bump(self, *, restart_timer: bool = True) -> None:
        """Something changed without a status change; ``restart_timer`` restarts the wait."""
        if restart_timer:
            self._generation += 1
        self._describe()

    def _awaiting_leader(self) -> bool:
        return (
            self._status == OrderStatus.DISPATCHED
            and self._unit_id is not None
            and self._volunteer_id is None
        )

    def _excluded(self) -> list[int]:
        return sorted(set(self._declined_by) | set(self._passed_over))

    def _dispatch_to(
        self,
        *,
        volunteer_id: int | None = None,
        unit_id: int | None = None,
        leader_id: int | None = None,
        offered: list[int] | None = None,
    ) -> None:
        """Hand the order to one holder: a volunteer, a unit's leader, or an open call."""
        self._volunteer_id = volunteer_id
        self._unit_id = unit_id
        self._leader_id = leader_id if unit_id is not None else None
        self._offered = list(offered or [])
        self._attempts += 1
        self._set_status(OrderStatus.DISPATCHED)

    def _return_to_center(self) -> None:
        """Back to pending; under ``suggest``/``auto`` the loop tries the next candidate."""
        self._volunteer_id = None
        self._unit_id = None
        self._leader_id = None
        self._offered = []
        self._auto_wanted = self._inp.dispatch_policy != DispatchPolicy.MANUAL
        self._set_status(OrderStatus.PENDING)

    def _event(
        self,
        name: EventName,
        *,
        by: str | None = None,
        volunteer_id: int | None = None,
        note_id: str | None = None,
        data: Mapping[str, object] | None = None,
    ) -> EventRecord:
        self._seq += 1
        return EventRecord(
            seq=self._seq,
            event=name.value,
            actor=by or actor(ActorKind.SYSTEM),
            at=workflow.now(),
            volunteer_id=volunteer_id,
            note_id=note_id,
            data=dict(data or {}),
        )

    async def _persist(
        self,
        *events: EventRecord,
        open_follow_up_at: datetime | None = None,
        follow_up_status: FollowUpStatus = FollowUpStatus.OPEN,
        close_follow_up: FollowUpClosing | None = None,
        escalation_level: int | None = None,
        escalation_at: datetime | None = None,
        queue_follow_up: FollowUpQueueing | None = None,
        call: CallRecord | None = None,
    ) -> TransitionResult:
        record = TransitionRecord(
            order_id=self._inp.order_id,
            snapshot=self._snapshot(),
            events=list(events),
            open_follow_up_at=open_follow_up_at,
            follow_up_status=follow_up_status,
            close_follow_up=close_follow_up,
            escalation_level=escalation_level,
            escalation_at=escalation_at,
            queue_follow_up=queue_follow_up,
            call=call,
        )
        return await workflow.execute_activity(
            RECORD_TRANSITION,
            record,
            result_type=TransitionResult,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary=", ".join(e.event for e in events),
        )

    def _notify(self, notice: Notice, event: EventRecord, **ids: int | None) -> None:
        """Send an SMS about ``event`` in the background: it never holds the order up."""
        if not self._inp.notify:
            return
        sms = SmsInput(order_id=self._inp.order_id, notice=notice, seq=event.seq, **ids)
        self._notices.append(asyncio.create_task(self._send_sms(sms)))

    async def _send_sms(self, sms: SmsInput) -> None:
        try:
            await workflow.execute_activity(
                SEND_SMS,
                sms,
                result_type=SmsResult,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                schedule_to_close_timeout=SMS_WINDOW,
                retry_policy=SMS_RETRY,
                summary=f"sms {sms.notice.value}",
            )
        except ActivityError as err:
            workflow.logger.warning(
                "order %s: %s SMS not sent: %s", sms.order_id, sms.notice.value, err.cause
            )

    def _snapshot(self) -> OrderSnapshot:
        return OrderSnapshot(
            seq=self._seq,
            status=self._status.value,
            volunteer_id=self._volunteer_id,
            overdue=self._overdue,
            escalation_level=self._escalation_level,
            review_rating=self._review_rating,
            rating=self._rating,
            hours=self._hours,
            completed_at=self._completed_at,
            closed_at=self._closed_at,
            unit_id=self._unit_id,
            offered_to=list(self._offered) if self._status == OrderStatus.DISPATCHED else [],
            dispatch_attempts=self._attempts,
            undispatchable=self._undispatchable,
        )

    def _view(self) -> OrderView:
        return OrderView(
            order_id=self._inp.order_id,
            status=self._status,
            volunteer_id=self._volunteer_id,
            deadline_at=self._deadline,
            overdue=self._overdue,
            escalation_level=self._escalation_level,
            review_rating=self._review_rating,
            rating=self._rating,
            follow_up_id=self._follow_up_id,
            declined_by=list(self._declined_by),
            seq=self._seq,
            unit_id=self._unit_id,
            leader_id=self._leader_id,
            offered_to=list(self._offered) if self._status == OrderStatus.DISPATCHED else [],
            passed_over=list(self._passed_over),
            dispatch_policy=self._inp.dispatch_policy,
            dispatch_attempts=self._attempts,
            undispatchable=self._undispatchable,
            follow_up_calls=self._calls_made,
            follow_up_queued=self._follow_up_queued,
        )

    def _describe(self) -> None:
        """The details line admins read in the Temporal UI (ids and codes only)."""
        parts = [f"**{self._status.value}**", f"item `{self._inp.item_code}`"]
        if self._volunteer_id is not None:
            parts.append(f"volunteer {self._volunteer_id}")
        if self._unit_id is not None:
            parts.append(f"unit {self._unit_id} (leader {self._leader_id})")
        if self._offered and self._status == OrderStatus.DISPATCHED:
            parts.append(f"open call to {len(self._offered)}")
        if self._undispatchable:
            parts.append("**undispatchable**")
        parts.append(f"due {self._deadline:%Y-%m-%d %H:%M} UTC")
        if self._escalation_level:
            parts.append(f"escalation level {self._escalation_level}")
        if self._follow_up_id is not None:
            parts.append(f"follow-up task {self._follow_up_id}")
            if self._calls_made:
                parts.append(f"{self._calls_made} automated call(s)")
            if self._follow_up_queued and not self._follow_up_done:
                parts.append("in the call-center queue")
        workflow.set_current_details(" · ".join(parts))


def _round(event: str) -> int:
    """``gather-2`` → 2 (an unparsable round counts as the last)."""
    suffix = event.removeprefix("gather-")
    return int(suffix) if suffix.isdigit() else GATHER_ROUNDS


def initial_search_attributes(inp: OrderInput) -> TypedSearchAttributes:
    """Search attributes an order starts with (the starter sets them at start)."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_STATUS, OrderStatus.PENDING.value),
            SearchAttributePair(SA_CATEGORY, inp.category_code),
            SearchAttributePair(SA_TOWNSHIP, inp.township),
            SearchAttributePair(SA_OVERDUE, False),
            SearchAttributePair(SA_ESCALATION, 0),
        ]
    )


def summary(inp: OrderInput) -> str:
    """The one-line summary shown in the Temporal UI's workflow list (no personal data)."""
    return f"Order {inp.order_id} · {inp.item_code} · {inp.township}"
