"""Tokens for tests, minted the way sign-in mints them (same principal, same signing key).

The sign-in routes themselves are tested end to end in ``tests/api/test_sign_in.py``; every
other test signs in through these so it can act as any resident, volunteer or staff member
without sending SMS codes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.database import Database
from api.stores import accounts
from core.phones import e164
from core.security import Principal, issue_access_token, issue_order_link
from core.settings import Settings
from core.vocab import Role

Headers = dict[str, str]
STAFF_PASSWORD = "correct horse battery staple"


def bearer(principal: Principal, settings: Settings) -> Headers:
    token = issue_access_token(
        principal,
        secret=settings.signing_secret,
        ttl=settings.access_token_ttl,
        now=datetime.now(UTC),
    )
    return {"Authorization": f"Bearer {token}"}


async def resident(db: Database, settings: Settings, phone: str = "13800138000") -> Headers:
    """A resident signed in with this phone (a volunteer too, if the phone is one's)."""
    number = e164(phone, country_code=settings.default_country_code)
    assert number is not None

    def principal(session: Session) -> Principal:
        return accounts.resident_principal(session, accounts.resident_by_phone(session, number))

    return bearer(await db.run(principal), settings)


async def staff(
    db: Database,
    settings: Settings,
    role: Role = Role.ADMIN,
    townships: Sequence[str] | None = None,
) -> Headers:
    """A new staff account of ``role`` (an admin of the county unless ``townships``)."""

    def create(session: Session) -> Principal:
        account = accounts.create_staff(
            session,
            username=f"{role.value}-{uuid.uuid4().hex[:8]}",
            password=STAFF_PASSWORD,
            role=role,
            townships=townships,
            known_townships=list(townships or ()),
        )
        return accounts.staff_principal(account)

    return bearer(await db.run(create), settings)


def order_link(public_id: str, settings: Settings) -> Headers:
    token = issue_order_link(
        public_id,
        secret=settings.signing_secret,
        ttl=settings.order_link_ttl,
        now=datetime.now(UTC),
    )
    return {"Authorization": f"Bearer {token}"}
