"""Volunteers: accept, decline and complete what was dispatched to them (接单).

Who acts is the signed-in volunteer; an order not theirs to see reads as 404, one they see
but do not hold is refused by the workflow (409 ``NotAssignedVolunteer``).
"""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas
from api.auth import Actor, LeaderActor, VisibleOrder, VolunteerActor
from api.deps import CommandsDep, DatabaseDep
from api.params import VolunteerId
from api.stores import orders, units, volunteers
from api.stores.errors import Forbidden
from workflows.order import (
    AcceptInput,
    AssignInput,
    CompleteInput,
    DeclineInput,
    OrderWorkflow,
)

router = APIRouter(prefix="/api", tags=["volunteer"], responses=schemas.ERRORS)


@router.post("/orders/{order_id}/accept", response_model=schemas.OrderOut)
async def accept_order(
    actor: VolunteerActor, order: VisibleOrder, commands: CommandsDep
) -> schemas.OrderOut:
    """Accept an order dispatched or offered to you. Of two racing accepts exactly one wins."""
    me = volunteers.me(actor)
    return await commands.run(
        order, OrderWorkflow.accept, lambda _note: AcceptInput(volunteer_id=me), volunteer_id=me
    )


@router.post("/orders/{order_id}/decline", response_model=schemas.OrderOut)
async def decline_order(
    actor: VolunteerActor, order: VisibleOrder, body: schemas.DeclineBody, commands: CommandsDep
) -> schemas.OrderOut:
    """Decline an order dispatched to you; it returns to pending for another volunteer."""
    me = volunteers.me(actor)
    return await commands.run(
        order,
        OrderWorkflow.decline,
        lambda note_id: DeclineInput(volunteer_id=me, note_id=note_id),
        note=("decline_reason", body.reason),
        volunteer_id=me,
    )


@router.post("/orders/{order_id}/complete", response_model=schemas.OrderOut)
async def complete_order(
    actor: VolunteerActor, order: VisibleOrder, body: schemas.CompleteBody, commands: CommandsDep
) -> schemas.OrderOut:
    """Report the work done, with a summary and the hours spent."""
    me = volunteers.me(actor)
    return await commands.run(
        order,
        OrderWorkflow.complete,
        lambda note_id: CompleteInput(volunteer_id=me, hours=body.hours, note_id=note_id),
        note=("completion_summary", body.summary),
        volunteer_id=me,
    )


@router.get("/volunteers/{volunteer_id}/offers", response_model=list[schemas.OrderSummary])
async def my_offers(
    volunteer_id: VolunteerId, actor: Actor, db: DatabaseDep
) -> list[schemas.OrderSummary]:
    """What waits for your answer: orders dispatched or offered to you, or to a unit you lead.

    The volunteer themself, or an admin of their township.
    """
    await db.run(volunteers.in_reach, volunteer_id, actor)
    return await db.run(orders.offers_for, volunteer_id)


@router.post("/orders/{order_id}/assign", response_model=schemas.OrderOut)
async def assign_order(
    actor: LeaderActor,
    order: VisibleOrder,
    body: schemas.AssignBody,
    db: DatabaseDep,
    commands: CommandsDep,
) -> schemas.OrderOut:
    """You lead the team or station the order was dispatched to: hand it to a member."""
    unit_id = await db.run(orders.dispatched_unit, order.id)
    if unit_id not in actor.led_units:
        raise Forbidden("you do not lead the unit this order was dispatched to")
    await db.run(units.require_member, unit_id, body.volunteer_id)
    leader = volunteers.me(actor)
    return await commands.run(
        order,
        OrderWorkflow.assign,
        lambda _note: AssignInput(leader_id=leader, volunteer_id=body.volunteer_id),
        volunteer_id=leader,
    )
