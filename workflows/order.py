"""``OrderWorkflow``: one durable workflow per request for help, through the four orders.

pending → dispatched → accepted → completed → reviewed → (follow-up) → closed, with
decline and accept-timeout returning the order to pending, cancel before completion,
and escalation each time the 72-hour completion deadline (and every repeat after it)
passes without completion.

Every transition is persisted by the ``record_transition`` activity into the read
model and the audit table before the command that caused it returns, so the API can
read its own writes. Inputs and messages carry ids, codes and times only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import (
    RetryPolicy,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)

with workflow.unsafe.imports_passed_through():
    from activities.messages import (
        RECORD_TRANSITION,
        EventRecord,
        FollowUpClosing,
        OrderSnapshot,
        TransitionRecord,
        TransitionResult,
    )
    from core.vocab import (
        FINAL_STATUSES,
        OPEN_STATUSES,
        ActorKind,
        EventName,
        FollowUpMethod,
        FollowUpOutcome,
        OrderStatus,
        Rating,
        actor,
    )
    from workflows import errors
    from workflows.errors import rejected

SA_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
SA_CATEGORY = SearchAttributeKey.for_keyword("ServiceCategory")
SA_TOWNSHIP = SearchAttributeKey.for_keyword("Township")
SA_OVERDUE = SearchAttributeKey.for_bool("Overdue")
SA_ESCALATION = SearchAttributeKey.for_int("EscalationLevel")
SEARCH_ATTRIBUTES = (SA_STATUS, SA_CATEGORY, SA_TOWNSHIP, SA_OVERDUE, SA_ESCALATION)

ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


def workflow_id(order_id: int) -> str:
    """The one place an order's workflow id is derived."""
    return f"order-{order_id}"


# --- messages ---------------------------------------------------------------------------


@dataclass
class OrderTimers:
    """Durations in seconds, fixed at submission so a settings change never rewrites history."""

    completion_sla_s: int = 72 * 3600
    escalation_repeat_s: int = 24 * 3600
    accept_timeout_s: int = 4 * 3600
    review_window_s: int = 3 * 86400


@dataclass
class OrderInput:
    order_id: int
    item_code: str
    category_code: str
    township: str
    # ISO-8601 with offset: the sandbox cannot decode datetime fields of workflow inputs.
    submitted_at: str
    timers: OrderTimers = field(default_factory=OrderTimers)
    # The API recorded ``submitted`` as seq 1; the workflow numbers on from here.
    last_seq: int = 1


@dataclass
class DispatchInput:
    volunteer_id: int
    admin_id: int | None = None


@dataclass
class AcceptInput:
    volunteer_id: int


@dataclass
class DeclineInput:
    volunteer_id: int
    note_id: str | None = None


@dataclass
class CompleteInput:
    volunteer_id: int
    hours: float
    note_id: str | None = None


@dataclass
class ReviewInput:
    rating: Rating
    note_id: str | None = None


@dataclass
class CancelInput:
    by: ActorKind = ActorKind.RESIDENT
    note_id: str | None = None


@dataclass
class FollowUpResultInput:
    follow_up_id: int
    method: FollowUpMethod
    outcome: FollowUpOutcome
    rating: Rating | None = None
    note_id: str | None = None
    agent_id: int | None = None


@dataclass
class OrderView:
    """What every command and the ``state`` query answer: the order as the workflow sees it."""

    order_id: int
    status: OrderStatus
    volunteer_id: int | None
    deadline_at: datetime
    overdue: bool
    escalation_level: int
    review_rating: Rating | None
    rating: Rating | None
    follow_up_id: int | None
    declined_by: list[int]
    seq: int


# --- the workflow -----------------------------------------------------------------------


@workflow.defn
class OrderWorkflow:
    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        self._inp = inp
        self._status = OrderStatus.PENDING
        self._volunteer_id: int | None = None
        self._declined_by: list[int] = []
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
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view()

    # --- phases ---------------------------------------------------------------------------

    async def _until_completed_or_cancelled(self) -> None:
        """Pending ⇄ dispatched → accepted, until completion or cancellation."""
        timeout = timedelta(seconds=self._inp.timers.accept_timeout_s)
        while self._status in OPEN_STATUSES:
            generation = self._generation
            if self._status != OrderStatus.DISPATCHED:
                await workflow.wait_condition(self._changed_since(generation))
                continue
            try:
                await workflow.wait_condition(
                    self._changed_since(generation),
                    timeout=timeout,
                    timeout_summary="accept-timeout",
                )
            except TimeoutError:
                # An accept may land in the same activation as the timer: it wins.
                if self._generation == generation:
                    await self._accept_timed_out()

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
        """Open the follow-up (回访) task and wait for its result; the result closes the order.

        An automated attempt (the phone call of a later issue) slots in before the task
        is opened: only an order it cannot settle reaches call-center staff.
        """
        now = workflow.now()
        # The task is listed as soon as its row commits, before the activity returns its
        # id here: a result may arrive in between, and must wait rather than be refused.
        self._follow_up_opening = True
        result = await self._persist(
            self._event(EventName.FOLLOW_UP_CREATED), open_follow_up_at=now
        )
        self._follow_up_id = result.follow_up_id
        self._describe()
        await workflow.wait_condition(lambda: self._follow_up_done)

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

    async def _accept_timed_out(self) -> None:
        volunteer = self._volunteer_id
        self._volunteer_id = None
        self._set_status(OrderStatus.PENDING)
        await self._persist(self._event(EventName.ACCEPT_TIMEOUT, volunteer_id=volunteer))

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
        await self._persist(
            self._event(EventName.ESCALATED, data={"level": self._escalation_level}),
            escalation_level=self._escalation_level,
            escalation_at=now,
        )

    # --- commands -------------------------------------------------------------------------

    @workflow.update
    async def dispatch(self, inp: DispatchInput) -> OrderView:
        self._check_dispatch(inp)
        self._volunteer_id = inp.volunteer_id
        self._set_status(OrderStatus.DISPATCHED)
        await self._persist(
            self._event(
                EventName.DISPATCHED,
                by=actor(ActorKind.ADMIN, inp.admin_id),
                volunteer_id=inp.volunteer_id,
            )
        )
        return self._view()

    @dispatch.validator
    def _check_dispatch(self, inp: DispatchInput) -> None:
        self._require_live()
        if self._status not in (OrderStatus.PENDING, OrderStatus.DISPATCHED):
            raise rejected(
                errors.INVALID_TRANSITION,
                f"only a pending or dispatched order can be dispatched; this one is {self._status}",
            )
        if inp.volunteer_id in self._declined_by:
            raise rejected(
                errors.ALREADY_DECLINED,
                f"volunteer {inp.volunteer_id} already declined this order",
            )
        if self._status == OrderStatus.DISPATCHED and inp.volunteer_id == self._volunteer_id:
            raise rejected(
                errors.INVALID_TRANSITION,
                f"the order is already dispatched to volunteer {inp.volunteer_id}",
            )

    @workflow.update
    async def accept(self, inp: AcceptInput) -> OrderView:
        self._check_accept(inp)
        self._set_status(OrderStatus.ACCEPTED)
        await self._persist(
            self._event(
                EventName.ACCEPTED,
                by=actor(ActorKind.VOLUNTEER, inp.volunteer_id),
                volunteer_id=inp.volunteer_id,
            )
        )
        return self._view()

    @accept.validator
    def _check_accept(self, inp: AcceptInput) -> None:
        self._require_live()
        if self._status == OrderStatus.ACCEPTED and inp.volunteer_id == self._volunteer_id:
            raise rejected(errors.INVALID_TRANSITION, "you have already accepted this order")
        if self._status != OrderStatus.DISPATCHED:
            raise rejected(
                errors.INVALID_TRANSITION,
                f"only a dispatched order can be accepted; this one is {self._status}",
            )
        if inp.volunteer_id != self._volunteer_id:
            raise rejected(
                errors.NOT_ASSIGNED,
                f"the order is not dispatched to volunteer {inp.volunteer_id}",
            )

    @workflow.update
    async def decline(self, inp: DeclineInput) -> OrderView:
        self._check_decline(inp)
        self._declined_by.append(inp.volunteer_id)
        self._volunteer_id = None
        self._set_status(OrderStatus.PENDING)
        await self._persist(
            self._event(
                EventName.DECLINED,
                by=actor(ActorKind.VOLUNTEER, inp.volunteer_id),
                volunteer_id=inp.volunteer_id,
                note_id=inp.note_id,
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
        if inp.volunteer_id != self._volunteer_id:
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
        await self._persist(
            self._event(
                EventName.COMPLETED,
                by=actor(ActorKind.VOLUNTEER, inp.volunteer_id),
                volunteer_id=inp.volunteer_id,
                note_id=inp.note_id,
                data={
                    "hours": inp.hours,
                    "on_time": self._completed_at <= self._deadline,
                },
            )
        )
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
        self._follow_up_done = True
        if inp.rating is not None:
            self._rating = inp.rating
        self._set_status(OrderStatus.CLOSED)
        now = workflow.now()
        self._closed_at = now
        by = actor(ActorKind.CALL_CENTER, inp.agent_id)
        data: dict[str, str] = {"method": inp.method.value, "outcome": inp.outcome.value}
        if inp.rating is not None:
            data["rating"] = inp.rating.value
            if self._review_rating is not None and inp.rating != self._review_rating:
                data["review_rating"] = self._review_rating.value
        await self._persist(
            self._event(EventName.FOLLOWED_UP, by=by, note_id=inp.note_id, data=data),
            self._event(EventName.CLOSED),
            close_follow_up=FollowUpClosing(
                follow_up_id=inp.follow_up_id,
                method=inp.method,
                outcome=inp.outcome,
                rating=inp.rating,
                note_id=inp.note_id,
                at=now,
            ),
        )
        return self._view()

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
        close_follow_up: FollowUpClosing | None = None,
        escalation_level: int | None = None,
        escalation_at: datetime | None = None,
    ) -> TransitionResult:
        record = TransitionRecord(
            order_id=self._inp.order_id,
            snapshot=self._snapshot(),
            events=list(events),
            open_follow_up_at=open_follow_up_at,
            close_follow_up=close_follow_up,
            escalation_level=escalation_level,
            escalation_at=escalation_at,
        )
        return await workflow.execute_activity(
            RECORD_TRANSITION,
            record,
            result_type=TransitionResult,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary=", ".join(e.event for e in events),
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
        )

    def _describe(self) -> None:
        """The details line admins read in the Temporal UI (ids and codes only)."""
        parts = [f"**{self._status.value}**", f"item `{self._inp.item_code}`"]
        if self._volunteer_id is not None:
            parts.append(f"volunteer {self._volunteer_id}")
        parts.append(f"due {self._deadline:%Y-%m-%d %H:%M} UTC")
        if self._escalation_level:
            parts.append(f"escalation level {self._escalation_level}")
        if self._follow_up_id is not None:
            parts.append(f"follow-up task {self._follow_up_id}")
        workflow.set_current_details(" · ".join(parts))


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
