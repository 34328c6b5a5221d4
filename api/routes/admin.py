"""Center admins: the to-close list (销号清单), dispatch, volunteers and escalations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from api import orders, queries, schemas
from api.deps import DatabaseDep, SettingsDep, TemporalDep
from api.routes.resident import OrderId
from core.vocab import OrderStatus
from workflows.order import DispatchInput, OrderWorkflow

router = APIRouter(prefix="/api", tags=["admin"], responses=schemas.ERRORS)

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/orders", response_model=schemas.Page[schemas.OrderSummary])
async def list_orders(
    db: DatabaseDep,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    overdue: bool | None = None,
    township: str | None = None,
    category: str | None = None,
    item: str | None = None,
    volunteer_id: Annotated[int | None, Query(gt=0)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.OrderSummary]:
    """Orders, newest first, filtered by status, overdue, township, category, item, volunteer."""
    flt = queries.OrderFilter(
        status=status_,
        overdue=overdue,
        township=township,
        category=category,
        item=item,
        volunteer_id=volunteer_id,
    )
    return await db.run(queries.list_orders, flt, limit=limit, offset=offset)


@router.post("/orders/{order_id}/dispatch", response_model=schemas.OrderOut)
async def dispatch_order(
    order_id: OrderId,
    body: schemas.DispatchBody,
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> schemas.OrderOut:
    """Dispatch a pending order to a volunteer (派单); they have ACCEPT_TIMEOUT to accept."""
    await orders.send_update(
        client,
        db,
        settings,
        order_id,
        OrderWorkflow.dispatch,
        lambda _note: DispatchInput(volunteer_id=body.volunteer_id, admin_id=body.admin_id),
        volunteer_id=body.volunteer_id,
        volunteer_must_be_active=True,
    )
    return await orders.detail(db, settings, order_id)


@router.post("/townships", status_code=status.HTTP_201_CREATED, response_model=schemas.TownshipOut)
async def add_township(body: schemas.TownshipCreate, db: DatabaseDep) -> schemas.TownshipOut:
    """Register a township (乡镇/街道) of the county."""
    return await db.run(queries.create_township, body)


@router.post(
    "/volunteers", status_code=status.HTTP_201_CREATED, response_model=schemas.VolunteerOut
)
async def register_volunteer(
    body: schemas.VolunteerCreate, db: DatabaseDep
) -> schemas.VolunteerOut:
    """Register a volunteer (登记注册); skills are catalog category codes."""
    return await db.run(queries.create_volunteer, body)


@router.get("/volunteers", response_model=schemas.Page[schemas.VolunteerOut])
async def list_volunteers(
    db: DatabaseDep,
    township: str | None = None,
    skill: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.VolunteerOut]:
    return await db.run(
        queries.list_volunteers, township=township, skill=skill, limit=limit, offset=offset
    )


@router.get("/volunteers/{volunteer_id}", response_model=schemas.VolunteerOut)
async def get_volunteer(
    volunteer_id: Annotated[int, Path(gt=0)], db: DatabaseDep
) -> schemas.VolunteerOut:
    return await db.run(queries.get_volunteer, volunteer_id)


@router.patch("/volunteers/{volunteer_id}", response_model=schemas.VolunteerOut)
async def update_volunteer(
    volunteer_id: Annotated[int, Path(gt=0)], body: schemas.VolunteerStatus, db: DatabaseDep
) -> schemas.VolunteerOut:
    """Deactivate (or reactivate) a volunteer: no new dispatches, past orders kept."""
    return await db.run(queries.set_volunteer_active, volunteer_id, active=body.active)


@router.get("/escalations", response_model=schemas.Page[schemas.EscalationOut])
async def list_escalations(
    db: DatabaseDep,
    order_id: Annotated[int | None, Query(gt=0)] = None,
    open_only: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.EscalationOut]:
    """Escalations, newest first; ``open_only`` keeps those whose order is still not completed."""
    return await db.run(
        queries.list_escalations,
        order_id=order_id,
        open_only=open_only,
        limit=limit,
        offset=offset,
    )
