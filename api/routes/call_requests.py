"""The call-center's call-back and intake tasks, left by the center's keypad menu.

A caller who pressed 0 (``callback``), or said their address and need after the tone
(``intake``), waits here for an agent to call them back; an intake becomes an order the agent
takes for them at ``/call-center/orders/new`` and confirms on that call. As with follow-ups,
an agent claims a task before calling (a lease of ``CLAIM_LEASE``): only the holder sees the
number in full, and each claim is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api import schemas
from api.auth import AgentActor, StaffActor, client_ip
from api.deps import DatabaseDep, SettingsDep
from api.params import CallRequestId
from api.stores import agents, call_requests
from core.vocab import CallRequestStatus

router = APIRouter(prefix="/api", tags=["call-center"], responses=schemas.ERRORS)


@router.get("/call-requests", response_model=list[schemas.CallRequestOut])
async def list_call_requests(
    actor: StaffActor,
    db: DatabaseDep,
    status: CallRequestStatus = CallRequestStatus.OPEN,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[schemas.CallRequestOut]:
    """Callers waiting for a call back, oldest first (numbers masked unless you hold one)."""
    me = actor.staff_id or 0
    return await db.run(call_requests.queue, me, status=status.value, limit=limit)


@router.post("/call-requests/{request_id}/claim", response_model=schemas.CallRequestOut)
async def claim_call_request(
    request_id: CallRequestId,
    actor: AgentActor,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
) -> schemas.CallRequestOut:
    """Take the task for ``CLAIM_LEASE`` (again: extend it); 409 ``CallRequestClaimed`` while
    another agent holds it, 409 ``CallRequestDone`` once done."""
    return await db.run(
        call_requests.claim,
        request_id,
        agents.me(actor),
        lease=settings.claim_lease,
        viewer=actor,
        ip=client_ip(request),
    )


@router.post("/call-requests/{request_id}/release", response_model=schemas.CallRequestOut)
async def release_call_request(
    request_id: CallRequestId, actor: AgentActor, db: DatabaseDep
) -> schemas.CallRequestOut:
    """Give the task back to the queue (409 ``CallRequestClaimed`` if you do not hold it)."""
    return await db.run(call_requests.release, request_id, agents.me(actor))


@router.post("/call-requests/{request_id}/done", response_model=schemas.CallRequestOut)
async def finish_call_request(
    request_id: CallRequestId, actor: AgentActor, body: schemas.CallRequestDone, db: DatabaseDep
) -> schemas.CallRequestOut:
    """Close the task: ``ordered`` names the order taken for the caller (it must be for the
    number that called: 422 ``NotTheCallersOrder``), or why none was."""
    done, _recording = await db.run(
        call_requests.finish,
        request_id,
        agents.me(actor),
        outcome=body.outcome,
        order_public_id=body.order_id,
    )
    return done
