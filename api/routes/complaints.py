"""Center admins: complaints the follow-ups recorded, until each is resolved."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api import queries, schemas
from api.deps import DatabaseDep
from api.routes.admin import Limit, Offset
from core.vocab import ComplaintStatus

router = APIRouter(prefix="/api", tags=["admin"], responses=schemas.ERRORS)

ComplaintId = Annotated[int, Path(gt=0)]


@router.get("/complaints", response_model=schemas.Page[schemas.ComplaintOut])
async def list_complaints(
    db: DatabaseDep,
    status: ComplaintStatus | None = None,
    township: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.ComplaintOut]:
    """Complaints with their order, item, place and what the resident said.

    ``status=open`` is the to-do list, oldest first; otherwise newest first.
    """
    return await db.run(
        queries.list_complaints, status=status, township=township, limit=limit, offset=offset
    )


@router.get("/complaints/{complaint_id}", response_model=schemas.ComplaintOut)
async def get_complaint(complaint_id: ComplaintId, db: DatabaseDep) -> schemas.ComplaintOut:
    return await db.run(queries.complaint, complaint_id)


@router.post("/complaints/{complaint_id}/resolve", response_model=schemas.ComplaintOut)
async def resolve_complaint(
    complaint_id: ComplaintId, body: schemas.ResolveBody, db: DatabaseDep
) -> schemas.ComplaintOut:
    """Mark the complaint resolved, with what was done; 409 if it already is."""
    return await db.run(queries.resolve_complaint, complaint_id, body)
