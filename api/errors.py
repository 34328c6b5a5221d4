"""Every failure's HTTP status, in one place.

Stores refuse with domain errors (``api.stores.errors``) and workflows reject commands with
``ApplicationError(type=...)``; what only HTTP knows (signatures, Temporal down, no answer in
time) raises ``ApiError``. Responses look like ``{"detail": "...", "code": "..."}``.
"""

from __future__ import annotations

import logging
import re
from typing import NoReturn

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.stores.errors import (
    NOT_FOUND,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
)
from workflows import errors as wf

log = logging.getLogger(__name__)

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
    wf.HURRY_TOO_SOON: 409,
    wf.NOT_CHECKED_IN: 409,
}

# HTTP-level codes.
CONFLICT = "Conflict"
UNAVAILABLE = "TemporalUnavailable"
PENDING = "CommandPending"
TWILIO_SIGNATURE = "InvalidTwilioSignature"
PHOTO_TOO_LARGE = "PhotoTooLarge"


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
    if isinstance(exc, RPCError) and exc.status in (RPCStatusCode.UNKNOWN, RPCStatusCode.CANCELLED):
        # The connection broke mid-call (Temporal restarting): it may or may not have applied.
        raise ApiError(
            503,
            UNAVAILABLE,
            "the workflow service went away mid-request; the command may still apply, "
            "so check the order before sending it again",
        ) from exc
    if isinstance(exc, WorkflowUpdateRPCTimeoutOrCancelledError | TimeoutError) or (
        isinstance(exc, RPCError) and exc.status == RPCStatusCode.DEADLINE_EXCEEDED
    ):
        raise ApiError(
            504,
            PENDING,
            "the order did not answer in time; the command may still apply, "
            "so check the order before sending it again",
        ) from exc
    raise exc


RETRY_AFTER = "5"
DATABASE_UNAVAILABLE = "DatabaseUnavailable"
INVALID_REQUEST = "InvalidRequest"
METHOD_NOT_ALLOWED = "MethodNotAllowed"
HTTP_ERROR = "HttpError"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": RETRY_AFTER} if exc.status == 503 else None
        return _response(exc.status, exc.code, exc.detail, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer echoes what was sent: a 100 MB body came back whole, and a
        # lone surrogate could not be encoded at all (a 500). Say where and which rule only.
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()[:20]
        ]
        return JSONResponse({"detail": errors, "code": INVALID_REQUEST}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _routing(request: Request, exc: HTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        methods = documented_methods(request) if exc.status_code == 405 else None
        if methods is not None:
            # Starlette's names only the first route on the path (GET of GET and PATCH).
            headers["Allow"] = ", ".join(methods)
        # A 400 is a body that cannot be parsed at all.
        codes = {400: INVALID_REQUEST, 404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}
        code = codes.get(exc.status_code, HTTP_ERROR)
        return _response(exc.status_code, code, str(exc.detail), headers)

    @app.exception_handler(RPCError)
    async def _temporal(_request: Request, exc: RPCError) -> JSONResponse:
        try:
            raise_for_update_failure(exc)
        except ApiError as mapped:
            return await _api_error(_request, mapped)
        except RPCError:
            pass
        return _response(503, UNAVAILABLE, "the workflow service failed; retry", _retry())

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        return _response(503, DATABASE_UNAVAILABLE, "the database is unavailable; retry", _retry())

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        status = status_of(exc)
        # RFC 6750: a 401 says how to authenticate.
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return _response(status, exc.code, exc.message, headers)


def documented_methods(request: Request) -> list[str] | None:
    """The methods the API document lists for the request's path, under every template that
    matches it (``None``: not one of its paths, a page)."""
    paths: dict[str, dict[str, object]] = request.app.openapi()["paths"]
    methods = {
        method.upper()
        for template, operations in paths.items()
        if on_template(request.url.path, template)
        for method in operations
    }
    return sorted(methods) or None


def on_template(path: str, template: str) -> bool:
    """Whether ``path`` is one of an OpenAPI path template's (``/api/units/{unit_id}``)."""
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
    return re.fullmatch(pattern, path) is not None


def _retry() -> dict[str, str]:
    return {"Retry-After": RETRY_AFTER}


def _response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)
