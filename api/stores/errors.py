"""What the stores refuse, in the domain's terms, each with a stable code.

``api/errors.py`` gives each kind its HTTP status in one place; stores know nothing of HTTP.
"""

from __future__ import annotations

from typing import Final, TypeVar

T = TypeVar("T")

NOT_FOUND: Final = "NotFound"
UNKNOWN_REFERENCE: Final = "UnknownReference"
"""A body names a catalog item, place, unit, volunteer, skill or trade that does not exist."""
IDEMPOTENCY_MISMATCH: Final = "IdempotencyKeyReused"
INVALID_PERIOD: Final = "InvalidPeriod"
"""A report's period that ends before it starts."""

CLAIMED_BY_OTHER: Final = "ClaimedByOther"
"""Another agent's live claim on a follow-up task."""
NOT_CLAIM_HOLDER: Final = "NotClaimHolder"
"""A release by an agent not holding the claim."""
FOLLOW_UP_NOT_OPEN: Final = "FollowUpNotOpen"
"""The task is not (or no longer) in the staff queue."""
COMPLAINT_RESOLVED: Final = "ComplaintAlreadyResolved"
COMPLAINT_OPEN: Final = "ComplaintOpen"
"""The resident complains again while their complaint on the order is still open."""
INVALID_WINDOW: Final = "InvalidWindow"
"""A weekly availability window that does not end after it starts."""
INVALID_DISPLAY_NAME: Final = "InvalidDisplayName"
"""A volunteer's display name with digits: it must never carry a phone number."""
UNSUPPORTED_PHOTO: Final = "UnsupportedPhoto"
"""An upload that is not a readable JPEG, PNG or WebP photo (by its bytes, not its name)."""
PHOTO_TOO_MANY_PIXELS: Final = "PhotoTooManyPixels"
"""A photo whose header declares more pixels than a phone's (a few KB can declare a GB)."""
TOO_MANY_PHOTOS: Final = "TooManyPhotos"
UNKNOWN_PHOTO: Final = "UnknownPhoto"
"""A completion names a photo its volunteer did not upload to this order."""

DUPLICATE_TOWNSHIP: Final = "DuplicateTownship"
DUPLICATE_PLACE: Final = "DuplicatePlace"
VILLAGE_OUTSIDE_TOWNSHIP: Final = "VillageOutsideTownship"
DUPLICATE_UNIT: Final = "DuplicateUnit"
INACTIVE_UNIT: Final = "InactiveUnit"
UNIT_WITHOUT_LEADER: Final = "UnitWithoutLeader"
NOT_A_MEMBER: Final = "NotUnitMember"
NOT_UNIT_DISPATCH: Final = "NotUnitDispatch"
"""A leader hands on an order that was not dispatched to a unit."""
DUPLICATE_ITEM: Final = "DuplicateItem"
"""A new catalog item with a code the catalog already has."""
DUPLICATE_PHONE: Final = "DuplicatePhone"
INACTIVE_VOLUNTEER: Final = "InactiveVolunteer"
SAME_UNIT: Final = "SameUnit"
LEADER_TRANSFER: Final = "LeaderTransfer"
"""A unit's leader cannot move away before another is named."""
NO_CANDIDATES: Final = "NoCandidates"
NOT_AN_APPLICATION: Final = "NotAnApplication"
NOT_YOURS: Final = "NotYourPhone"
"""A resident's order names a phone: theirs is the one they signed in with."""
PHONE_REQUIRED: Final = "PhoneRequired"
INVALID_PHONE: Final = "InvalidPhone"
INVALID_CHANNEL: Final = "InvalidChannel"
WORKFLOW_LOST: Final = "WorkflowLost"
"""The order's workflow ended outside the API (terminated, failed, timed out)."""
NO_VERIFIED_HOURS: Final = "NoVerifiedHours"
"""A certificate needs hours the follow-up has verified."""

NOT_SIGNED_IN: Final = "NotSignedIn"
INVALID_TOKEN: Final = "InvalidToken"
FORBIDDEN: Final = "Forbidden"


class DomainError(Exception):
    """A refusal: a stable ``code`` for programs and a ``message`` for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(DomainError):
    """What the request addresses (its path) does not exist."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(NOT_FOUND, f"{what} {ident} not found")


class Invalid(DomainError):
    """The request names something that does not exist or cannot serve."""


class Conflict(DomainError):
    """The request does not fit the current state of what it addresses."""


class Unauthorized(DomainError):
    """No valid sign-in: the caller must sign in (again) first."""


class Forbidden(DomainError):
    """Signed in, but this kind of account may not do this."""

    def __init__(self, message: str = "your account may not do this") -> None:
        super().__init__(FORBIDDEN, message)


def unknown(field: str, value: object) -> Invalid:
    return Invalid(UNKNOWN_REFERENCE, f"unknown {field} {value!r}")


def found(value: T | None, what: str, ident: object) -> T:
    """``value``, unless there is none: then ``what`` ``ident`` was not found."""
    if value is None:
        raise NotFound(what, ident)
    return value
