"""``OrderWorkflow``'s messages: its input, commands, signals and the view it answers with.

Beside the workflow (``workflow.py``), in a module of their own so the workflow
imports them passed through the sandbox: the sandbox imports the workflow module afresh for
every new workflow, and building these dataclasses each time was a twentieth of the worker's
CPU in the lifecycle benchmark. No Temporal, no I/O here: plain dataclasses and enums.
"""

from dataclasses import dataclass, field
from datetime import datetime

from core.quiet_hours import QuietHours
from core.vocab import (
    ActorKind,
    CallOutcome,
    DispatchPolicy,
    FollowUpMethod,
    FollowUpOutcome,
    OrderStatus,
    Rating,
    ReviewChannel,
)


@dataclass
class OrderTimers:
    """Durations in seconds, fixed at submission so a settings change never rewrites history."""

    completion_sla_s: int = 72 * 3600
    escalation_repeat_s: int = 24 * 3600
    accept_timeout_s: int = 4 * 3600
    review_window_s: int = 3 * 86400
    team_assign_timeout_s: int = 8 * 3600
    # Offers' clocks stop at night; orders submitted before decode with none, as they ran.
    quiet_hours: QuietHours | None = None


@dataclass
class FollowUpPlan:
    """The automated follow-up calls, fixed at submission; ``max_calls=0`` means staff only."""

    max_calls: int = 0
    retry_delay_s: int = 4 * 3600
    # How long a placed call may take to report how it ended before it counts as lost.
    call_timeout_s: int = 30 * 60
    calling_start_minute: int = 8 * 60
    calling_end_minute: int = 20 * 60
    timezone: str = "Asia/Shanghai"
    # After the resident's own review, the first call waits this long and asks them to
    # confirm it; orders submitted before decode with 0.
    after_review_s: int = 0


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
    # Fixed at submission, like the timers: a policy change applies to new orders.
    dispatch_policy: DispatchPolicy = DispatchPolicy.MANUAL
    max_dispatch_attempts: int = 3
    # Orders submitted before automated follow-up calls decode with these defaults: no
    # calls, no SMS, so their histories replay unchanged.
    follow_up: FollowUpPlan = field(default_factory=FollowUpPlan)
    notify: bool = False
    # The number people read aloud (``core.order_numbers``), for the Temporal UI's summary;
    # orders started before it decode with "".
    number: str = ""
    # The service's Chinese name, for the Temporal UI's summary and details (orders started
    # before it decode with "" and show the code alone).
    item_name: str = ""
    # Text the resident the number and their link at once (an order staff took for a caller);
    # orders started before it decode with False, so their histories replay unchanged.
    received_sms: bool = False


@dataclass
class CallProgress:
    """What a Twilio webhook reported about a follow-up call (sent as a signal).

    ``event`` names the callback: ``answered`` (the TwiML was fetched), ``gather-<n>`` (the
    n-th prompt's keys; ``gather-menu-<n>`` in the menu a confirming call opened) or
    ``status:<CallStatus>`` (the call ended). Twilio may deliver a callback more than once:
    each ``(call_sid, event)`` is applied once. ``meaning``: what the keys meant, as the API
    read them (``core.vocab.key_meaning``); ``None`` in signals sent before it did.
    """

    call_id: int
    call_sid: str
    event: str
    call_status: str | None = None
    answered_by: str | None = None
    digits: str | None = None
    meaning: str | None = None


@dataclass
class DispatchInput:
    """To a volunteer, or to a unit (team, station, institute) through its leader."""

    volunteer_id: int | None = None
    admin_id: int | None = None
    unit_id: int | None = None
    leader_id: int | None = None
    note_id: str | None = None


@dataclass
class OpenCallInput:
    """Offer the order to several volunteers at once (抢单); the first accept wins."""

    volunteer_ids: list[int]
    admin_id: int | None = None


@dataclass
class AssignInput:
    """A unit's leader hands the order on to one of its members."""

    leader_id: int
    volunteer_id: int


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
    channel: ReviewChannel = ReviewChannel.ONLINE


@dataclass
class HurryInput:
    """The resident hurries the order (催办); at most once per ``interval_s``."""

    interval_s: int = 3600


@dataclass
class VisitInput:
    """The volunteer holding the order arrives (check-in) or leaves (check-out)."""

    volunteer_id: int


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
    unit_id: int | None = None
    leader_id: int | None = None
    offered_to: list[int] = field(default_factory=list)
    passed_over: list[int] = field(default_factory=list)
    dispatch_policy: DispatchPolicy = DispatchPolicy.MANUAL
    dispatch_attempts: int = 0
    undispatchable: bool = False
    follow_up_calls: int = 0
    follow_up_queued: bool = False
    hours: float | None = None
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    hurry_count: int = 0
    last_hurried_at: datetime | None = None
    review_channel: ReviewChannel | None = None


@dataclass
class CallState:
    """One automated call as far as the workflow knows it (rebuilt by replay).

    ``call_id`` is ``None`` only for a call that could not be placed at all.
    """

    call_id: int | None
    attempt: int = 0
    call_sid: str | None = None
    outcome: CallOutcome | None = None
    call_status: str | None = None
    answered_by: str | None = None
    digits: str | None = None
    rating: Rating | None = None
