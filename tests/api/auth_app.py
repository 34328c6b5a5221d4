"""The real app for the sign-in and staff tests: PostgreSQL, the Twilio simulator, callers
from addresses of their choosing (the per-address limits), no Temporal (these routes never
reach a workflow), and test data: fresh numbers, staff accounts.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.orm import Session

from api import schemas
from api.database import Database
from api.main import create_app
from api.stores import staff
from core.phones import e164
from core.settings import Settings
from core.vocab import Role
from tests.signin import STAFF_PASSWORD


def app_on(db: Database, settings: Settings, **update: Any) -> FastAPI:
    """The app with ``settings`` (changed by ``update``) on ``db``; its lifespan (Temporal,
    bootstrap) is not run."""
    if update:
        settings = settings.model_copy(update=update)
    app = create_app(settings)
    app.state.settings = settings
    app.state.database = db
    return app


def caller(app: FastAPI, ip: str | None = None) -> httpx.AsyncClient:
    """A client calling from ``ip`` (a fresh address by default)."""
    transport = httpx.ASGITransport(app=app, client=(ip or new_ip(), 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30)


def new_ip() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def new_phone() -> tuple[str, str]:
    """A fresh mobile number as a resident types it, and in E.164."""
    typed = f"139{uuid.uuid4().int % 10**8:08d}"
    number = e164(typed, country_code="86")
    assert number is not None
    return typed, number


def bearer(tokens: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def login(
    api: httpx.AsyncClient, username: str, password: str = STAFF_PASSWORD
) -> httpx.Response:
    return await api.post("/api/auth/login", json={"username": username, "password": password})


async def refresh(api: httpx.AsyncClient, tokens: dict[str, Any]) -> httpx.Response:
    return await api.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})


async def add_staff(
    db: Database,
    *,
    role: Role = Role.ADMIN,
    townships: Sequence[str] | None = None,
    password: str = STAFF_PASSWORD,
) -> tuple[int, str]:
    """A staff account (id, username), as the CLI would create it."""
    username = f"{role.value}-{uuid.uuid4().hex[:8]}"

    def create(session: Session) -> int:
        body = schemas.StaffCreate(
            username=username, password=password, role=role, townships=list(townships or ())
        )
        return staff.add_account(session, "test", body, ip=None).id

    return await db.run(create), username
