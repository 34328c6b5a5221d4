"""Admins manage staff accounts; county admins read the audit log (which nobody can edit)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request, status
from pydantic import BaseModel, Field

from api import schemas
from api.auth import AdminActor, client_ip
from api.deps import DatabaseDep, SettingsDep
from api.params import Limit, Offset
from api.responses import refusals
from api.stores import audit, staff
from api.stores.errors import Forbidden
from core.db import utcnow

STAFF_ERRORS = refusals(
    {
        401: "Not signed in",
        403: "Not an admin, or beyond the admin's townships",
        404: "No such account (or not within the admin's townships)",
        409: "The username is taken, or the last county admin would go",
        422: "A weak password, an unknown township or role",
    }
)

router = APIRouter(prefix="/api", tags=["staff"], responses=STAFF_ERRORS)

StaffId = Annotated[int, Path(gt=0, description="The staff account's id")]


@router.post("/staff", status_code=status.HTTP_201_CREATED, response_model=schemas.StaffOut)
async def create_staff(
    body: schemas.StaffCreate, admin: AdminActor, request: Request, db: DatabaseDep
) -> schemas.StaffOut:
    """Add an admin or call-center agent (no townships: the whole county)."""
    return await db.run(staff.create_staff, admin, body, ip=client_ip(request), now=utcnow())


@router.get("/staff", response_model=schemas.Page[schemas.StaffOut])
async def list_staff(
    admin: AdminActor, db: DatabaseDep, limit: Limit = 50, offset: Offset = 0
) -> schemas.Page[schemas.StaffOut]:
    """Staff accounts (an admin of some townships sees those within them)."""
    return await db.run(staff.list_staff, admin, now=utcnow(), limit=limit, offset=offset)


@router.patch("/staff/{staff_id}", response_model=schemas.StaffOut)
async def update_staff(
    staff_id: StaffId,
    body: schemas.StaffPatch,
    admin: AdminActor,
    request: Request,
    db: DatabaseDep,
) -> schemas.StaffOut:
    """Disable or enable, reset the password, change the townships (``[]``: the county),
    unlock. Disabling or a new password signs the account out (its refresh tokens)."""
    return await db.run(
        staff.update_staff, admin, staff_id, body, ip=client_ip(request), now=utcnow()
    )


class AuditFilters(BaseModel):
    """Which entries of the audit log, newest first."""

    actor: str | None = Field(default=None, max_length=40, description="e.g. staff:3")
    action: str | None = Field(default=None, max_length=40, description="e.g. staff.create")
    target: str | None = Field(default=None, max_length=80, description="e.g. staff:5")
    since: datetime | None = Field(
        default=None, description="ISO 8601; without an offset, the county's time"
    )
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)


@router.get("/audit", response_model=schemas.Page[schemas.AuditOut])
async def list_audit(
    admin: AdminActor,
    db: DatabaseDep,
    settings: SettingsDep,
    filters: Annotated[AuditFilters, Query()],
) -> schemas.Page[schemas.AuditOut]:
    """The audit log, newest first (county-wide admins only). Nobody can change it."""
    if not admin.county_wide:
        raise Forbidden("the audit log is for county-wide admins")
    if filters.since is not None and filters.since.tzinfo is None:
        county = ZoneInfo(settings.county_timezone)
        filters = filters.model_copy(update={"since": filters.since.replace(tzinfo=county)})
    return await db.run(audit.list_audit, **filters.model_dump())
