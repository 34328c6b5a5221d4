"""Call-center staff: the follow-up (回访) queue and its results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api import orders, queries, schemas
from api.deps import DatabaseDep, SettingsDep, TemporalDep
from api.routes.admin import Limit, Offset
from core.vocab import FollowUpStatus
from workflows.order import FollowUpResultInput, OrderWorkflow

router = APIRouter(prefix="/api", tags=["call-center"], responses=schemas.ERRORS)

FollowUpId = Annotated[int, Path(gt=0)]


@router.get("/follow-ups", response_model=schemas.Page[schemas.FollowUpTask])
async def list_follow_ups(
    db: DatabaseDep,
    status: FollowUpStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.FollowUpTask]:
    """Follow-up tasks, oldest first; ``status=open`` is the work queue."""
    return await db.run(queries.list_follow_ups, status=status, limit=limit, offset=offset)


@router.get("/follow-ups/{follow_up_id}", response_model=schemas.FollowUpTask)
async def get_follow_up(follow_up_id: FollowUpId, db: DatabaseDep) -> schemas.FollowUpTask:
    return await db.run(queries.follow_up_task, follow_up_id)


@router.post("/follow-ups/{follow_up_id}/result", response_model=schemas.OrderOut)
async def record_follow_up(
    follow_up_id: FollowUpId,
    body: schemas.FollowUpResultBody,
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderOut:
    """Record how the resident was reached and what they said; this closes the order."""
    task = await db.run(queries.follow_up_task, follow_up_id)
    await orders.send_update(
        client,
        db,
        settings,
        task.order_id,
        OrderWorkflow.record_follow_up,
        lambda note_id: FollowUpResultInput(
            follow_up_id=follow_up_id,
            method=body.method,
            outcome=body.outcome,
            rating=body.rating,
            note_id=note_id,
            agent_id=body.agent_id,
        ),
        note=("follow_up_notes", body.notes),
    )
    return await orders.detail(db, settings, task.order_id)
