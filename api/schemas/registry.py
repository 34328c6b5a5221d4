"""The registry's bodies: volunteers, places, units, dispatch policies and candidates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from api.schemas.base import MAX_ID, Patch, Phone, Strict, typeable_fields
from api.schemas.orders import PublicId
from core import phones
from core.matching import Candidate, UnitCandidate
from core.vocab import (
    Application,
    DispatchPolicy,
    PlaceKind,
    Platform,
    UnitKind,
)

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
    typeable_fields(schema, model)
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
    """Change what a volunteer may change without re-registering; omitted fields stay.

    The name, phone and home place are an admin's to correct: a new township without a
    village leaves the old village behind, and the home coordinates follow the place.
    """

    name: Name | None = None
    phone: Phone | None = None
    township: TownshipName | None = None
    village_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    active: bool | None = None
    # How residents see you (e.g. 小王老师); null: your surname and 志愿者. Never a phone.
    display_name: DisplayName | None = None
    paused: bool | None = None
    max_open_orders: int | None = Field(default=None, ge=1, le=20)
    skills: list[str] | None = Field(default=None, max_length=60)
    trade: str | None = Field(default=None, max_length=30)
    availability: list[Window] | None = Field(default=None, max_length=28)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else phones.normalise(value)


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
