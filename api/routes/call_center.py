"""Call-center staff: the follow-up (回访) queue, claims on its tasks, and their results.

Automated calls settle what they can; what they cannot (a dissatisfied resident, a
request for a person, nobody answering) reaches the queue as an ``open`` task. An agent
claims a task before calling (a lease of ``CLAIM_LEASE``, renewed by claiming again) so
two agents never call the same resident; an expired lease returns the task to the queue.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import schemas
from api.deps import CommandsDep, DatabaseDep, SettingsDep
from api.params import FollowUpId, Limit, Offset, TownshipFilter
from api.stores import follow_ups
from core.vocab import FollowUpStatus
from workflows.order import FollowUpResultInput, OrderWorkflow

router = APIRouter(prefix="/api", tags=["call-center"], responses=schemas.ERRORS)

AgentQuery = Annotated[
    int | None, Query(gt=0, description="Mark the tasks this agent holds (`mine`).")
]


@router.get("/follow-ups", response_model=schemas.Page[schemas.FollowUpTask])
async def list_follow_ups(
    db: DatabaseDep,
    status: FollowUpStatus | None = None,
    township: TownshipFilter = None,
    agent_id: AgentQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.FollowUpTask]:
    """Follow-up tasks; ``status=open`` is the work queue, most urgent first.

    Open tasks come by priority (0 dissatisfied, 1 staff requested, 2 calls exhausted or
    impossible, 3 no automated call), then longest waiting; done tasks newest first. Each
    shows its live claim, whether it can be claimed now and, given ``agent_id``, whether
    that agent holds it.
    """
    return await db.run(
        follow_ups.list_follow_ups,
        status=status,
        township=township,
        agent_id=agent_id,
        limit=limit,
        offset=offset,
    )


@router.get("/follow-ups/{follow_up_id}", response_model=schemas.FollowUpDetail)
async def get_follow_up(
    follow_up_id: FollowUpId, db: DatabaseDep, agent_id: AgentQuery = None
) -> schemas.FollowUpDetail:
    """One task with the order, the resident's contact and every automated call so far.

    The resident's number is shown in full while the task is calling or open, masked after.
    """
    return await db.run(follow_ups.follow_up_detail, follow_up_id, agent_id=agent_id)


@router.post("/follow-ups/{follow_up_id}/claim", response_model=schemas.FollowUpTask)
async def claim_follow_up(
    follow_up_id: FollowUpId, body: schemas.AgentBody, db: DatabaseDep, settings: SettingsDep
) -> schemas.FollowUpTask:
    """Claim an open task for ``CLAIM_LEASE``; the holder claiming again extends the lease.

    409 ``ClaimedByOther`` while another agent's lease runs, 409 ``FollowUpNotOpen`` when the
    task is still in its automated calls or done.
    """
    return await db.run(
        follow_ups.claim_follow_up, follow_up_id, body.agent_id, lease=settings.claim_lease
    )


@router.post("/follow-ups/{follow_up_id}/release", response_model=schemas.FollowUpTask)
async def release_follow_up(
    follow_up_id: FollowUpId, body: schemas.AgentBody, db: DatabaseDep
) -> schemas.FollowUpTask:
    """Give a claimed task back to the queue; only its holder may (409 ``NotClaimHolder``)."""
    return await db.run(follow_ups.release_follow_up, follow_up_id, body.agent_id)


@router.post("/follow-ups/{follow_up_id}/result", response_model=schemas.OrderOut)
async def record_follow_up(
    follow_up_id: FollowUpId,
    body: schemas.FollowUpResultBody,
    db: DatabaseDep,
    settings: SettingsDep,
    commands: CommandsDep,
) -> schemas.OrderOut:
    """Record how the resident was reached and what they said; this closes the order.

    Refused (409 ``ClaimedByOther``, nothing sent to the order) while another agent holds
    the task. The agent named in the body takes the claim first, so nobody else can claim
    the task while its result is being recorded; an unclaimed task may be recorded by any
    agent.
    """
    order_id = await db.run(
        follow_ups.hold_for_result, follow_up_id, agent_id=body.agent_id, lease=settings.claim_lease
    )
    return await commands.run(
        order_id,
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
