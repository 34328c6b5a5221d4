"""Signing in: residents and volunteers by SMS code, staff by password; tokens; who am I.

Every sign-in answers the same ``TokenOut``: a short access token (``ACCESS_TOKEN_TTL``) to
send as ``Authorization: Bearer``, and a refresh token that rotates on every use. Wrong
codes and wrong passwords get 401 without saying what was wrong; asking for a code answers
202 whether or not the number is known.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from api import schemas
from api.auth import Actor, client_ip
from api.deps import DatabaseDep, SettingsDep
from api.limits import LimitsDep
from api.responses import refusals
from api.sign_in_sms import send_code, unavailable
from api.stores import sign_in
from api.stores.errors import Invalid, Unauthorized
from core.db import utcnow
from core.phones import e164
from core.security import new_sms_code
from core.settings import Settings

INVALID_PHONE = "InvalidPhone"

SIGN_IN_ERRORS = refusals(
    {
        401: "Wrong, expired or used code or password; or not signed in",
        422: "A malformed body, or a number that cannot be a phone",
        429: "Too many requests: try again after Retry-After seconds",
        503: "SMS or the shared rate limits are unavailable",
    }
)

router = APIRouter(prefix="/api", tags=["sign-in"], responses=SIGN_IN_ERRORS)


class _Context:
    """What every sign-in route needs besides its body."""

    def __init__(
        self, request: Request, db: DatabaseDep, settings: SettingsDep, limits: LimitsDep
    ) -> None:
        self.db = db
        self.settings = settings
        self.limits = limits
        self.ip = client_ip(request)


Context = Annotated[_Context, Depends()]


def _phone(settings: Settings, typed: str) -> str:
    phone = e164(typed, country_code=settings.default_country_code)
    if phone is None:
        raise Invalid(INVALID_PHONE, "not a phone number")
    return phone


@router.post(
    "/auth/sms-code", status_code=status.HTTP_202_ACCEPTED, response_model=schemas.SmsCodeSent
)
async def send_sms_code(body: schemas.SmsCodeRequest, at: Context) -> schemas.SmsCodeSent:
    """Text a 6-digit sign-in code to the phone (the same 202 for every number)."""
    phone = _phone(at.settings, body.phone)
    if not at.settings.twilio_configured:
        raise unavailable("no SMS account is configured")
    await at.limits.check_sms_code(phone, at.ip)
    code = new_sms_code()
    await at.db.run(sign_in.store_code, phone, code, now=utcnow(), settings=at.settings)
    await send_code(at.settings, phone, code)
    return schemas.SmsCodeSent(expires_in=int(at.settings.sms_code_ttl.total_seconds()))


@router.post("/auth/sms-login", response_model=schemas.TokenOut)
async def sms_login(body: schemas.SmsLogin, at: Context) -> schemas.TokenOut:
    """Sign in with the phone and its code: a resident, and a volunteer or leader if one."""
    phone = _phone(at.settings, body.phone)
    await at.limits.check_login(at.ip)
    tokens = await at.db.run(
        sign_in.sms_login, phone, body.code, now=utcnow(), settings=at.settings
    )
    if tokens is None:
        raise Unauthorized(sign_in.INVALID_CODE, "the code is wrong, expired or already used")
    return tokens


async def _password_login(username: str, password: str, at: _Context) -> schemas.TokenOut:
    await at.limits.check_login(at.ip)
    tokens = await at.db.run(
        sign_in.password_login, username, password, now=utcnow(), settings=at.settings, ip=at.ip
    )
    if tokens is None:
        raise Unauthorized(sign_in.INVALID_CREDENTIALS, "wrong username or password")
    return tokens


@router.post("/auth/login", response_model=schemas.TokenOut)
async def login(body: schemas.PasswordLogin, at: Context) -> schemas.TokenOut:
    """Staff sign in with username and password (locked for a while after repeated failures)."""
    return await _password_login(body.username, body.password, at)


@router.post("/auth/token", response_model=schemas.TokenOut)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], at: Context
) -> schemas.TokenOut:
    """The same staff sign-in as an OAuth2 password grant (what /docs' Authorize uses)."""
    return await _password_login(form.username, form.password, at)


@router.post("/auth/refresh", response_model=schemas.TokenOut)
async def refresh(body: schemas.RefreshBody, at: Context) -> schemas.TokenOut:
    """A new pair for a refresh token, which is used up; reusing one signs its holders out."""
    tokens = await at.db.run(
        sign_in.refresh, body.refresh_token, now=utcnow(), settings=at.settings, ip=at.ip
    )
    if tokens is None:
        raise Unauthorized(sign_in.INVALID_REFRESH_TOKEN, "sign in again")
    return tokens


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: schemas.RefreshBody, db: DatabaseDep) -> Response:
    """End this sign-in: its refresh token stops working (the access token runs out soon)."""
    await db.run(sign_in.logout, body.refresh_token, now=utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=schemas.MeOut)
async def me(principal: Actor) -> schemas.MeOut:
    """Who the bearer token names, and what they may do."""
    return schemas.MeOut(
        subject=principal.subject,
        roles=sorted(principal.roles),
        resident_id=principal.resident_id,
        volunteer_id=principal.volunteer_id,
        staff_id=principal.staff_id,
        led_units=list(principal.led_units),
        townships=list(principal.townships) if principal.townships is not None else None,
        order_id=principal.order,
    )
