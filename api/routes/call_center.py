"""Call-center staff: the follow-up (回访) queue, claims on its tasks, and their results.

Automated calls settle what they can; what they cannot (a dissatisfied resident, a
request for a person, nobody answering) reaches the queue as an ``open`` task. An agent
claims a task before calling (a lease of ``CLAIM_LEASE``, renewed by claiming again) so
two agents never call the same resident; an expired lease returns the task to the queue.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api import schemas
from api.auth import AgentActor, StaffActor, client_ip
from api.deps import CommandsDep, DatabaseDep, SettingsDep
from api.params import FollowUpId, Limit, Offset, TownshipFilter
from api.stores import agents, callers, follow_ups
from api.stores.access import resolve
from core.vocab import FollowUpStatus
from workflows.order import FollowUpResultInput, OrderWorkflow

router = APIRouter(prefix="/api", tags=["call-center"], responses=schemas.ERRORS)


@router.post("/callers/lookup", response_model=schemas.CallerOut)
async def look_up_caller(
    body: schemas.CallerLookup,
    actor: StaffActor,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
) -> schemas.CallerOut:
    """Who is calling: the resident's earlier orders in your townships (newest first) and the
    name, place and address of the latest, to reuse when ordering for them (代居民下单).

    The number goes in the body, never the address, so it stays out of access logs; each
    lookup is audited.
    """
    return await db.run(
        callers.look_up,
        body.phone,
        viewer=actor,
        ip=client_ip(request),
        country_code=settings.default_country_code,
    )


@router.get("/follow-ups", response_model=schemas.Page[schemas.FollowUpTask])
async def list_follow_ups(
    actor: StaffActor,
    db: DatabaseDep,
    status: FollowUpStatus | None = None,
    township: TownshipFilter = None,
    mine: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.FollowUpTask]:
    """Follow-up tasks in your townships; ``status=open`` is the work queue, most urgent first.

    Open tasks come by priority (0 dissatisfied, 1 staff requested, 2 calls exhausted or
    impossible, 3 no automated call), then longest waiting; done tasks newest first. Each
    shows its live claim, whether you can claim it now and whether you hold it (``mine``).
    Numbers are masked here: the holder reads the full one in the task. ``mine=true``: the
    tasks you settled yourself (``status=done`` for your handled list, newest first).
    """
    return await db.run(
        follow_ups.list_follow_ups,
        viewer=actor,
        status=status,
        township=township,
        mine=mine,
        limit=limit,
        offset=offset,
    )


@router.get("/follow-ups/{follow_up_id}", response_model=schemas.FollowUpDetail)
async def get_follow_up(
    follow_up_id: FollowUpId, actor: StaffActor, request: Request, db: DatabaseDep
) -> schemas.FollowUpDetail:
    """One task with the order and every automated call so far.

    The resident's full number and address only for the agent holding the task's claim
    (each such read is audited); masked for everyone else.
    """
    return await db.run(
        follow_ups.follow_up_detail, follow_up_id, viewer=actor, ip=client_ip(request)
    )


@router.post("/follow-ups/{follow_up_id}/claim", response_model=schemas.FollowUpTask)
async def claim_follow_up(
    follow_up_id: FollowUpId, actor: AgentActor, db: DatabaseDep, settings: SettingsDep
) -> schemas.FollowUpTask:
    """Claim an open task for ``CLAIM_LEASE``; claiming it again extends your lease.

    409 ``ClaimedByOther`` while another agent's lease runs, 409 ``FollowUpNotOpen`` when the
    task is still in its automated calls or done.
    """
    return await db.run(
        follow_ups.claim_follow_up,
        follow_up_id,
        agents.me(actor),
        lease=settings.claim_lease,
        viewer=actor,
    )


@router.post("/follow-ups/{follow_up_id}/release", response_model=schemas.FollowUpTask)
async def release_follow_up(
    follow_up_id: FollowUpId, actor: AgentActor, db: DatabaseDep
) -> schemas.FollowUpTask:
    """Give a task you claimed back to the queue (409 ``NotClaimHolder`` if you do not hold it)."""
    return await db.run(follow_ups.release_follow_up, follow_up_id, agents.me(actor), viewer=actor)


@router.post("/follow-ups/{follow_up_id}/result", response_model=schemas.OrderOut)
async def record_follow_up(
    follow_up_id: FollowUpId,
    actor: AgentActor,
    body: schemas.FollowUpResultBody,
    db: DatabaseDep,
    settings: SettingsDep,
    commands: CommandsDep,
) -> schemas.OrderOut:
    """Record how the resident was reached and what they said; this closes the order.

    Refused (409 ``ClaimedByOther``, nothing sent to the order) while another agent holds
    the task. You take the claim first, so nobody else can claim the task while its result
    is being recorded.
    """
    agent = agents.me(actor)
    public_id = await db.run(
        follow_ups.hold_for_result,
        follow_up_id,
        agent_id=agent,
        lease=settings.claim_lease,
        viewer=actor,
    )
    order = await db.run(resolve, actor, public_id)
    return await commands.run(
        order,
        OrderWorkflow.record_follow_up,
        lambda note_id: FollowUpResultInput(
            follow_up_id=follow_up_id,
            method=body.method,
            outcome=body.outcome,
            rating=body.rating,
            note_id=note_id,
            agent_id=agent,
        ),
        note=("follow_up_notes", body.notes),
    )
