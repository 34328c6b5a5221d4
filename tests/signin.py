"""Tokens for tests, minted the way sign-in mints them (same principal, same signing key).

The sign-in routes themselves are tested end to end in ``tests/api/test_sign_in.py``; every
other test signs in through these so it can act as any resident, volunteer or staff member
without sending SMS codes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.database import Database
from api.stores import accounts
from core.models import Volunteer
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


async def staff_username(db: Database, role: Role, townships: Sequence[str] | None = None) -> str:
    """A new staff account to sign in with on a page (password ``STAFF_PASSWORD``)."""
    username = f"{role.value}-{uuid.uuid4().hex[:8]}"
    await db.run(
        lambda session: accounts.create_staff(
            session,
            username=username,
            password=STAFF_PASSWORD,
            role=role,
            townships=townships,
            known_townships=list(townships or ()),
        )
    )
    return username


def order_link(public_id: str, settings: Settings) -> Headers:
    token = issue_order_link(
        public_id,
        secret=settings.signing_secret,
        ttl=settings.order_link_ttl,
        now=datetime.now(UTC),
    )
    return {"Authorization": f"Bearer {token}"}


async def volunteer(db: Database, settings: Settings, volunteer_id: int) -> Headers:
    """The volunteer with this id, signed in with their phone (as the SMS code sign-in does)."""

    def phone(session: Session) -> str:
        number = session.scalar(select(Volunteer.phone).where(Volunteer.id == volunteer_id))
        assert number is not None, f"no volunteer {volunteer_id}"
        return number

    return await resident(db, settings, await db.run(phone))


async def refused_within(
    within: timedelta, call: Callable[[], Awaitable[httpx.Response]]
) -> httpx.Response:
    """The first answer of ``call`` that is not a success, failing the test if that takes
    longer than ``within`` (how soon the README says a revoked sign-in stops working)."""
    start = time.monotonic()
    while (answer := await call()).is_success:
        assert time.monotonic() - start < within.total_seconds() + 1, f"still {answer.text}"
        await asyncio.sleep(0.25)
    return answer


class Caller:
    """An HTTP client acting as one person: every request carries their token."""

    def __init__(self, client: httpx.AsyncClient, headers: Headers) -> None:
        self.client = client
        self.headers = headers

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", url, **kwargs)


class People:
    """The callers a test drives the API as: staff, residents, volunteers, nobody."""

    def __init__(self, client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
        self.client = client
        self.db = db
        self.settings = settings
        self.anonymous = Caller(client, {})
        self._admin: Caller | None = None
        self._agent: Caller | None = None

    async def admin(self) -> Caller:
        """A county admin (the same one for the whole test)."""
        if self._admin is None:
            self._admin = Caller(self.client, await staff(self.db, self.settings, Role.ADMIN))
        return self._admin

    async def agent(self) -> Caller:
        """A call-center agent (the same one for the whole test)."""
        if self._agent is None:
            self._agent = Caller(self.client, await staff(self.db, self.settings, Role.AGENT))
        return self._agent

    async def another_agent(self) -> Caller:
        return Caller(self.client, await staff(self.db, self.settings, Role.AGENT))

    async def township_admin(self, *townships: str) -> Caller:
        return Caller(self.client, await staff(self.db, self.settings, Role.ADMIN, townships))

    async def resident(self, phone: str = "13800138000") -> Caller:
        return Caller(self.client, await resident(self.db, self.settings, phone))

    async def volunteer(self, volunteer_id: int) -> Caller:
        return Caller(self.client, await volunteer(self.db, self.settings, volunteer_id))
