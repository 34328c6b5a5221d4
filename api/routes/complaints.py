"""Center admins: complaints the follow-ups recorded, until each is resolved."""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas
from api.auth import AdminActor
from api.complaint_sms import text_resolution
from api.deps import DatabaseDep, SettingsDep
from api.params import ComplaintId, Limit, Offset, TownshipFilter
from api.stores import complaints
from core.vocab import ComplaintStatus

router = APIRouter(prefix="/api", tags=["admin"], responses=schemas.ERRORS)


@router.get("/complaints", response_model=schemas.Page[schemas.ComplaintOut])
async def list_complaints(
    actor: AdminActor,
    db: DatabaseDep,
    status: ComplaintStatus | None = None,
    township: TownshipFilter = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.ComplaintOut]:
    """Complaints with their order, item, place and what the resident said.

    ``status=open`` is the to-do list, oldest first; otherwise newest first.
    """
    return await db.run(
        complaints.list_complaints,
        viewer=actor,
        status=status,
        township=township,
        limit=limit,
        offset=offset,
    )


@router.get("/complaints/{complaint_id}", response_model=schemas.ComplaintOut)
async def get_complaint(
    complaint_id: ComplaintId, actor: AdminActor, db: DatabaseDep
) -> schemas.ComplaintOut:
    return await db.run(complaints.complaint, complaint_id, actor)


@router.post("/complaints/{complaint_id}/resolve", response_model=schemas.ComplaintOut)
async def resolve_complaint(
    complaint_id: ComplaintId,
    actor: AdminActor,
    body: schemas.ResolveBody,
    db: DatabaseDep,
    settings: SettingsDep,
) -> schemas.ComplaintOut:
    """Mark the complaint resolved, with what was done (texted to the resident, once);
    409 if it already is."""
    resolved = await db.run(complaints.resolve_complaint, complaint_id, body, actor)
    await text_resolution(settings, db, complaint_id)
    return resolved
