"""Every failure's HTTP status, in one place.

Stores refuse with domain errors (``api.stores.errors``) and workflows reject commands with
``ApplicationError(type=...)``; what only HTTP knows (signatures, Temporal down, no answer in
time) raises ``ApiError``. Responses look like ``{"detail": "...", "code": "..."}``.
"""

from __future__ import annotations

from typing import NoReturn

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.stores.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthorized
from workflows import errors as wf

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
}

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

# HTTP-level codes.
CONFLICT = "Conflict"
UNAVAILABLE = "TemporalUnavailable"
PENDING = "CommandPending"
TWILIO_SIGNATURE = "InvalidTwilioSignature"


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def status_of(error: DomainError) -> int:
    return next(STATUS_BY_ERROR[kind] for kind in type(error).__mro__ if kind in STATUS_BY_ERROR)


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
        return _response(exc.status, exc.code, exc.detail)

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        status = status_of(exc)
        # RFC 6750: a 401 says how to authenticate.
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return _response(status, exc.code, exc.message, headers)


def _response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)
