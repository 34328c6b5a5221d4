"""Request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import WithJsonSchema

from api.typeable import UNTYPEABLE, UNTYPEABLE_MESSAGE, document_typeable
from core import phones
from core.matching import Candidate, UnitCandidate
from core.vocab import (
    Application,
    CallOutcome,
    Channel,
    ComplaintStatus,
    DispatchPolicy,
    FollowUpMethod,
    FollowUpOutcome,
    FollowUpStatus,
    Notice,
    OrderStatus,
    PlaceKind,
    Platform,
    QueueReason,
    Rating,
    ReviewChannel,
    Role,
    SettledBy,
    UnitKind,
)

# A number as ``core.phones`` reads it: 6 to 15 digits, ``+`` first. Only documented (the
# routes also take the spaces and dashes people type, and refuse other text in their words).
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=24),
    WithJsonSchema({"type": "string", "maxLength": 24, "pattern": r"^\+?[0-9]{6,15}$"}),
]


class ErrorOut(BaseModel):
    """Every business error: a reason for people and a stable code for programs."""

    detail: str
    code: str


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown order, volunteer or follow-up"},
    409: {"model": ErrorOut, "description": "The command does not fit the order's state"},
    504: {"model": ErrorOut, "description": "The order did not answer in time"},
}


# Ids are PostgreSQL integers: anything larger names nothing (and must not overflow a query).
MAX_ID = 2**31 - 1


def _typeable_fields(schema: dict[str, Any], _model: type) -> None:
    # The document says what ``Strict._typeable`` refuses.
    for field in schema.get("properties", {}).values():
        document_typeable(field)


class Strict(BaseModel):
    """A request body: no unknown fields, and no text a person could not have typed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_typeable_fields)

    @field_validator("*", mode="after")
    @classmethod
    def _typeable(cls, value: object) -> object:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and UNTYPEABLE.search(t) for t in texts):
            raise ValueError(UNTYPEABLE_MESSAGE)
        return value


def _changes_something(schema: dict[str, Any], model: type) -> None:
    _typeable_fields(schema, model)
    schema["minProperties"] = 1


class Patch(Strict):
    """A change: the fields it leaves out stay, and one with none is refused."""

    model_config = ConfigDict(json_schema_extra=_changes_something)

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("nothing to change")
        return self


# --- catalog ---------------------------------------------------------------------------


class ItemOut(BaseModel):
    code: str
    name: str
    name_en: str


class CategoryOut(BaseModel):
    code: str
    name: str
    name_en: str
    items: list[ItemOut]


# --- orders ----------------------------------------------------------------------------


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


PublicId = Annotated[str, Field(description="The order's public id (random, not guessable)")]


class OrderSummary(BaseModel):
    """What lists show: no personal data."""

    id: PublicId
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


class OrderOut(OrderSummary):
    """One order as the caller may see it.

    The resident's name and address, and the reason, reach the resident, admins, the agent
    holding its follow-up (audited) and the volunteer who accepted it (until it closes);
    before that a volunteer sees the service, the place and the deadline only. The phone is
    masked for everyone here: the full contact is ``GET /api/orders/{id}/contact``, which is
    audited. Internal notes (decline reasons, call-center notes) and the workflow link are
    for staff.
    """

    item_name: str
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
    center_hotline: str = ""
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    proposed_hours: float | None = None
    photos: list[PhotoOut] = []


class InboxItem(BaseModel):
    """An order in a volunteer's inbox: the service and the place, no personal data."""

    order_id: PublicId
    service: str
    item_code: str
    category: str
    township: str
    village: str | None
    status: OrderStatus
    # The completion deadline, and (while an offer waits for an answer) when it lapses.
    due_at: datetime
    accept_by: datetime | None = None


class InboxOut(BaseModel):
    offered: list[InboxItem]
    assigned: list[InboxItem]
    open_calls: list[InboxItem]


class ContactOut(BaseModel):
    """The resident's contact, for whoever must call or visit them now (every read audited)."""

    order_id: PublicId
    resident_name: str
    resident_phone: str
    address: str
    village_id: int | None
    township: str


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# --- volunteers ------------------------------------------------------------------------


HHMM = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
TownshipName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


def minutes(value: str) -> int:
    hours, mins = value.split(":")
    return int(hours) * 60 + int(mins)


class Window(Strict):
    """A weekly window in the county's local time; ``weekday`` 0 is Monday."""

    weekday: int = Field(ge=0, le=6)
    start: HHMM
    end: HHMM  # after start: the registry refuses another (JSON Schema cannot compare them)


def _coordinates_schema(schema: dict[str, Any], model: type) -> None:
    _typeable_fields(schema, model)
    both = {"type": "number"}
    neither = {"type": "null"}
    schema["anyOf"] = [
        {"required": ["lat", "lon"], "properties": {"lat": both, "lon": both}},
        {"properties": {"lat": neither, "lon": neither}},
    ]


class Coordinates(Strict):
    model_config = ConfigDict(json_schema_extra=_coordinates_schema)

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _both_or_neither(self) -> Coordinates:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class VolunteerCreate(Coordinates):
    """Registration (登记注册). Skills are catalog category or item codes."""

    name: Name
    phone: Phone
    township: TownshipName
    village_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    skills: list[str] = Field(default_factory=list, max_length=60)
    trade: str | None = Field(default=None, max_length=30)
    platform: Platform | None = None
    unit_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    max_open_orders: int = Field(default=3, ge=1, le=20)
    availability: list[Window] = Field(default_factory=list, max_length=28)

    _phone = field_validator("phone")(phones.normalise)


class VolunteerApply(Coordinates):
    """A resident's own application: the phone is the one they signed in with."""

    name: Name
    township: TownshipName
    village_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    skills: list[str] = Field(default_factory=list, max_length=60)
    trade: str | None = Field(default=None, max_length=30)
    platform: Platform | None = None
    availability: list[Window] = Field(default_factory=list, max_length=28)


DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


class VolunteerPatch(Patch):
    """Change what a volunteer may change without re-registering; omitted fields stay."""

    active: bool | None = None
    # How residents see you (e.g. 小王老师); null: your surname and 志愿者. Never a phone.
    display_name: DisplayName | None = None
    paused: bool | None = None
    max_open_orders: int | None = Field(default=None, ge=1, le=20)
    skills: list[str] | None = Field(default=None, max_length=60)
    trade: str | None = Field(default=None, max_length=30)
    availability: list[Window] | None = Field(default=None, max_length=28)


class TransferBody(Strict):
    """Move to another team or station (关系转接); ``unit_id`` null leaves every unit."""

    unit_id: int | None = Field(gt=0, le=MAX_ID)
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class TransferOut(BaseModel):
    from_unit_id: int | None
    to_unit_id: int | None
    at: datetime
    note: str | None


class TownshipOut(BaseModel):
    name: str
    name_en: str
    lat: float | None = None
    lon: float | None = None


class TownshipCreate(Coordinates):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64)]
    name_en: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class VillageCreate(Coordinates):
    township: TownshipName
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64)]
    kind: PlaceKind = PlaceKind.VILLAGE


class VillageOut(BaseModel):
    id: int
    township: str
    name: str
    kind: PlaceKind
    lat: float | None
    lon: float | None


class PlaceOut(TownshipOut):
    villages: list[VillageOut]


class VolunteerOut(BaseModel):
    id: int
    name: str
    phone: str
    township: str
    village_id: int | None = None
    lat: float | None = None
    lon: float | None = None
    skills: list[str]
    trade: str | None = None
    platform: Platform | None = None
    unit_id: int | None = None
    max_open_orders: int = 3
    active: bool
    paused: bool = False
    availability: list[Window] = []
    display_name: str | None = None
    open_orders: int = 0
    completed_orders: int = 0
    on_time_orders: int = 0
    rated_orders: int = 0
    created_at: datetime
    # A resident's own application: pending until an admin decides, or refused.
    application: Application | None = None


class UnitCreate(Strict):
    kind: UnitKind
    name: Name
    township: TownshipName
    village_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    platform: Platform | None = None
    leader_id: int | None = Field(default=None, gt=0, le=MAX_ID)


class UnitPatch(Patch):
    leader_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    active: bool | None = None


class UnitMember(BaseModel):
    """A member as their leader sees them, to hand an order to (no phone: the leader has it)."""

    id: int
    name: str
    available: bool


class UnitOut(BaseModel):
    id: int
    kind: UnitKind
    name: str
    township: str
    village_id: int | None
    platform: Platform | None
    leader_id: int | None
    active: bool
    members: int


class PolicyBody(Strict):
    policy: DispatchPolicy


class PolicyOut(BaseModel):
    scope: str
    policy: DispatchPolicy
    updated_at: datetime


class CandidatesOut(BaseModel):
    order_id: PublicId
    policy: DispatchPolicy
    weights: dict[str, float]
    # Under ``suggest`` the top candidate is pre-selected for the admin to confirm.
    preselected_volunteer_id: int | None
    excluded: list[int]
    # Each with its parts (0..1) and the score, their weighted sum; see core/matching.py.
    volunteers: list[Candidate]
    units: list[UnitCandidate]


# --- follow-ups and escalations --------------------------------------------------------


def _corrected_with_rating(schema: dict[str, Any], model: type) -> None:
    _typeable_fields(schema, model)
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
    calls: list[FollowUpCallOut]


class ComplaintOut(BaseModel):
    id: int
    order_id: PublicId
    # None for a complaint the resident made themself (``source`` resident).
    follow_up_id: int | None
    source: Literal["follow_up", "resident"] = "follow_up"
    status: ComplaintStatus
    created_at: datetime
    item_code: str
    item_name: str
    township: str
    volunteer_id: int | None
    # What the resident said, as the agent wrote it down.
    note: str | None
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
    level: int
    at: datetime
    order_status: OrderStatus
    township: str
    category_code: str
    deadline_at: datetime


class Health(BaseModel):
    status: str
    database: str
    temporal: str


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


# --- sign-in, accounts and the audit log (issue 11) ---------------------------------------

Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=60, pattern=r"^[\w.@-]+$"),
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SmsCodeRequest(Strict):
    phone: Phone


class SmsLogin(Strict):
    phone: Phone
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class PasswordLogin(Strict):
    username: Username
    password: Password


class RefreshBody(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=10, max_length=200)]


class TokenOut(BaseModel):
    """What every sign-in answers: a short access token and a rotating refresh token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str
    roles: list[Role]


class MeOut(BaseModel):
    subject: str
    roles: list[Role]
    resident_id: int | None = None
    volunteer_id: int | None = None
    staff_id: int | None = None
    led_units: list[int] = []
    # A staff member's townships; ``None`` is the whole county.
    townships: list[str] | None = None
    # An order link's order (its public id).
    order_id: str | None = None


class StaffCreate(Strict):
    username: Username
    password: Password
    role: Role
    # None or empty: the whole county.
    townships: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None = None


class StaffPatch(Strict):
    active: bool | None = None
    password: Password | None = None
    townships: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None = None
    unlock: bool | None = None


class StaffOut(BaseModel):
    id: int
    username: str
    role: Role
    townships: list[str] | None
    active: bool
    locked: bool = False
    created_at: datetime


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    ip: str | None
    detail: dict[str, Any]


class ErasureOut(BaseModel):
    """How many of the resident's orders were cleared of their personal data."""

    orders: int
    erased_at: datetime


class SmsCodeSent(BaseModel):
    """A sign-in code is on its way, if the number can receive SMS (the same for every number)."""

    expires_in: int


# --- the admin console (issue 13) -------------------------------------------------------


class BoardOut(BaseModel):
    """The to-close board (销号清单): open orders by what the center must do next.

    ``counts`` are every such order in the admin's townships; ``columns`` the most urgent
    of each (nearest deadline first). Columns: ``pending`` (待派单), ``dispatched`` (已派单),
    ``accepted`` (已接单), ``overdue`` (超时: past the 72 hours), ``supervised`` (督办:
    nobody could take it, its workflow was lost, the resident hurried it, or a complaint
    about it is open).
    """

    counts: dict[str, int]
    columns: dict[str, list[OrderSummary]]
    at: datetime


NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class NoteBody(Strict):
    text: NoteText


class NoteOut(BaseModel):
    """A staff note on an order: internal, never shown to residents or volunteers."""

    id: str
    order_id: PublicId
    text: str
    author: str | None
    created_at: datetime


ItemCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=2, max_length=60, pattern=r"^[a-z0-9][a-z0-9_.-]*$"
    ),
]
ItemName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
ItemNameEn = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class CatalogItemCreate(Strict):
    """A new sub-item of the service menu (深度拓展供需服务内容)."""

    category_code: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    code: ItemCode
    name: ItemName
    name_en: ItemNameEn


class CatalogItemPatch(Strict):
    """Rename an item, or take it off the menu (``active: false``) and back."""

    name: ItemName | None = None
    name_en: ItemNameEn | None = None
    active: bool | None = None


class CatalogItemOut(ItemOut):
    category_code: str
    active: bool
    position: int
