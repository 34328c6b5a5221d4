"""The call-center's call-back and intake tasks, left by the keypad menu of the center's number."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from api.schemas.base import Strict
from api.schemas.orders import PublicId
from core.vocab import CallRequestKind, CallRequestStatus


class CallRequestOut(BaseModel):
    id: int
    kind: CallRequestKind
    status: CallRequestStatus
    created_at: datetime
    # What they picked on the keypad, if anything, before speaking.
    service: str | None
    item_code: str | None
    # Whether the number is a resident's we know (their earlier orders can be found by it).
    known_caller: bool
    # Masked (138****8000) unless you hold the task's claim.
    phone: str
    has_recording: bool
    recording_seconds: int | None
    claimed_by_me: bool
    claim_expires_at: datetime | None
    outcome: str | None


class CallRequestDone(Strict):
    # ``ordered``: an order was taken for them (give its id); ``resolved``: helped on the
    # phone; ``unreachable``: called back without an answer; ``no_need``: nothing wanted.
    outcome: Literal["ordered", "resolved", "unreachable", "no_need"]
    order_id: PublicId | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = Field(
        default=None
    )
