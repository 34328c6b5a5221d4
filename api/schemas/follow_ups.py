"""The follow-up's bodies (回访), complaints, escalations, SMS and health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    model_validator,
)

from api.schemas.base import Strict, typeable_fields
from api.schemas.orders import OrderNumber, PublicId
from core.vocab import (
    CallOutcome,
    ComplaintStatus,
    FollowUpMethod,
    FollowUpOutcome,
    FollowUpStatus,
    Notice,
    OrderStatus,
    QueueReason,
    Rating,
    SettledBy,
)


def _corrected_with_rating(schema: dict[str, Any], model: type) -> None:
    typeable_fields(schema, model)
    others = [o.value for o in FollowUpOutcome if o != FollowUpOutcome.RATING_CORRECTED]
    schema["anyOf"] = [
        {"properties": {"outcome": {"enum": others}}},
        {"required": ["rating"], "properties": {"rating": {"not": {"type": "null"}}}},
    ]


class FollowUpResultBody(Strict):
    model_config = ConfigDict(json_schema_extra=_corrected_with_rating)

    method: FollowUpMethod
    outcome: FollowUpOutcome
    rating: Rating | None = None
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None

    @model_validator(mode="after")
    def _corrected_needs_rating(self) -> FollowUpResultBody:
        if self.outcome == FollowUpOutcome.RATING_CORRECTED and self.rating is None:
            raise ValueError("outcome rating_corrected needs the corrected rating")
        return self


class FollowUpTask(BaseModel):
    """A follow-up task as the call-center queue lists it.

    The claim fields describe a live claim on an open task only: an expired lease, or a
    task no longer in the queue, shows ``claimed_by`` null. ``claimable`` says whether a
    claim would succeed now (for the ``agent_id`` asked about, if any); ``mine`` whether
    that agent holds it.
    """

    id: int
    order_id: PublicId
    order_number: OrderNumber
    status: FollowUpStatus
    created_at: datetime
    done_at: datetime | None
    item_code: str
    township: str
    completed_at: datetime | None
    review_rating: Rating | None
    # Masked in lists; the agent holding the task reads the full number in its detail.
    resident_name: str | None
    resident_phone: str
    method: FollowUpMethod | None
    outcome: FollowUpOutcome | None
    rating: Rating | None
    queue_reason: QueueReason | None = None
    priority: int = 3
    queued_at: datetime | None = None
    call_attempts: int = 0
    # What the resident pressed on the last answered automated call.
    call_rating: Rating | None = None
    settled_by: SettledBy | None = None
    agent_id: int | None = None
    claimed_by: int | None = None
    claim_expires_at: datetime | None = None
    claimable: bool = False
    mine: bool = False


class FollowUpCallOut(BaseModel):
    """One automated call, as Twilio and the workflow reported it."""

    attempt: int
    state: str
    placed_at: datetime | None
    ended_at: datetime | None
    call_status: str | None
    answered_by: str | None
    digits: str | None
    outcome: CallOutcome | None
    # The review the call asked to confirm: its 1 meant that rating, not 非常满意.
    confirm_rating: Rating | None = None


class OpenComplaint(BaseModel):
    """A complaint still open on the task's order (the resident's own, filed online)."""

    id: int
    source: Literal["follow_up", "resident"]
    created_at: datetime
    # What the resident wrote: for the agent holding the task only.
    text: str | None = None


class FollowUpDetail(FollowUpTask):
    """One task with what an agent needs before calling: the order, the calls so far."""

    item_name: str
    category_code: str
    # The full phone and the address only for the agent holding a live claim (audited).
    address: str | None
    volunteer_id: int | None
    # The call script names who served them as the resident knows them (their display name).
    volunteer_name: str | None = None
    notes: str | None = None
    complaint_id: int | None = None
    # Open already when the agent calls: the one their own complaint would join.
    open_complaint: OpenComplaint | None = None
    calls: list[FollowUpCallOut]


class ComplaintOut(BaseModel):
    id: int
    order_id: PublicId
    # The order's number, as people read it out (the id is for addresses).
    order_number: str
    # None for a complaint the resident made themself (``source`` resident).
    follow_up_id: int | None
    source: Literal["follow_up", "resident"] = "follow_up"
    status: ComplaintStatus
    created_at: datetime
    item_code: str
    item_name: str
    township: str
    volunteer_id: int | None
    # What the resident said, as the agent wrote it down (or as they wrote it online).
    note: str | None
    # What the agent wrote down on the follow-up, when that joined the resident's complaint.
    follow_up_note: str | None = None
    resolved_at: datetime | None
    resolved_by: int | None
    resolution: str | None


class ResolveBody(Strict):
    notes: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class HoursStats(BaseModel):
    """Hours from an order's completion to its follow-up being done."""

    count: int
    mean: float | None
    p50: float | None
    p90: float | None


class FollowUpReport(BaseModel):
    """How the 100% follow-up promise (回访率百分之百) is kept, over orders completed in a period.

    ``follow_up_rate`` is residents reached over completed orders: an unreachable resident
    counts against it, as does a follow-up still pending. ``automated_share`` is the part
    of the done follow-ups the automated call settled without staff.
    """

    since: datetime | None
    until: datetime | None
    township: str | None
    completed_orders: int
    follow_ups_done: int
    reached: int
    unreachable: int
    pending: int
    # calling, open, and not_opened (the review window is still running).
    pending_by_status: dict[str, int]
    follow_up_rate: float | None
    automated_share: float | None
    settled_by: dict[str, int]
    # Automated calls per done follow-up: the mean and {calls: follow-ups}.
    attempts_mean: float | None
    attempts_distribution: dict[int, int]
    hours_to_follow_up: HoursStats
    by_method: dict[str, int]
    by_outcome: dict[str, int]
    # Why follow-ups (done or still open) reached call-center staff.
    by_queue_reason: dict[str, int]


class EscalationOut(BaseModel):
    order_id: PublicId
    order_number: str
    level: int
    at: datetime
    order_status: OrderStatus
    township: str
    category_code: str
    deadline_at: datetime


class SmsOut(BaseModel):
    """One SMS of an order, for admins checking who was told what (the number masked)."""

    id: int
    notice: Notice
    recipient_kind: str
    recipient_id: int | None
    to_number: str
    body: str
    state: str
    delivery_status: str | None
    error_code: int | None
    created_at: datetime
    sent_at: datetime | None
