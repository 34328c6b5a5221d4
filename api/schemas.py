"""Request and response bodies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from core.vocab import (
    ActorKind,
    FollowUpMethod,
    FollowUpOutcome,
    FollowUpStatus,
    OrderStatus,
    Rating,
)

Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=24)]


def normalise_phone(value: str) -> str:
    """Drop spaces and dashes; then 6 to 15 digits, optionally after ``+`` (E.164's limit)."""
    compact = value.replace(" ", "").replace("-", "")
    if not re.fullmatch(r"\+?[0-9]{6,15}", compact):
        raise ValueError("a phone number is 6 to 15 digits, optionally starting with +")
    return compact


class ErrorOut(BaseModel):
    """Every business error: a reason for people and a stable code for programs."""

    detail: str
    code: str


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown order, volunteer or follow-up"},
    409: {"model": ErrorOut, "description": "The command does not fit the order's state"},
    504: {"model": ErrorOut, "description": "The order did not answer in time"},
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    resident_phone: Phone

    _phone = field_validator("resident_phone")(normalise_phone)


class DispatchBody(Strict):
    volunteer_id: int = Field(gt=0)
    admin_id: int | None = Field(default=None, gt=0)


class AcceptBody(Strict):
    volunteer_id: int = Field(gt=0)


class DeclineBody(Strict):
    volunteer_id: int = Field(gt=0)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class CompleteBody(Strict):
    volunteer_id: int = Field(gt=0)
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    hours: float = Field(gt=0, le=1000)


class ReviewBody(Strict):
    rating: Rating
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class CancelBody(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    by: ActorKind = ActorKind.RESIDENT

    @field_validator("by")
    @classmethod
    def _who_may_cancel(cls, value: ActorKind) -> ActorKind:
        if value not in (ActorKind.RESIDENT, ActorKind.ADMIN):
            raise ValueError("an order is cancelled by the resident or an admin")
        return value


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


class OrderSummary(BaseModel):
    """What lists show: no personal data."""

    id: int
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


class OrderOut(OrderSummary):
    item_name: str
    reason: str
    address: str
    resident_name: str
    resident_phone_masked: str
    completed_at: datetime | None
    closed_at: datetime | None
    hours: float | None
    review_rating: Rating | None
    follow_up: FollowUpSummary | None
    timeline: list[TimelineEntry]
    workflow_id: str
    workflow_url: str


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# --- volunteers ------------------------------------------------------------------------


class VolunteerCreate(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    phone: Phone
    township: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    skills: list[str] = Field(default_factory=list, max_length=13)

    _phone = field_validator("phone")(normalise_phone)


class TownshipOut(BaseModel):
    name: str
    name_en: str


class TownshipCreate(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64)]
    name_en: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class VolunteerStatus(Strict):
    active: bool


class VolunteerOut(BaseModel):
    id: int
    name: str
    phone: str
    township: str
    skills: list[str]
    active: bool
    created_at: datetime


# --- follow-ups and escalations --------------------------------------------------------


class FollowUpResultBody(Strict):
    method: FollowUpMethod
    outcome: FollowUpOutcome
    rating: Rating | None = None
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    agent_id: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _corrected_needs_rating(self) -> FollowUpResultBody:
        if self.outcome == FollowUpOutcome.RATING_CORRECTED and self.rating is None:
            raise ValueError("outcome rating_corrected needs the corrected rating")
        return self


class FollowUpTask(BaseModel):
    id: int
    order_id: int
    status: FollowUpStatus
    created_at: datetime
    done_at: datetime | None
    item_code: str
    township: str
    completed_at: datetime | None
    review_rating: Rating | None
    # The call-center needs to reach the resident.
    resident_name: str
    resident_phone: str
    method: FollowUpMethod | None
    outcome: FollowUpOutcome | None
    rating: Rating | None


class EscalationOut(BaseModel):
    order_id: int
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
