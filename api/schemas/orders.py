"""An order's bodies: ordering help, the commands on it, how it reads, a volunteer's inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from api.schemas.base import MAX_ID, Phone, Strict
from core import phones
from core.vocab import (
    Channel,
    ComplaintStatus,
    DispatchPolicy,
    FollowUpMethod,
    FollowUpOutcome,
    FollowUpStatus,
    OrderStatus,
    Rating,
    ReviewChannel,
)


class OrderCreate(Strict):
    item_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    township: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    resident_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)
    ]
    # Only when staff order on a caller's behalf (hotline, walk-in): a resident's own phone is
    # the one they signed in with, never a body's.
    resident_phone: Phone | None = None
    # The village or community (村/社区) within the township, when the resident knows it.
    village_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    # How the order reached the center: ``web`` for residents; staff say hotline or walk_in.
    channel: Channel | None = None

    @field_validator("resident_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        # An explicit null is no phone, as leaving it out is.
        return None if value is None else phones.normalise(value)


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class DispatchBody(Strict):
    """To one volunteer, or to a team/station/institute whose leader hands it on.

    On an accepted order this is a re-dispatch (the volunteer fell ill): the previous
    volunteer is told in the timeline and the 72-hour deadline stays.
    """

    volunteer_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    unit_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    # The dispatcher's note (派单说明, e.g. 老人急需降压药): the volunteer (or leader) it goes
    # to reads it before answering; staff read it on the timeline. No personal data in it.
    reason: Reason | None = None

    @model_validator(mode="after")
    def _one_target(self) -> DispatchBody:
        if (self.volunteer_id is None) == (self.unit_id is None):
            raise ValueError("give exactly one of volunteer_id and unit_id")
        return self


class OpenCallBody(Strict):
    """Offer to these volunteers, or (without ``volunteer_ids``) to the top ``size``."""

    volunteer_ids: list[Annotated[int, Field(gt=0, le=MAX_ID)]] | None = Field(
        default=None, min_length=2, max_length=50
    )
    size: int | None = Field(default=None, ge=2, le=50)

    @model_validator(mode="after")
    def _distinct(self) -> OpenCallBody:
        if self.volunteer_ids is not None and len(set(self.volunteer_ids)) != len(
            self.volunteer_ids
        ):
            raise ValueError("volunteer_ids must be distinct")
        return self


class AssignBody(Strict):
    """The member the signed-in leader hands the order to."""

    volunteer_id: int = Field(gt=0, le=MAX_ID)


class DeclineBody(Strict):
    reason: Reason


MAX_PHOTOS = 9


PhotoId = Annotated[str, StringConstraints(pattern=r"^ph_[0-9a-f]{16}$")]


class CompleteBody(Strict):
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    hours: float = Field(gt=0, le=1000)
    # Photos of the work uploaded to this order (``POST /api/orders/{id}/photos``).
    photo_ids: list[PhotoId] = Field(default_factory=list, max_length=MAX_PHOTOS)


class ReviewBody(Strict):
    rating: Rating
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class CancelBody(Strict):
    reason: Reason


class ComplaintBody(Strict):
    """What the resident complains about, in their words (staff read it)."""

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class EventActor(BaseModel):
    """Who acted, as people may read it: a volunteer's display name, never a phone."""

    kind: Literal["resident", "volunteer", "center", "system"]
    name: str | None = None


class VolunteerName(BaseModel):
    name: str


class OrderEventOut(BaseModel):
    """One step of the order for people (pages); the fields after ``actor`` by ``type``."""

    type: str
    at: datetime
    actor: EventActor
    # dispatched, redispatched, assigned: the volunteer it went to.
    volunteer: VolunteerName | None = None
    channel: str | None = None
    # cancelled: the reason typed; completed: the summary; reviewed: the comment.
    reason: str | None = None
    note: str | None = None
    hours: float | None = None
    on_time: bool | None = None
    photo_count: int | None = None
    rating: Rating | None = None
    review_rating: Rating | None = None
    # followed_up: the follow-up's outcome; call_ended: the call's.
    outcome: str | None = None
    level: int | None = None


class PhotoOut(BaseModel):
    photo_id: str
    url: str
    thumbnail_url: str
    uploaded_at: datetime | None = None


class TimelineEntry(BaseModel):
    at: datetime
    event: str
    actor: str
    volunteer_id: int | None = None
    data: dict[str, Any] = {}
    note: str | None = None


class FollowUpSummary(BaseModel):
    id: int
    status: FollowUpStatus
    created_at: datetime
    done_at: datetime | None = None
    method: FollowUpMethod | None = None
    outcome: FollowUpOutcome | None = None
    rating: Rating | None = None


OrderNumber = Annotated[
    str,
    Field(pattern=r"^[0-9]{8,12}$", examples=["26120457"], description="The order's number"),
]
PublicId = Annotated[str, Field(description="The order's public id (random, not guessable)")]


class OrderSummary(BaseModel):
    """What lists show: no personal data."""

    id: PublicId
    # Digits people read aloud and type (``2612 0457`` on pages and in SMS); opens nothing.
    number: OrderNumber
    status: OrderStatus
    item_code: str
    category_code: str
    township: str
    volunteer_id: int | None
    submitted_at: datetime
    deadline_at: datetime
    overdue: bool
    escalation_level: int
    rating: Rating | None
    unit_id: int | None = None
    village_id: int | None = None
    dispatch_policy: DispatchPolicy = DispatchPolicy.MANUAL
    dispatch_attempts: int = 0
    undispatchable: bool = False
    channel: Channel = Channel.WEB
    # The resident's 催办: how often, and the last time (for admins watching slow orders).
    hurry_count: int = 0
    last_hurried_at: datetime | None = None
    # The workflow ended outside the API (terminated in the Temporal UI, failed, timed out):
    # its status, for admins to act on. Commands are refused meanwhile.
    workflow_lost: str | None = None


class OrderComplaint(BaseModel):
    """A complaint about the order as its resident reads it: their words, then what was done."""

    status: ComplaintStatus
    made_at: datetime
    # What the resident said (online, or as the agent wrote it down on the follow-up call).
    text: str | None
    resolved_at: datetime | None = None
    resolution: str | None = None


class OrderOut(OrderSummary):
    """One order as the caller may see it.

    The resident's name and address, and the reason, reach the resident, admins, the agent
    holding its follow-up (audited) and the volunteer who accepted it (until it closes);
    before that a volunteer sees the service, the place (township and village), the deadline,
    when to answer by and the dispatcher's note only. The phone is
    masked for everyone here: the full contact is ``GET /api/orders/{id}/contact``, which is
    audited. Internal notes (decline reasons, call-center notes) and the workflow link are
    for staff.
    """

    item_name: str
    # The village or community (村/社区), when the order names one: a place, not personal.
    village: str | None = None
    reason: str | None
    address: str | None
    resident_name: str | None
    resident_phone_masked: str | None
    completed_at: datetime | None
    closed_at: datetime | None
    hours: float | None
    review_rating: Rating | None
    follow_up: FollowUpSummary | None
    timeline: list[TimelineEntry]
    offered_to: list[int] = []
    workflow_id: str | None = None
    workflow_url: str | None = None
    # For the resident and volunteer pages (issue 12; see docs/apps-api.md).
    events: list[OrderEventOut] = []
    review_channel: ReviewChannel | None = None
    # The rating after the follow-up, and whether it differs from the review.
    verified_rating: Rating | None = None
    rating_corrected: bool = False
    # The completion deadline while it matters (not for completed, cancelled or closed orders).
    due_at: datetime | None = None
    cancel_reason: str | None = None
    completion_note: str | None = None
    complaint_open: bool = False
    # For the resident and admins only (not the volunteer holding the order).
    complaints: list[OrderComplaint] = []
    center_hotline: str = ""
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    proposed_hours: float | None = None
    photos: list[PhotoOut] = []
    # For staff and the volunteer the order waits on (or who holds it): what the dispatcher
    # wrote them (``DispatchBody.reason``) and, while it waits, when the offer lapses.
    dispatch_note: str | None = None
    accept_by: datetime | None = None


class InboxItem(BaseModel):
    """An order in a volunteer's inbox: the service and the place, no personal data."""

    order_id: PublicId
    number: OrderNumber
    service: str
    item_code: str
    category: str
    township: str
    village: str | None
    status: OrderStatus
    # The completion deadline, and (while an offer waits for an answer) when it lapses.
    due_at: datetime
    accept_by: datetime | None = None


class PastOrder(BaseModel):
    """An order the volunteer completed, for their record: no resident's personal data."""

    order_id: PublicId
    number: OrderNumber
    service: str
    township: str
    village: str | None
    status: OrderStatus
    completed_at: datetime
    hours: float | None
    on_time: bool
    # The rating after the follow-up where there is one, else the resident's own.
    rating: Rating | None
    # Whether the hours count towards stars (verified by the follow-up or a check-in and -out).
    hours_counted: bool


class InboxOut(BaseModel):
    offered: list[InboxItem]
    assigned: list[InboxItem]
    open_calls: list[InboxItem]


class CallerLookup(Strict):
    """The number a caller gives the hotline (or a walk-in shows), to find them."""

    phone: Phone

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return phones.normalise(value)


class CallerOut(BaseModel):
    """Whom staff ordering for a caller are talking to: their earlier orders in the staff's
    townships, newest first, and the name and place of the latest (offered to reuse)."""

    phone: str
    known: bool
    resident_name: str | None = None
    township: str | None = None
    village_id: int | None = None
    address: str | None = None
    orders: list[OrderSummary] = []


class ContactOut(BaseModel):
    """The resident's contact, for whoever must call or visit them now (every read audited)."""

    order_id: PublicId
    resident_name: str
    resident_phone: str
    address: str
    village_id: int | None
    township: str
