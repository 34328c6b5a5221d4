"""Residents and staff accounts, and the principal each signs in as.

A resident is a phone number (E.164). Signing in with an SMS code makes them a ``resident``;
if the phone belongs to an active volunteer they are also a ``volunteer``, and a ``leader``
when they lead a unit. Staff accounts are admins (the county, or some townships) and
call-center agents, with argon2 password hashes and a lockout after repeated failures.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.stores.errors import Conflict, Invalid
from core.db import insert_ignore, utcnow
from core.models import LoginFailure, Resident, StaffAccount, Unit, Volunteer
from core.security import Principal, hash_password, verify_password
from core.vocab import Role

DUPLICATE_USERNAME = "DuplicateUsername"
WEAK_PASSWORD = "WeakPassword"
UNKNOWN_TOWNSHIP = "UnknownReference"
MIN_PASSWORD = 12


def resident_by_phone(session: Session, phone: str) -> Resident:
    """The resident with this (E.164) phone, registered on first sight.

    Insert-or-ignore first: two first sign-ins (or orders) from one phone at once must make
    one resident, not a unique-key error.
    """
    resident = session.scalar(select(Resident).where(Resident.phone == phone))
    if resident is None:
        session.execute(
            insert_ignore(session, Resident.__table__, ("phone",)).values(
                phone=phone, created_at=utcnow()
            )
        )
        resident = session.scalars(select(Resident).where(Resident.phone == phone)).one()
    return resident


def resident_principal(session: Session, resident: Resident) -> Principal:
    """What a resident signs in as: their volunteer record and the units they lead, if any.

    Both phones are E.164 (the registry stores volunteers' so since migration 0005).
    """
    volunteer = session.scalar(
        select(Volunteer).where(Volunteer.phone == resident.phone, Volunteer.active.is_(True))
    )
    roles = {Role.RESIDENT}
    led: tuple[int, ...] = ()
    if volunteer is not None:
        roles.add(Role.VOLUNTEER)
        led = _led_units(session, volunteer.id)
        if led:
            roles.add(Role.LEADER)
    return Principal(
        subject=f"resident:{resident.id}",
        roles=frozenset(roles),
        resident_id=resident.id,
        volunteer_id=volunteer.id if volunteer is not None else None,
        led_units=led,
    )


def _led_units(session: Session, volunteer_id: int) -> tuple[int, ...]:
    return tuple(
        session.scalars(
            select(Unit.id)
            .where(Unit.leader_id == volunteer_id, Unit.active.is_(True))
            .order_by(Unit.id)
        )
    )


def rechecked(principal: Principal) -> bool:
    """Whether a token's principal depends on an account that may be disabled meanwhile.

    Residents and order links hold no account beyond their phone or their order.
    """
    return principal.staff_id is not None or principal.volunteer_id is not None


def current_principal(session: Session, principal: Principal) -> Principal | None:
    """``principal`` (read from a token) as its account stands now; ``None`` if it may no
    longer act at all: a disabled staff account, or a volunteer link of an inactive volunteer.

    A token outlives what it was issued for (an account disabled, re-scoped, a volunteer
    deactivated, a unit handed on), so each request is checked against the rows, by primary
    key. A resident who stopped volunteering stays a resident. Rights gained since the
    token wait for the next refresh; rights lost end here.
    """
    if principal.staff_id is not None:
        account = session.get(StaffAccount, principal.staff_id)
        if account is None or not account.active:
            return None
        return staff_principal(account)
    if principal.volunteer_id is None:
        return principal
    volunteer = session.get(Volunteer, principal.volunteer_id)
    active = volunteer is not None and volunteer.active
    if principal.only_order is not None:  # a volunteer link: nothing but the volunteer
        return principal if active else None
    if not active:
        return replace(
            principal,
            roles=principal.roles - {Role.VOLUNTEER, Role.LEADER},
            volunteer_id=None,
            led_units=(),
        )
    if not principal.led_units:
        return principal
    still = set(_led_units(session, principal.volunteer_id))
    led = tuple(u for u in principal.led_units if u in still)
    roles = principal.roles if led else principal.roles - {Role.LEADER}
    return replace(principal, roles=roles, led_units=led)


def staff_principal(account: StaffAccount) -> Principal:
    return Principal(
        subject=f"staff:{account.id}",
        roles=frozenset({Role(account.role)}),
        staff_id=account.id,
        townships=tuple(account.townships) if account.townships is not None else None,
    )


def principal_of(session: Session, subject: str) -> Principal | None:
    """The principal a refresh token's subject names now (roles can change between tokens)."""
    kind, _, ident = subject.partition(":")
    if not ident.isdigit():
        return None
    if kind == "resident":
        resident = session.get(Resident, int(ident))
        if resident is None or resident.erased_at is not None:
            return None
        return resident_principal(session, resident)
    if kind == "staff":
        account = session.get(StaffAccount, int(ident))
        if account is None or not account.active:
            return None
        return staff_principal(account)
    return None


def create_staff(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    townships: Sequence[str] | None,
    known_townships: Sequence[str],
) -> StaffAccount:
    """A new admin or agent; ``townships=None`` (or empty) is the whole county."""
    if role not in (Role.ADMIN, Role.AGENT):
        raise Invalid("InvalidRole", f"staff are admins or agents, not {role}")
    check_password(password)
    unknown = sorted(set(townships or ()) - set(known_townships))
    if unknown:
        raise Invalid(UNKNOWN_TOWNSHIP, f"unknown townships {unknown}")
    if session.scalar(select(StaffAccount.id).where(StaffAccount.username == username)):
        raise Conflict(DUPLICATE_USERNAME, f"username {username!r} is taken")
    account = StaffAccount(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        townships=sorted(townships) if townships else None,
        active=True,
    )
    try:
        with session.begin_nested():  # the same name, taken meanwhile by another request
            session.add(account)
    except IntegrityError as exc:
        raise Conflict(DUPLICATE_USERNAME, f"username {username!r} is taken") from exc
    return account


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(WEAK_PASSWORD, f"a password has {MIN_PASSWORD} characters or more")


def staff_by_username(session: Session, username: str) -> StaffAccount | None:
    return session.scalar(select(StaffAccount).where(StaffAccount.username == username))


def verify_staff(
    session: Session,
    username: str,
    password: str,
    *,
    ip: str | None,
    now: datetime,
    max_failures: int,
    lockout: timedelta,
) -> StaffAccount | None:
    """The account if the password is right and it may sign in; else ``None``.

    Every failure counts; ``max_failures`` in a row from one source (``login_source``) lock
    that source out of the account for ``lockout``. Anyone can send wrong passwords for
    ``admin``: locking the account itself would let anyone lock the county out, so its owner
    elsewhere still signs in. The answer never says which part was wrong, and an unknown
    name costs a full hash check.
    """
    account = session.scalar(
        # Locked, so that failures counted at once by concurrent attempts are all counted.
        select(StaffAccount).where(StaffAccount.username == username).with_for_update()
    )
    if account is None:
        verify_password(password, None)
        return None
    failure = session.get(LoginFailure, (account.id, login_source(ip)))
    if failure is not None and _locks(failure, now):
        verify_password(password, None)
        return None
    if verify_password(password, account.password_hash) and account.active:
        if failure is not None:
            session.delete(failure)
        return account
    if failure is None:
        failure = LoginFailure(staff_id=account.id, source=login_source(ip), failures=0)
        session.add(failure)
    failure.failures += 1
    failure.last_failed_at = now
    if failure.failures >= max_failures:
        failure.locked_until = now + lockout
        failure.failures = 0
    return None


def login_source(ip: str | None) -> str:
    """Where sign-ins come from, as the lockout counts them: an IPv4 address, or an IPv6
    /64 (one household or host holds a whole /64, so its addresses are one source)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return (ip or "")[:48]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def source_locked(session: Session, staff_id: int, ip: str | None, *, now: datetime) -> bool:
    """Whether ``ip``'s source is locked out of this account now."""
    failure = session.get(LoginFailure, (staff_id, login_source(ip)))
    return failure is not None and _locks(failure, now)


def locked_out(session: Session, staff_ids: Sequence[int], *, now: datetime) -> set[int]:
    """Which of these accounts some source is locked out of now."""
    return set(
        session.scalars(
            select(LoginFailure.staff_id).where(
                LoginFailure.staff_id.in_(staff_ids), LoginFailure.locked_until > now
            )
        )
    )


def unlock(session: Session, staff_id: int) -> None:
    """Every source may try this account's password again."""
    session.execute(delete(LoginFailure).where(LoginFailure.staff_id == staff_id))


def _locks(failure: LoginFailure, now: datetime) -> bool:
    return failure.locked_until is not None and failure.locked_until > now
