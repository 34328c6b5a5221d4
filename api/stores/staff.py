"""Staff accounts as admins manage them: create, list, disable, reset, re-scope, unlock.

An admin of some townships sees and changes only staff wholly within those townships (an
account beyond them reads as not found) and creates none beyond them, so no county-wide
account (403). Every change is written to the audit log in the same transaction, naming the
admin, the account and what changed, never a password. The county always keeps one active
county-wide admin: a change that would remove the last one is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import schemas
from api.stores import accounts, audit, sign_in
from api.stores.errors import Conflict, Forbidden, Invalid, NotFound
from core.models import StaffAccount, Township
from core.security import Principal, hash_password
from core.vocab import Role

LAST_COUNTY_ADMIN = "LastCountyAdmin"
BEYOND_SCOPE = "an admin of some townships manages staff only within them"


def create_staff(
    session: Session, actor: Principal, body: schemas.StaffCreate, *, ip: str | None, now: datetime
) -> schemas.StaffOut:
    if not _within(actor, _scope(body.townships)):
        raise Forbidden(BEYOND_SCOPE)
    return staff_out(add_account(session, actor, body, ip=ip), locked=False)


def add_account(
    session: Session, actor: Principal | str, body: schemas.StaffCreate, *, ip: str | None
) -> StaffAccount:
    """Create the account and its audit entry (``actor``: an admin, or the CLI, the bootstrap)."""
    account = accounts.create_staff(
        session,
        username=body.username,
        password=body.password,
        role=body.role,
        townships=_scope(body.townships),
        known_townships=_known_townships(session),
    )
    audit.record(
        session,
        actor,
        "staff.create",
        _target(account),
        ip=ip,
        role=account.role,
        townships=account.townships,
    )
    return account


def list_staff(
    session: Session, actor: Principal, *, now: datetime, limit: int, offset: int
) -> schemas.Page[schemas.StaffOut]:
    # A county has tens of staff: filtering by scope here is simpler than in portable SQL.
    visible = [
        account
        for account in session.scalars(select(StaffAccount).order_by(StaffAccount.id))
        if _within(actor, account.townships)
    ]
    page = visible[offset : offset + limit]
    locked = accounts.locked_out(session, [a.id for a in page], now=now)
    return schemas.Page[schemas.StaffOut](
        items=[staff_out(a, locked=a.id in locked) for a in page],
        total=len(visible),
        limit=limit,
        offset=offset,
    )


def update_staff(
    session: Session,
    actor: Principal,
    staff_id: int,
    body: schemas.StaffPatch,
    *,
    ip: str | None,
    now: datetime,
) -> schemas.StaffOut:
    account = session.get(StaffAccount, staff_id, with_for_update=True)
    if account is None or not _within(actor, account.townships):
        raise NotFound("staff account", staff_id)
    was_county_admin = _county_admin(account)
    changes: dict[str, Any] = {}
    if body.active is not None and body.active != account.active:
        account.active = changes["active"] = body.active
    if "townships" in body.model_fields_set:
        townships = _scope(body.townships)
        if not _within(actor, townships):
            raise Forbidden(BEYOND_SCOPE)
        unknown = sorted(set(townships or ()) - set(_known_townships(session)))
        if unknown:
            raise Invalid(accounts.UNKNOWN_TOWNSHIP, f"unknown townships {unknown}")
        if townships != account.townships:
            account.townships = changes["townships"] = townships
    if body.password is not None:
        accounts.check_password(body.password)
        account.password_hash = hash_password(body.password)
        changes["password_reset"] = True
    if body.unlock:
        accounts.unlock(session, account.id)
        changes["unlocked"] = True
    if was_county_admin and not _county_admin(account):
        _keep_a_county_admin(session, account)
    if not account.active or "password_reset" in changes:
        sign_in.revoke_subject(session, _target(account), now=now)
    audit.record(session, actor, "staff.update", _target(account), ip=ip, **changes)
    return staff_out(account, locked=bool(accounts.locked_out(session, [account.id], now=now)))


def staff_out(account: StaffAccount, *, locked: bool) -> schemas.StaffOut:
    return schemas.StaffOut(
        id=account.id,
        username=account.username,
        role=Role(account.role),
        townships=account.townships,
        active=account.active,
        locked=locked,
        created_at=account.created_at,
    )


def _county_admin(account: StaffAccount) -> bool:
    return account.role == Role.ADMIN.value and account.active and account.townships is None


def _keep_a_county_admin(session: Session, changed: StaffAccount) -> None:
    """Refuse the change that leaves the county without an active county-wide admin."""
    # Every admin row locked (in id order): two admins disabling each other at once
    # cannot both succeed.
    admins = session.scalars(
        select(StaffAccount)
        .where(StaffAccount.role == Role.ADMIN.value, StaffAccount.id != changed.id)
        .order_by(StaffAccount.id)
        .with_for_update()
    )
    if not any(_county_admin(account) for account in admins):
        raise Conflict(
            LAST_COUNTY_ADMIN,
            f"{changed.username} is the last active county-wide admin; name another first",
        )


def _scope(townships: Sequence[str] | None) -> list[str] | None:
    """A list of townships, or ``None`` (an empty list too) for the whole county."""
    return sorted(set(townships)) if townships else None


def _within(actor: Principal, townships: Sequence[str] | None) -> bool:
    """Whether an account of ``townships`` lies within what ``actor`` administers."""
    if actor.townships is None:
        return True
    return townships is not None and set(townships) <= set(actor.townships)


def _known_townships(session: Session) -> list[str]:
    return list(session.scalars(select(Township.name)))


def _target(account: StaffAccount) -> str:
    return f"staff:{account.id}"
