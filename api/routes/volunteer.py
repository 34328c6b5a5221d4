"""Volunteers: accept, decline and complete what was dispatched to them (接单).

Who acts is the signed-in volunteer; an order not theirs to see reads as 404, one they see
but do not hold is refused by the workflow (409 ``NotAssignedVolunteer``).
"""

from __future__ import annotations

from fastapi import APIRouter
from temporalio.workflow import UpdateMethodMultiParam

from api import schemas
from api.auth import Actor, LeaderActor, OfferedOrder, VisibleOrder, VolunteerActor
from api.commands import OrderCommands
from api.deps import CommandsDep, DatabaseDep, SettingsDep
from api.params import UnitId, VolunteerId
from api.schemas import reports
from api.stores import inbox, order_lists, orders, photos, rolls, units, volunteers
from api.stores.access import OrderRef
from api.stores.errors import Forbidden
from core.security import Principal
from workflows.order import (
    AcceptInput,
    AssignInput,
    CompleteInput,
    DeclineInput,
    OrderView,
    OrderWorkflow,
    VisitInput,
)

router = APIRouter(prefix="/api", tags=["volunteer"], responses=schemas.ERRORS)


@router.post("/orders/{order_id}/accept", response_model=schemas.OrderOut)
async def accept_order(
    actor: VolunteerActor, order: OfferedOrder, commands: CommandsDep
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
    """Report the work done, with a summary, the hours spent and the photos to show.

    ``photo_ids`` name photos you uploaded to this order (422 ``UnknownPhoto`` otherwise).
    """
    me = volunteers.me(actor)
    await commands.db.run(photos.require_own, order, me, body.photo_ids)
    done = await commands.run(
        order,
        OrderWorkflow.complete,
        lambda note_id: CompleteInput(volunteer_id=me, hours=body.hours, note_id=note_id),
        note=("completion_summary", body.summary),
        volunteer_id=me,
    )
    if not body.photo_ids:
        return done
    await commands.db.run(photos.attach, order, body.photo_ids)
    return await commands.reread(order)


@router.post("/orders/{order_id}/check-in", response_model=schemas.OrderOut)
async def check_in(
    actor: VolunteerActor, order: VisibleOrder, commands: CommandsDep
) -> schemas.OrderOut:
    """You arrive at the resident's (到达): the time is kept; a repeat keeps the first."""
    return await _visit(actor, order, commands, OrderWorkflow.check_in)


@router.post("/orders/{order_id}/check-out", response_model=schemas.OrderOut)
async def check_out(
    actor: VolunteerActor, order: VisibleOrder, commands: CommandsDep
) -> schemas.OrderOut:
    """You leave (离开): with the check-in, this proposes the hours (``proposed_hours``)."""
    return await _visit(actor, order, commands, OrderWorkflow.check_out)


async def _visit(
    actor: Principal,
    order: OrderRef,
    commands: OrderCommands,
    update: UpdateMethodMultiParam[[OrderWorkflow, VisitInput], OrderView],
) -> schemas.OrderOut:
    me = volunteers.me(actor)
    return await commands.run(
        order, update, lambda _note: VisitInput(volunteer_id=me), volunteer_id=me
    )


@router.get("/me/inbox", response_model=schemas.InboxOut)
async def my_inbox(
    actor: VolunteerActor, db: DatabaseDep, settings: SettingsDep
) -> schemas.InboxOut:
    """Your inbox: offered to you (or your unit), held by you, and open calls you may take."""
    me = volunteers.me(actor)
    return await db.run(inbox.inbox, me, actor.led_units, settings.offers)


@router.get("/me/past-orders", response_model=list[schemas.PastOrder])
async def my_past_orders(actor: VolunteerActor, db: DatabaseDep) -> list[schemas.PastOrder]:
    """The orders you completed, newest first (the latest 100): service, place, hours, rating."""
    return await db.run(inbox.past_orders, volunteers.me(actor))


@router.get("/me/honour-roll", response_model=reports.RollOut | None)
async def honour_roll(actor: VolunteerActor, db: DatabaseDep) -> reports.RollOut | None:
    """The latest published honour roll (光荣榜), its first ten volunteers and units; null
    until the center has published one."""
    return await db.run(rolls.latest_published)


@router.get("/volunteers/{volunteer_id}/offers", response_model=list[schemas.OrderSummary])
async def my_offers(
    volunteer_id: VolunteerId, actor: Actor, db: DatabaseDep
) -> list[schemas.OrderSummary]:
    """What waits for your answer: orders dispatched or offered to you, or to a unit you lead.

    The volunteer themself, or an admin of their township.
    """
    await db.run(volunteers.in_reach, volunteer_id, actor)
    return await db.run(order_lists.offers_for, volunteer_id)


@router.get("/units/{unit_id}/members", response_model=list[schemas.UnitMember])
async def unit_members(
    unit_id: UnitId, actor: LeaderActor, db: DatabaseDep
) -> list[schemas.UnitMember]:
    """The members of the unit you lead, to assign its orders to (any other unit: 404)."""
    return await db.run(units.members, unit_id, actor)


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
