"""Signing in: residents and volunteers by SMS code, staff by password; tokens; who am I.

Every sign-in answers the same ``TokenOut``: a short access token (``ACCESS_TOKEN_TTL``) to
send as ``Authorization: Bearer``, and a refresh token that rotates on every use. Wrong
codes and wrong passwords get 401 without saying what was wrong; asking for a code answers
202 whether or not the number is known.

The resident's pages keep their sign-in across tabs and browser restarts, so their refresh
token must outlive a tab yet stay out of reach of any script (an injected one included): with
``?cookie=true`` it comes as an HttpOnly, SameSite=Strict cookie sent only to
``/api/auth/refresh``, which rotates it there and ends it on ``DELETE``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, Query, Request, Response, status
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
REFRESH_COOKIE = "fourorders_refresh"
REFRESH_PATH = "/api/auth/refresh"

AsCookie = Annotated[
    bool,
    Query(
        alias="cookie",
        description="Set the refresh token as an HttpOnly cookie for /api/auth/refresh "
        "(the body's refresh_token is then null)",
    ),
]
KeptToken = Annotated[
    str | None,
    Cookie(alias=REFRESH_COOKIE, max_length=200, description="Set by ?cookie=true"),
]

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
    return schemas.SmsCodeSent(
        expires_in=int(at.settings.sms_code_ttl.total_seconds()),
        resend_in=await at.limits.sms_code_wait(phone),
    )


def _cookie(settings: Settings) -> dict[str, Any]:
    # A developer's http://localhost has no TLS; everywhere else the cookie needs it.
    secure = settings.environment != "development"
    return {"path": REFRESH_PATH, "httponly": True, "samesite": "strict", "secure": secure}


def _kept(response: Response, tokens: schemas.TokenOut, settings: Settings) -> schemas.TokenOut:
    """``tokens`` with the refresh token moved into the cookie only the refresh route sees."""
    assert tokens.refresh_token is not None
    max_age = int(settings.refresh_token_ttl.total_seconds())
    response.set_cookie(REFRESH_COOKIE, tokens.refresh_token, max_age=max_age, **_cookie(settings))
    return tokens.model_copy(update={"refresh_token": None})


@router.post("/auth/sms-login", response_model=schemas.TokenOut)
async def sms_login(
    body: schemas.SmsLogin, at: Context, response: Response, as_cookie: AsCookie = False
) -> schemas.TokenOut:
    """Sign in with the phone and its code: a resident, and a volunteer or leader if one."""
    phone = _phone(at.settings, body.phone)
    await at.limits.check_login(at.ip)
    tokens = await at.db.run(
        sign_in.sms_login, phone, body.code, now=utcnow(), settings=at.settings
    )
    if tokens is None:
        raise Unauthorized(sign_in.INVALID_CODE, "the code is wrong, expired or already used")
    return _kept(response, tokens, at.settings) if as_cookie else tokens


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
async def refresh(
    at: Context,
    response: Response,
    body: schemas.RefreshBody | None = None,
    kept: KeptToken = None,
) -> schemas.TokenOut:
    """A new pair for a refresh token (the body's, else the cookie's), which is used up;
    reusing one signs its holders out. The cookie's successor comes as the cookie again."""
    token = body.refresh_token if body is not None else kept
    tokens = None
    if token:
        tokens = await at.db.run(
            sign_in.refresh, token, now=utcnow(), settings=at.settings, ip=at.ip
        )
    if tokens is None:
        raise Unauthorized(sign_in.INVALID_REFRESH_TOKEN, "sign in again")
    return tokens if body is not None else _kept(response, tokens, at.settings)


@router.delete("/auth/refresh", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(db: DatabaseDep, settings: SettingsDep, kept: KeptToken = None) -> Response:
    """End the sign-in whose refresh token is the cookie, and drop the cookie."""
    if kept:
        await db.run(sign_in.logout, kept, now=utcnow())
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(REFRESH_COOKIE, **_cookie(settings))
    return response


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
