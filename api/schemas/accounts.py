"""Sign-in, staff accounts, the audit log and erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    StringConstraints,
)

from api.schemas.base import Phone, Strict
from core.vocab import (
    Role,
)

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
    """What every sign-in answers: a short access token and a rotating refresh token (``null``
    when it was set as a cookie instead, out of the page's scripts' reach)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str | None
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
    # Seconds until the number may ask again (SMS_CODE_PER_NUMBER): the page counts them down.
    resend_in: int
