"""The activities' contracts: their names, inputs and results, and a typed stub of each.

Workflows call activities through the stubs at the bottom (``workflow.execute_activity(
record_transition, ...)``), so the type checker sees every argument and result; the
implementations (methods of the classes ``worker.py`` builds, in ``database.py``,
``voice.py`` and ``sms.py``) register under the same names, and a test holds each stub and its
implementation to one signature. Kept free of I/O libraries so workflow modules can import it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from temporalio import activity

from core.service_hours import RollWeights as Weights
from core.snapshot import OrderSnapshot
from core.vocab import (
    CallOutcome,
    FollowUpMethod,
    FollowUpOutcome,
    FollowUpStatus,
    Notice,
    QueueReason,
    Rating,
    SettledBy,
)
from workflows.recognition.messages import Figures, RankedEntry

RECORD_TRANSITION: Final = "record_transition"
PICK_CANDIDATE: Final = "pick_candidate"
PLACE_CALL: Final = "place_follow_up_call"
SEND_SMS: Final = "send_sms"
ROLL_FIGURES: Final = "roll_figures"
STORE_ROLL: Final = "store_roll"

# Non-retryable failures of the Twilio activities (``ApplicationError.type``).
# The call cannot be placed at all: no usable number, Twilio refuses it, no account set.
CALL_IMPOSSIBLE: Final = "CallImpossible"
# The SMS cannot be sent: no usable number, Twilio refuses it, no account set.
SMS_IMPOSSIBLE: Final = "SmsImpossible"


@dataclass
class EventRecord:
    """One line of the audit trail; ``seq`` is unique within the order."""

    seq: int
    event: str
    actor: str
    at: datetime
    volunteer_id: int | None = None
    note_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class FollowUpClosing:
    follow_up_id: int
    method: FollowUpMethod
    outcome: FollowUpOutcome
    rating: Rating | None
    note_id: str | None
    at: datetime
    settled_by: SettledBy = SettledBy.STAFF
    agent_id: int | None = None


@dataclass
class FollowUpQueueing:
    """The follow-up goes to the call-center queue (why, how urgent, what was pressed)."""

    follow_up_id: int
    reason: QueueReason
    priority: int
    at: datetime
    call_rating: Rating | None = None


@dataclass
class CallRecord:
    """What the workflow learned about one automated call, for its ``follow_up_calls`` row."""

    call_id: int
    attempt: int
    at: datetime
    call_sid: str | None = None
    outcome: CallOutcome | None = None
    call_status: str | None = None
    answered_by: str | None = None
    digits: str | None = None


@dataclass
class TransitionRecord:
    """Everything one transition writes, applied in one database transaction."""

    order_id: int
    snapshot: OrderSnapshot
    events: list[EventRecord]
    open_follow_up_at: datetime | None = None
    # The status a follow-up opens in: calling (automated calls first) or open (staff).
    follow_up_status: FollowUpStatus = FollowUpStatus.OPEN
    close_follow_up: FollowUpClosing | None = None
    escalation_level: int | None = None
    escalation_at: datetime | None = None
    queue_follow_up: FollowUpQueueing | None = None
    call: CallRecord | None = None


@dataclass
class TransitionResult:
    applied_events: int
    follow_up_id: int | None = None


@dataclass
class PickInput:
    """Ask for the best volunteer for an order, leaving out those already tried."""

    order_id: int
    exclude: list[int] = field(default_factory=list)


@dataclass
class PickResult:
    volunteer_id: int | None
    score: float | None = None


@dataclass
class PlaceCallInput:
    """Place the ``attempt``-th automated follow-up call of an order (1-based).

    ``(order_id, attempt)`` is the intent's unique key: however often the activity is
    retried, Twilio is asked to place this call at most once.
    """

    order_id: int
    follow_up_id: int
    attempt: int
    # The call asks the resident to confirm this rating of theirs, rather than
    # to rate: its TwiML reads it from the call's row.
    confirm_rating: Rating | None = None


@dataclass
class PlaceCallResult:
    """The call's row id (which every webhook URL of the call carries) and its ``CallSid``.

    ``call_sid`` is ``None`` when an earlier attempt of the activity died while asking Twilio:
    the call may or may not exist, so it is not placed again; if it exists, its webhooks
    (which name the row id) will tell the workflow.
    """

    call_id: int
    call_sid: str | None


@dataclass
class SmsInput:
    """Send one notice of an order; the recipients follow from the notice and the ids.

    ``seq`` is the order event the notice belongs to; with the order, notice and recipient
    it makes the key each message is recorded under before it is sent.
    """

    order_id: int
    notice: Notice
    seq: int
    volunteer_id: int | None = None
    unit_id: int | None = None
    leader_id: int | None = None
    escalation_level: int | None = None


@dataclass
class SmsResult:
    sent: int
    # Recorded by an earlier attempt already, or with nobody to send to.
    skipped: int = 0
    # Not sent, for good: the recipient's number is unusable, or Twilio refused the message.
    refused: int = 0


@dataclass
class RollPeriod:
    """A named ``period`` (``2026-03``, ``2026``), or the last complete ``kind`` (``month``,
    ``year``) before ``at``, in the county's ``timezone`` (the sandbox has no time zones)."""

    at: datetime
    timezone: str
    kind: str = "month"
    period: str | None = None


@dataclass
class RollFigures:
    """Who served in the period, and how; ``exists`` when the period's roll is stored."""

    period: str
    starts_at: datetime
    ends_at: datetime
    exists: bool
    weights: Weights = field(default_factory=Weights)
    size: int = 0
    volunteers: list[Figures] = field(default_factory=list)
    units: list[Figures] = field(default_factory=list)


@dataclass
class RollRecord:
    period: str
    starts_at: datetime
    ends_at: datetime
    computed_at: datetime
    weights: Weights
    volunteers: list[RankedEntry]
    units: list[RankedEntry]


@dataclass
class RollStored:
    """``stored`` is false when the period's roll was there already (nothing changed)."""

    stored: bool


# --- typed stubs: what workflows call (the worker registers the implementations) -----------


def _stub(name: str) -> NotImplementedError:
    return NotImplementedError(f"{name} is a stub: the worker runs the implementation")


@activity.defn(name=RECORD_TRANSITION)
def record_transition(record: TransitionRecord) -> TransitionResult:
    """Persist one transition: audit events, the order row, and its side tables."""
    raise _stub(RECORD_TRANSITION)


@activity.defn(name=PICK_CANDIDATE)
def pick_candidate(inp: PickInput) -> PickResult:
    """The best volunteer for the order right now."""
    raise _stub(PICK_CANDIDATE)


@activity.defn(name=PLACE_CALL)
def place_follow_up_call(inp: PlaceCallInput) -> PlaceCallResult:
    """Place one automated follow-up call, at most once per ``(order_id, attempt)``."""
    raise _stub(PLACE_CALL)


@activity.defn(name=SEND_SMS)
def send_sms(inp: SmsInput) -> SmsResult:
    """Send one notice of an order to whoever it concerns."""
    raise _stub(SEND_SMS)


@activity.defn(name=ROLL_FIGURES)
def roll_figures(inp: RollPeriod) -> RollFigures:
    """Each volunteer's and unit's figures over the period (or that its roll exists)."""
    raise _stub(ROLL_FIGURES)


@activity.defn(name=STORE_ROLL)
def store_roll(record: RollRecord) -> RollStored:
    """Store the period's roll once; a second run changes nothing."""
    raise _stub(STORE_ROLL)
