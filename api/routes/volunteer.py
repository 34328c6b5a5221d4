"""Volunteers: accept, decline and complete what was dispatched to them (接单)."""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas
from api.deps import CommandsDep, DatabaseDep
from api.params import OrderId, VolunteerId
from api.stores import orders, units
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
    order_id: OrderId, body: schemas.AcceptBody, commands: CommandsDep
) -> schemas.OrderOut:
    """Accept an order dispatched to you. Of two racing accepts exactly one wins."""
    return await commands.run(
        order_id,
        OrderWorkflow.accept,
        lambda _note: AcceptInput(volunteer_id=body.volunteer_id),
        volunteer_id=body.volunteer_id,
    )


@router.post("/orders/{order_id}/decline", response_model=schemas.OrderOut)
async def decline_order(
    order_id: OrderId, body: schemas.DeclineBody, commands: CommandsDep
) -> schemas.OrderOut:
    """Decline an order dispatched to you; it returns to pending for another volunteer."""
    return await commands.run(
        order_id,
        OrderWorkflow.decline,
        lambda note_id: DeclineInput(volunteer_id=body.volunteer_id, note_id=note_id),
        note=("decline_reason", body.reason),
        volunteer_id=body.volunteer_id,
    )


@router.post("/orders/{order_id}/complete", response_model=schemas.OrderOut)
async def complete_order(
    order_id: OrderId, body: schemas.CompleteBody, commands: CommandsDep
) -> schemas.OrderOut:
    """Report the work done, with a summary and the hours spent."""
    return await commands.run(
        order_id,
        OrderWorkflow.complete,
        lambda note_id: CompleteInput(
            volunteer_id=body.volunteer_id, hours=body.hours, note_id=note_id
        ),
        note=("completion_summary", body.summary),
        volunteer_id=body.volunteer_id,
    )


@router.get("/volunteers/{volunteer_id}/offers", response_model=list[schemas.OrderSummary])
async def my_offers(volunteer_id: VolunteerId, db: DatabaseDep) -> list[schemas.OrderSummary]:
    """What waits for your answer: orders dispatched or offered to you, or to a unit you lead."""
    return await db.run(orders.offers_for, volunteer_id)


@router.post("/orders/{order_id}/assign", response_model=schemas.OrderOut)
async def assign_order(
    order_id: OrderId, body: schemas.AssignBody, db: DatabaseDep, commands: CommandsDep
) -> schemas.OrderOut:
    """A team or station leader hands an order dispatched to the unit to one of its members."""
    unit_id = await db.run(orders.dispatched_unit, order_id)
    await db.run(units.require_member, unit_id, body.volunteer_id)
    return await commands.run(
        order_id,
        OrderWorkflow.assign,
        lambda _note: AssignInput(leader_id=body.leader_id, volunteer_id=body.volunteer_id),
        volunteer_id=body.leader_id,
    )
