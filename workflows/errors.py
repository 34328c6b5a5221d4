"""Business failures the workflows raise, by ``ApplicationError.type``.

``api/errors.py`` maps each to an HTTP status in one place; nothing matches on message text.
"""

from __future__ import annotations

from typing import Final

from temporalio.exceptions import ApplicationError

INVALID_TRANSITION: Final = "InvalidTransition"
"""The command does not fit the order's current status (review before completion, ...)."""
NOT_ASSIGNED: Final = "NotAssignedVolunteer"
"""A volunteer acted on an order that is not dispatched or assigned to them."""
ALREADY_DECLINED: Final = "AlreadyDeclined"
"""The order would go back to a volunteer who already declined it."""
ORDER_FINISHED: Final = "OrderFinished"
"""The order is closed or cancelled; it takes no more commands."""
REVIEW_WINDOW_CLOSED: Final = "ReviewWindowClosed"
"""The review window expired; the follow-up records the rating instead."""
FOLLOW_UP_MISMATCH: Final = "FollowUpMismatch"
"""The follow-up result names a task the order is not waiting for."""

ALREADY_TAKEN: Final = "AlreadyTaken"
"""An open call's order was accepted by someone else first."""
NOT_LEADER: Final = "NotUnitLeader"
"""Only the leader of the team or station an order was dispatched to can hand it on."""

RATING_REQUIRED: Final = "RatingRequired"
"""The follow-up must record a rating: the resident never reviewed the order."""

HURRY_TOO_SOON: Final = "HurryTooSoon"
"""The resident hurried (催办) this order less than the hurry interval ago."""
NOT_CHECKED_IN: Final = "NotCheckedIn"
"""The volunteer checks out without having checked in."""

BUSINESS_ERRORS: Final = frozenset(
    {
        HURRY_TOO_SOON,
        NOT_CHECKED_IN,
        INVALID_TRANSITION,
        NOT_ASSIGNED,
        ALREADY_DECLINED,
        ORDER_FINISHED,
        REVIEW_WINDOW_CLOSED,
        FOLLOW_UP_MISMATCH,
        ALREADY_TAKEN,
        NOT_LEADER,
        RATING_REQUIRED,
    }
)


def rejected(error_type: str, message: str) -> ApplicationError:
    """A non-retryable failure that rejects one command and leaves the order as it was."""
    return ApplicationError(message, type=error_type, non_retryable=True)
