"""Residents: the menu, asking for help, following and reviewing their own orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from api import schemas
from api.auth import (
    Actor,
    ResidentActor,
    VisibleOrder,
    client_ip,
    owner_only,
    owner_or_admin,
)
from api.commands import order_detail
from api.deps import CommandsDep, DatabaseDep, SettingsDep
from api.limits import LimitsDep
from api.params import Limit, Offset
from api.responses import refusals
from api.stores import access, catalog, complaints, order_lists, orders, places
from api.stores.access import Viewer
from api.stores.errors import Forbidden
from core.vocab import ReviewChannel, Role
from workflows.order import CancelInput, HurryInput, OrderWorkflow, ReviewInput

router = APIRouter(prefix="/api", tags=["resident"], responses=schemas.ERRORS)


@router.get("/catalog", response_model=list[schemas.CategoryOut])
async def get_catalog(db: DatabaseDep) -> list[schemas.CategoryOut]:
    """The service menu: categories, each with its sub-items. Public."""
    return await db.run(catalog.catalog)


@router.get("/townships", response_model=list[schemas.TownshipOut])
async def get_townships(db: DatabaseDep) -> list[schemas.TownshipOut]:
    """The townships an order or a volunteer can name. Public."""
    return await db.run(places.townships)


@router.get("/places", response_model=list[schemas.PlaceOut])
async def get_places(db: DatabaseDep, township: str | None = None) -> list[schemas.PlaceOut]:
    """Townships with their villages and communities (村/社区) and centre coordinates. Public."""
    return await db.run(places.places, township=township)


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.OrderOut,
    responses=refusals({429: "A resident ordering too often (Retry-After)"}),
)
async def submit_order(
    body: schemas.OrderCreate,
    request: Request,
    response: Response,
    actor: Actor,
    db: DatabaseDep,
    settings: SettingsDep,
    commands: CommandsDep,
    limits: LimitsDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> schemas.OrderOut:
    """Ask for help (点单). It starts as ``pending``.

    A resident orders for themself: the phone is the one they signed in with. Staff order on
    a caller's behalf with the resident's phone and the channel (``hotline``, ``walk_in``).
    Send an ``Idempotency-Key`` header to make retries safe: the same key and body return
    the same order; the same key with another body is refused with 409.
    """
    requester = await db.run(
        orders.requester_for, actor, body, country_code=settings.default_country_code
    )
    if actor.resident_id is not None and not actor.has(Role.ADMIN, Role.AGENT):
        # Every order makes the center's number call and text someone: limited per resident
        # and per address (staff, ordering for callers, are accountable by their account).
        await limits.check_order_submit(actor.resident_id, client_ip(request))
    submitted = await db.run(
        orders.create_order,
        body,
        requester,
        idempotency_key=idempotency_key,
        completion_sla=settings.completion_sla,
        timezone=settings.county_timezone,
    )
    await commands.ensure_workflow(submitted)
    if submitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/orders/{submitted.public_id}"
    order = await db.run(access.placed_by, actor, submitted.public_id)
    return await order_detail(db, settings, order, actor, ip=client_ip(request))


@router.get("/me/orders", response_model=schemas.Page[schemas.OrderSummary])
async def my_orders(
    actor: ResidentActor, db: DatabaseDep, limit: Limit = 50, offset: Offset = 0
) -> schemas.Page[schemas.OrderSummary]:
    """The signed-in resident's own orders (我的求助), newest first."""
    return await db.run(order_lists.residents_orders, actor, limit=limit, offset=offset)


@router.get("/orders/{order_id}", response_model=schemas.OrderOut)
async def get_order(
    order: VisibleOrder, actor: Actor, request: Request, db: DatabaseDep, settings: SettingsDep
) -> schemas.OrderOut:
    """One order with its timeline, as the caller may read it (see the schema)."""
    return await order_detail(db, settings, order, actor, ip=client_ip(request))


@router.get("/orders/{order_id}/contact", response_model=schemas.ContactOut)
async def order_contact(
    order: VisibleOrder, actor: Actor, request: Request, db: DatabaseDep
) -> schemas.ContactOut:
    """The resident's name, phone and address, for whoever must call or visit them now.

    The volunteer who accepted the order (until it closes), an admin of its township, and
    the call-center agent holding its follow-up. Every read is written to the audit log.
    """
    return await db.run(orders.read_contact, order, actor, ip=client_ip(request))


@router.post("/orders/{order_id}/review", response_model=schemas.OrderOut)
async def review_order(
    order: VisibleOrder, actor: Actor, body: schemas.ReviewBody, commands: CommandsDep
) -> schemas.OrderOut:
    """Rate a completed order on the four-grade scale (评单): the resident, or their SMS link.

    The volunteer holding the order may hand their phone to the resident, who taps the
    review there (现场填写《满意度评议表》): it is recorded with the channel ``on_site``.
    """
    if order.viewer is Viewer.HOLDER:
        channel = ReviewChannel.ON_SITE
    elif order.viewer is Viewer.OWNER:
        channel = ReviewChannel.ONLINE
    else:
        raise Forbidden("only the resident, or the volunteer on site, may review")
    return await commands.run(
        order,
        OrderWorkflow.review,
        lambda note_id: ReviewInput(rating=body.rating, note_id=note_id, channel=channel),
        note=("review_comment", body.comment),
    )


@router.post("/orders/{order_id}/hurry", response_model=schemas.OrderOut)
async def hurry_order(
    order: VisibleOrder, actor: Actor, commands: CommandsDep, settings: SettingsDep
) -> schemas.OrderOut:
    """Hurry an order not yet completed (催办): on its timeline, and counted for the admins.

    At most once per ``HURRY_INTERVAL`` (409 ``HurryTooSoon``). The resident only.
    """
    owner_only(order)
    interval = int(settings.hurry_interval.total_seconds())
    return await commands.run(
        order, OrderWorkflow.hurry, lambda _note: HurryInput(interval_s=interval)
    )


@router.post(
    "/orders/{order_id}/complaint",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.OrderOut,
)
async def complain(
    order: VisibleOrder,
    actor: Actor,
    body: schemas.ComplaintBody,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
) -> schemas.OrderOut:
    """Complain about the order (投诉): it reaches the admins' complaint list. The resident only.

    One open complaint per order (409 ``ComplaintOpen`` while it is open).
    """
    owner_only(order)
    await db.run(complaints.open_by_resident, order, body.text)
    return await order_detail(db, settings, order, actor, ip=client_ip(request))


@router.post("/orders/{order_id}/cancel", response_model=schemas.OrderOut)
async def cancel_order(
    order: VisibleOrder, actor: Actor, body: schemas.CancelBody, commands: CommandsDep
) -> schemas.OrderOut:
    """Cancel an order that is not completed yet: its resident, or an admin."""
    owner_or_admin(order, actor)
    by = orders.canceller(order)
    return await commands.run(
        order,
        OrderWorkflow.cancel,
        lambda note_id: CancelInput(by=by, note_id=note_id),
        note=("cancel_reason", body.reason),
    )
