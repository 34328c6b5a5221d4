"""Residents: the menu, submitting a request, following it, reviewing and cancelling."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from api import schemas
from api.commands import order_detail
from api.deps import CommandsDep, DatabaseDep, SettingsDep
from api.params import OrderId
from api.stores import catalog, orders, places
from workflows.order import CancelInput, OrderWorkflow, ReviewInput

router = APIRouter(prefix="/api", tags=["resident"], responses=schemas.ERRORS)


@router.get("/catalog", response_model=list[schemas.CategoryOut])
async def get_catalog(db: DatabaseDep) -> list[schemas.CategoryOut]:
    """The service menu: categories, each with its sub-items."""
    return await db.run(catalog.catalog)


@router.get("/townships", response_model=list[schemas.TownshipOut])
async def get_townships(db: DatabaseDep) -> list[schemas.TownshipOut]:
    """The townships an order or a volunteer can name."""
    return await db.run(places.townships)


@router.get("/places", response_model=list[schemas.PlaceOut])
async def get_places(db: DatabaseDep, township: str | None = None) -> list[schemas.PlaceOut]:
    """Townships with their villages and communities (村/社区) and centre coordinates."""
    return await db.run(places.places, township=township)


@router.post("/orders", status_code=status.HTTP_201_CREATED, response_model=schemas.OrderOut)
async def submit_order(
    body: schemas.OrderCreate,
    response: Response,
    db: DatabaseDep,
    settings: SettingsDep,
    commands: CommandsDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> schemas.OrderOut:
    """Submit a request for help (点单). It starts as ``pending``.

    Send an ``Idempotency-Key`` header to make retries safe: the same key and body return
    the same order; the same key with another body is refused with 409.
    """
    submitted = await db.run(
        orders.create_order,
        body,
        idempotency_key=idempotency_key,
        completion_sla=settings.completion_sla,
    )
    await commands.ensure_workflow(submitted)
    if submitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/orders/{submitted.order_id}"
    return await order_detail(db, settings, submitted.order_id)


@router.get("/orders/{order_id}", response_model=schemas.OrderOut)
async def get_order(order_id: OrderId, db: DatabaseDep, settings: SettingsDep) -> schemas.OrderOut:
    """One order with its timeline."""
    return await order_detail(db, settings, order_id)


@router.post("/orders/{order_id}/review", response_model=schemas.OrderOut)
async def review_order(
    order_id: OrderId, body: schemas.ReviewBody, commands: CommandsDep
) -> schemas.OrderOut:
    """Rate a completed order on the four-grade scale (评单)."""
    return await commands.run(
        order_id,
        OrderWorkflow.review,
        lambda note_id: ReviewInput(rating=body.rating, note_id=note_id),
        note=("review_comment", body.comment),
    )


@router.post("/orders/{order_id}/cancel", response_model=schemas.OrderOut)
async def cancel_order(
    order_id: OrderId, body: schemas.CancelBody, commands: CommandsDep
) -> schemas.OrderOut:
    """Cancel an order that is not completed yet."""
    return await commands.run(
        order_id,
        OrderWorkflow.cancel,
        lambda note_id: CancelInput(by=body.by, note_id=note_id),
        note=("cancel_reason", body.reason),
    )
