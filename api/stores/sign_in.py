"""Signing in: SMS codes, staff passwords, and the refresh tokens that keep people signed in.

Every check that fails returns ``None`` instead of raising, so that what the failure
changed (a wrong guess counted, a reused token's family revoked) commits with the
transaction; the route then answers 401. No answer says which part was wrong.

- An **SMS code** is stored as its HMAC only, bound to the phone; it lives ``SMS_CODE_TTL``,
  is used once, dies after ``SMS_CODE_MAX_ATTEMPTS`` wrong guesses, and a new code for the
  number ends the old one.
- A **refresh token** is stored as its SHA-256 only. Each use marks it used and issues the
  next of its family; presenting a used one again means two holders (a stolen token), so
  the whole family is revoked. Who the subject is now (roles, a deactivated volunteer, a
  disabled account) is looked up afresh at every refresh.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from api import schemas
from api.stores import accounts, audit
from core.models import RefreshToken, SmsCode
from core.security import (
    Principal,
    codes_match,
    issue_access_token,
    new_refresh_token,
    sms_code_hash,
    token_hash,
)
from core.settings import Settings

INVALID_CODE = "InvalidCode"
INVALID_CREDENTIALS = "InvalidCredentials"
INVALID_REFRESH_TOKEN = "InvalidRefreshToken"
SYSTEM = "system"
ANONYMOUS = "anonymous"
# Codes of a number are kept this long after they expire, then deleted when it asks again.
_KEEP_CODES = timedelta(days=1)


def store_code(
    session: Session, phone: str, code: str, *, now: datetime, settings: Settings
) -> None:
    """Keep ``code``'s hash for ``phone``; the number's earlier codes stop working."""
    session.execute(
        delete(SmsCode).where(SmsCode.phone == phone, SmsCode.expires_at < now - _KEEP_CODES)
    )
    session.execute(
        update(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.used_at.is_(None), SmsCode.expires_at > now)
        .values(expires_at=now)
    )
    session.add(
        SmsCode(
            phone=phone,
            code_hash=sms_code_hash(phone, code, secret=settings.signing_secret),
            created_at=now,
            expires_at=now + settings.sms_code_ttl,
            attempts=0,
        )
    )


def sms_login(
    session: Session, phone: str, code: str, *, now: datetime, settings: Settings
) -> schemas.TokenOut | None:
    """Tokens for the resident of ``phone`` if ``code`` is its live code; else ``None``."""
    row = session.scalar(
        select(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.used_at.is_(None), SmsCode.expires_at > now)
        .order_by(SmsCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None or row.attempts >= settings.sms_code_max_attempts:
        return None
    if not codes_match(row.code_hash, phone, code, secret=settings.signing_secret):
        row.attempts += 1
        return None
    row.used_at = now
    resident = accounts.resident_by_phone(session, phone)
    return issue_tokens(
        session,
        accounts.resident_principal(session, resident),
        now=now,
        settings=settings,
    )


def password_login(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    settings: Settings,
    ip: str | None,
) -> schemas.TokenOut | None:
    """Tokens for a staff account if the password is right and it may sign in; else ``None``.

    Sign-ins and failures on existing accounts go to the audit log (never the password).
    """
    account = accounts.verify_staff(
        session,
        username,
        password,
        ip=ip,
        now=now,
        max_failures=settings.login_max_failures,
        lockout=settings.login_lockout,
    )
    if account is None:
        known = accounts.staff_by_username(session, username)
        if known is not None:
            locked = accounts.source_locked(session, known.id, ip, now=now)
            audit.record(
                session, ANONYMOUS, "auth.login_failed", f"staff:{known.id}", ip=ip, locked=locked
            )
        return None
    principal = accounts.staff_principal(account)
    audit.record(session, principal, "auth.login", principal.subject, ip=ip)
    return issue_tokens(session, principal, now=now, settings=settings)


def issue_tokens(
    session: Session,
    principal: Principal,
    *,
    now: datetime,
    settings: Settings,
    family: str | None = None,
) -> schemas.TokenOut:
    """An access token for ``principal`` and the next refresh token of ``family`` (or a new one)."""
    refresh, hashed = new_refresh_token()
    session.add(
        RefreshToken(
            token_hash=hashed,
            family=family or uuid.uuid4().hex,
            subject=principal.subject,
            issued_at=now,
            expires_at=now + settings.refresh_token_ttl,
        )
    )
    access = issue_access_token(
        principal, secret=settings.signing_secret, ttl=settings.access_token_ttl, now=now
    )
    return schemas.TokenOut(
        access_token=access,
        expires_in=int(settings.access_token_ttl.total_seconds()),
        refresh_token=refresh,
        roles=sorted(principal.roles),
    )


def refresh(
    session: Session, token: str, *, now: datetime, settings: Settings, ip: str | None
) -> schemas.TokenOut | None:
    """The next pair for a live refresh token; ``None`` (and, on reuse, its family revoked)."""
    row = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash(token)).with_for_update()
    )
    if row is None or row.revoked_at is not None:
        return None
    if row.used_at is not None:
        revoke_family(session, row.family, now=now)
        audit.record(session, SYSTEM, "auth.refresh_reused", row.subject, ip=ip, family=row.family)
        return None
    if row.expires_at <= now:
        return None
    principal = accounts.principal_of(session, row.subject)
    if principal is None:  # the account was disabled or the resident erased meanwhile
        revoke_family(session, row.family, now=now)
        return None
    row.used_at = now
    return issue_tokens(session, principal, now=now, settings=settings, family=row.family)


def logout(session: Session, token: str, *, now: datetime) -> None:
    """End the sign-in ``token`` belongs to (its whole family); unknown tokens change nothing."""
    family = session.scalar(
        select(RefreshToken.family).where(RefreshToken.token_hash == token_hash(token))
    )
    if family is not None:
        revoke_family(session, family, now=now)


def revoke_family(session: Session, family: str, *, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_subject(session: Session, subject: str, *, now: datetime) -> None:
    """Sign ``subject`` out everywhere (their access tokens still run out on their own)."""
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.subject == subject, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
