"""Activities against the application database (the orders read model and audit trail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Engine,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection
from temporalio import activity

from activities.contracts import (
    PICK_CANDIDATE,
    RECORD_TRANSITION,
    CallRecord,
    FollowUpClosing,
    FollowUpQueueing,
    PickInput,
    PickResult,
    TransitionRecord,
    TransitionResult,
)
from core.db import insert_ignore, insert_or_replace, retry_conflicts, utcnow
from core.match_settings import Matching
from core.matching import (
    ASSIGNED_STATUSES,
    rank_volunteers,
    target_for_order,
)
from core.models import (
    Complaint,
    Escalation,
    FollowUp,
    FollowUpCall,
    Order,
    OrderEvent,
    OrderOffer,
)
from core.read_model import project_order, rating_code
from core.vocab import (
    QUEUE_PRIORITY,
    ComplaintStatus,
    EventName,
    FollowUpOutcome,
    FollowUpStatus,
    QueueReason,
)

# Core tables, not ORM entities: this runs for every transition of every order, and the
# ORM's unit of work buys nothing for a handful of keyed writes.
orders = cast(Table, Order.__table__)
order_events = cast(Table, OrderEvent.__table__)
follow_ups = cast(Table, FollowUp.__table__)
escalations = cast(Table, Escalation.__table__)
order_offers = cast(Table, OrderOffer.__table__)
follow_up_calls = cast(Table, FollowUpCall.__table__)
ASSIGNED = frozenset(s.value for s in ASSIGNED_STATUSES)
complaints = cast(Table, Complaint.__table__)


class OrderProjector:
    """Persists what ``OrderWorkflow`` decides. Every write is idempotent.

    Activities run at least once: events are keyed by ``(order_id, seq)``, escalations by
    ``(order_id, level)`` and follow-up tasks by ``order_id``, all insert-or-ignore, and the
    order row only ever moves forward to a higher ``seq``.
    """

    def __init__(self, engine: Engine, *, matching: Matching | None = None) -> None:
        self._engine = engine
        self._matching = matching or Matching()

    @activity.defn(name=PICK_CANDIDATE)
    def pick_candidate(self, inp: PickInput) -> PickResult:
        """The best volunteer for the order right now (read-only, so safe to retry)."""
        with self._engine.connect() as conn:
            target = target_for_order(conn, inp.order_id)
            if target is None:
                return PickResult(volunteer_id=None)
            best = rank_volunteers(
                conn, target, matching=self._matching, now=utcnow(), exclude=inp.exclude, limit=1
            )
        if not best:
            return PickResult(volunteer_id=None)
        return PickResult(volunteer_id=best[0].volunteer_id, score=best[0].score)

    @activity.defn(name=RECORD_TRANSITION)
    def record_transition(self, record: TransitionRecord) -> TransitionResult:
        result = retry_conflicts(lambda: self._record(record))
        if result.applied_events < len(record.events):
            activity.logger.info(
                "order %s: %d of %d events were already recorded (retry)",
                record.order_id,
                len(record.events) - result.applied_events,
                len(record.events),
            )
        return result

    def _record(self, record: TransitionRecord) -> TransitionResult:
        """One transaction: the events, the order row (and counters), then the side tables."""
        follow_up_id: int | None = None
        with self._engine.begin() as conn:
            applied = _insert_events(conn, record)
            project_order(conn, record.order_id, record.snapshot)
            _stamp_firsts(conn, record)
            if record.escalation_level is not None and record.escalation_at is not None:
                conn.execute(
                    insert_ignore(conn, escalations, ("order_id", "level")).values(
                        order_id=record.order_id,
                        level=record.escalation_level,
                        at=record.escalation_at,
                    )
                )
            if record.open_follow_up_at is not None:
                follow_up_id = _open_follow_up(
                    conn, record.order_id, record.open_follow_up_at, record.follow_up_status
                )
            if record.call is not None:
                _record_call(conn, record.call)
            if record.queue_follow_up is not None:
                _queue_follow_up(conn, record.queue_follow_up)
            if record.close_follow_up is not None:
                _close_follow_up(conn, record.order_id, record.close_follow_up)
        return TransitionResult(applied_events=applied, follow_up_id=follow_up_id)


# What a transition's event says; the row is the order's event number ``seq``.
_EVENT_COLUMNS = ("event", "actor", "at", "volunteer_id", "note_id", "data")


def _insert_events(conn: Connection, record: TransitionRecord) -> int:
    """The audit rows, once each (keyed by ``(order_id, seq)``); how many were new or changed.

    A number already taken by a different event is rewritten: as with the order's row (see
    ``project_order``), it was written by a workflow task that never completed, and the
    event this one records is the one in the workflow's history.
    """
    if not record.events:
        return 0
    result = cast(
        CursorResult[Any],
        conn.execute(
            insert_or_replace(conn, order_events, ("order_id", "seq"), _EVENT_COLUMNS).values(
                [
                    {
                        "order_id": record.order_id,
                        "seq": ev.seq,
                        "event": ev.event,
                        "actor": ev.actor,
                        "at": ev.at,
                        "volunteer_id": ev.volunteer_id,
                        "note_id": ev.note_id,
                        "data": ev.data,
                    }
                    for ev in record.events
                ]
            )
        ),
    )
    return result.rowcount or 0


# The first of these events stamps the order's column (see ``Order.dispatched_at``).
FIRSTS: dict[str, str] = {
    EventName.DISPATCHED: "dispatched_at",
    EventName.OPEN_CALL: "dispatched_at",
    EventName.ACCEPTED: "accepted_at",
}


def _stamp_firsts(conn: Connection, record: TransitionRecord) -> None:
    """Keep the earliest dispatch and acceptance times; a retry or a later one never moves them."""
    for ev in record.events:
        column = FIRSTS.get(ev.event)
        if column is None:
            continue
        current = orders.c[column]
        conn.execute(
            update(orders)
            .where(orders.c.id == record.order_id, (current.is_(None)) | (current > ev.at))
            .values({column: ev.at})
        )


def _open_follow_up(conn: Connection, order_id: int, at: datetime, status: FollowUpStatus) -> int:
    """The order's follow-up, opened once: ``calling`` first, or straight into the queue."""
    queued = status == FollowUpStatus.OPEN
    reason = QueueReason.NO_AUTOMATED_CALL
    conn.execute(
        insert_ignore(conn, follow_ups, ("order_id",)).values(
            order_id=order_id,
            status=status.value,
            created_at=at,
            queued_at=at if queued else None,
            queue_reason=reason.value if queued else None,
            priority=QUEUE_PRIORITY[reason],
            call_attempts=0,
        )
    )
    follow_up_id = conn.scalar(select(follow_ups.c.id).where(follow_ups.c.order_id == order_id))
    assert follow_up_id is not None
    return int(follow_up_id)


def _record_call(conn: Connection, call: CallRecord) -> None:
    """What the workflow learned about a call; a retry writes the same values again."""
    values: dict[str, Any] = {
        "call_sid": func.coalesce(follow_up_calls.c.call_sid, call.call_sid),
        "call_status": func.coalesce(call.call_status, follow_up_calls.c.call_status),
        "answered_by": func.coalesce(call.answered_by, follow_up_calls.c.answered_by),
        "digits": func.coalesce(call.digits, follow_up_calls.c.digits),
    }
    if call.outcome is not None:
        values.update(state="ended", outcome=call.outcome.value, ended_at=call.at)
    conn.execute(update(follow_up_calls).where(follow_up_calls.c.id == call.call_id).values(values))
    follow_up_id = (
        select(follow_up_calls.c.follow_up_id)
        .where(follow_up_calls.c.id == call.call_id)
        .scalar_subquery()
    )
    conn.execute(
        update(follow_ups)
        .where(follow_ups.c.id == follow_up_id, follow_ups.c.call_attempts < call.attempt)
        .values(call_attempts=call.attempt)
    )


def _queue_follow_up(conn: Connection, queueing: FollowUpQueueing) -> None:
    """Hand a follow-up the calls could not settle to call-center staff."""
    conn.execute(
        update(follow_ups)
        .where(
            follow_ups.c.id == queueing.follow_up_id,
            follow_ups.c.status == FollowUpStatus.CALLING.value,
        )
        .values(
            status=FollowUpStatus.OPEN.value,
            queued_at=queueing.at,
            queue_reason=queueing.reason.value,
            priority=queueing.priority,
            call_rating=rating_code(queueing.call_rating),
        )
    )


def _close_follow_up(conn: Connection, order_id: int, closing: FollowUpClosing) -> None:
    """Record the result; a complaint also opens an item on the admins' list."""
    conn.execute(
        update(follow_ups)
        .where(
            follow_ups.c.id == closing.follow_up_id,
            follow_ups.c.status != FollowUpStatus.DONE.value,
        )
        .values(
            status=FollowUpStatus.DONE.value,
            done_at=closing.at,
            method=closing.method.value,
            outcome=closing.outcome.value,
            rating=rating_code(closing.rating),
            note_id=closing.note_id,
            settled_by=closing.settled_by.value,
            agent_id=closing.agent_id,
        )
    )
    if closing.outcome == FollowUpOutcome.COMPLAINT:
        _complaint_from_follow_up(conn, order_id, closing)


def _complaint_from_follow_up(conn: Connection, order_id: int, closing: FollowUpClosing) -> None:
    """The complaint an agent recorded: it joins the one the resident already filed, while
    that is open (one problem, one item on the admins' list, the agent's note beside the
    resident's words through the follow-up), else it opens one. A retry changes nothing."""
    joined = conn.execute(
        update(complaints)
        .where(
            complaints.c.order_id == order_id,
            complaints.c.status == ComplaintStatus.OPEN.value,
            complaints.c.follow_up_id.is_(None),
        )
        .values(follow_up_id=closing.follow_up_id)
    )
    if joined.rowcount:
        return
    conn.execute(
        insert_ignore(conn, complaints, ("follow_up_id",)).values(
            order_id=order_id,
            follow_up_id=closing.follow_up_id,
            status=ComplaintStatus.OPEN.value,
            created_at=closing.at,
            note_id=closing.note_id,
        )
    )
