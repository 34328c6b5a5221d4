"""The first admin: created at start-up from ``BOOTSTRAP_ADMIN_*`` when the county has none.

Idempotent and safe when API replicas start together: on PostgreSQL the check and the insert
run under one transaction-scoped advisory lock, so exactly one replica creates the account
and the others find it; elsewhere (SQLite, one process) the unique username settles a race.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api import schemas
from api.database import Database
from api.stores import staff
from api.stores.errors import Conflict
from core.models import StaffAccount
from core.settings import Settings
from core.vocab import Role

log = logging.getLogger(__name__)

# pg_advisory_xact_lock's key for "creating the first admin" (any constant of our own).
_LOCK_KEY = 0x4F52_4445_5253  # "ORDERS"
BOOTSTRAP = "bootstrap"


def ensure_admin(session: Session, username: str, password: str) -> int | None:
    """Create the county admin ``username`` unless an admin account exists; its id, or None."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    if session.scalar(
        select(StaffAccount.id).where(StaffAccount.role == Role.ADMIN.value).limit(1)
    ):
        return None
    try:
        body = schemas.StaffCreate(username=username, password=password, role=Role.ADMIN)
        account = staff.add_account(session, BOOTSTRAP, body, ip=None)
    except Conflict:  # the name was taken meanwhile (SQLite) or belongs to an agent
        return None
    return account.id


async def bootstrap_admin(db: Database, settings: Settings) -> int | None:
    """What the API does at start-up with ``BOOTSTRAP_ADMIN_USERNAME``/``_PASSWORD``."""
    username = settings.bootstrap_admin_username
    password = settings.bootstrap_admin_password
    if username is None and password is None:
        return None
    if username is None or password is None:
        log.warning("set BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD together")
        return None
    created = await db.run(ensure_admin, username, password.get_secret_value())
    if created is not None:
        log.info("created the first county admin %r (staff:%d)", username, created)
    return created
