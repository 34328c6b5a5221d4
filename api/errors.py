"""Every business failure's HTTP status, in one place.

Workflows reject commands with ``ApplicationError(type=...)``; the API raises ``ApiError``
for what it checks itself. Responses look like ``{"detail": "...", "code": "..."}``.
"""

from __future__ import annotations

from typing import NoReturn

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from workflows import errors as wf

STATUS_BY_TYPE: dict[str, int] = {
    wf.INVALID_TRANSITION: 409,
    wf.NOT_ASSIGNED: 409,
    wf.ALREADY_DECLINED: 409,
    wf.ORDER_FINISHED: 409,
    wf.REVIEW_WINDOW_CLOSED: 409,
    wf.FOLLOW_UP_MISMATCH: 409,
    wf.ALREADY_TAKEN: 409,
    wf.NOT_LEADER: 403,
    wf.RATING_REQUIRED: 422,
}

# API-level codes.
NOT_FOUND = "NotFound"
UNKNOWN_REFERENCE = "UnknownReference"
CONFLICT = "Conflict"
IDEMPOTENCY_MISMATCH = "IdempotencyKeyReused"
UNAVAILABLE = "TemporalUnavailable"
PENDING = "CommandPending"
TWILIO_SIGNATURE = "InvalidTwilioSignature"
# The call-center queue: another agent's live claim, a release by someone not holding the
# claim, a task that is not (or no longer) in the staff queue.
CLAIMED_BY_OTHER = "ClaimedByOther"
NOT_CLAIM_HOLDER = "NotClaimHolder"
FOLLOW_UP_NOT_OPEN = "FollowUpNotOpen"
COMPLAINT_RESOLVED = "ComplaintAlreadyResolved"
# A report's period that ends before it starts.
INVALID_PERIOD = "InvalidPeriod"


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def not_found(what: str, ident: object) -> ApiError:
    return ApiError(404, NOT_FOUND, f"{what} {ident} not found")


def unknown(field: str, value: object) -> ApiError:
    return ApiError(422, UNKNOWN_REFERENCE, f"unknown {field} {value!r}")


def raise_for_update_failure(exc: BaseException) -> NoReturn:
    """Turn a failed workflow update (or a finished workflow) into the matching ApiError."""
    if isinstance(exc, WorkflowUpdateFailedError) and isinstance(exc.cause, ApplicationError):
        cause = exc.cause
        status = STATUS_BY_TYPE.get(cause.type or "")
        if status is not None:
            raise ApiError(status, cause.type or CONFLICT, cause.message) from exc
    if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
        raise ApiError(409, wf.ORDER_FINISHED, "the order's workflow has finished") from exc
    if isinstance(exc, RPCError) and exc.status == RPCStatusCode.UNAVAILABLE:
        raise ApiError(503, UNAVAILABLE, "the workflow service is unavailable; retry") from exc
    if isinstance(exc, WorkflowUpdateRPCTimeoutOrCancelledError | TimeoutError):
        raise ApiError(
            504,
            PENDING,
            "the order did not answer in time; the command may still apply, "
            "so check the order before sending it again",
        ) from exc
    raise exc


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, "code": exc.code}, status_code=exc.status)
