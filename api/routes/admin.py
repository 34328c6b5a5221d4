"""Center admins: the to-close list (销号清单), dispatch, volunteers and escalations."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request, status
from temporalio.client import Client
from temporalio.service import RPCError

from api import schemas
from api.auth import AdminActor, StaffActor, VisibleOrder, client_ip
from api.deps import CommandsDep, DatabaseDep, SettingsDep, TemporalDep
from api.errors import raise_for_update_failure
from api.gateway import OrderGateway
from api.params import IdFilter, Limit, Offset, OrderFilterId, TownshipFilter
from api.stores import (
    board,
    candidates,
    erasure,
    escalations,
    notes,
    order_lists,
    policies,
    sms,
    units,
)
from api.stores.errors import NO_CANDIDATES, Conflict, Forbidden
from api.stores.references import require_volunteer
from core.db import utcnow
from core.vocab import OrderStatus
from workflows.order import DispatchInput, OpenCallInput, OrderWorkflow

router = APIRouter(prefix="/api", tags=["admin"], responses=schemas.ERRORS)


@router.get("/orders", response_model=schemas.Page[schemas.OrderSummary])
async def list_orders(
    actor: StaffActor,
    db: DatabaseDep,
    settings: SettingsDep,
    request: Request,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    open_: Annotated[
        bool | None, Query(alias="open", description="Still open (在办) or not")
    ] = None,
    overdue: bool | None = None,
    undispatchable: bool | None = None,
    township: str | None = None,
    category: str | None = None,
    item: str | None = None,
    volunteer_id: IdFilter = None,
    lost: bool | None = None,
    since: Annotated[date | None, Query(description="Submitted on or after (county date)")] = None,
    until: Annotated[date | None, Query(description="Submitted on or before (county date)")] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=40,
            description="An order's number, the resident's phone (or its last four digits) "
            "or the start of their name; a search by phone or name is audited",
        ),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.OrderSummary]:
    """Orders in your townships, newest first (agents: those with a follow-up).

    Filters: status, overdue, undispatchable, place, item, volunteer, the days submitted
    (``since``, ``until``: dates in the county's time zone), ``lost``: orders whose
    workflow ended outside the API (terminated in the Temporal UI, failed), which an admin
    must look at, and ``q``: an order's number, or the resident's phone or name (audited).
    """
    county = ZoneInfo(settings.county_timezone)
    flt = order_lists.OrderFilter(
        status=status_,
        still_open=open_,
        overdue=overdue,
        undispatchable=undispatchable,
        township=township,
        category=category,
        item=item,
        volunteer_id=volunteer_id,
        lost=lost,
        submitted_from=None if since is None else datetime.combine(since, time(), county),
        submitted_before=None
        if until is None
        else datetime.combine(until + timedelta(days=1), time(), county),
        search=q,
    )
    return await db.run(
        order_lists.list_orders,
        flt,
        viewer=actor,
        limit=limit,
        offset=offset,
        ip=client_ip(request),
        country_code=settings.default_country_code,
    )


@router.get("/board", response_model=schemas.BoardOut)
async def to_close_board(
    actor: AdminActor,
    db: DatabaseDep,
    township: TownshipFilter = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> schemas.BoardOut:
    """The to-close board (销号清单) of your townships: how many orders wait at each step
    (待派单 / 已派单 / 已接单 / 超时 / 督办) and the ``limit`` with the nearest deadlines.

    Cheap enough to poll every few seconds: one counting query and one short list each.
    """
    return await db.run(board.board, actor, township=township, limit=limit, now=utcnow())


@router.get("/orders/{order_id}/notes", response_model=list[schemas.NoteOut])
async def list_notes(
    actor: StaffActor, order: VisibleOrder, db: DatabaseDep
) -> list[schemas.NoteOut]:
    """Staff notes on the order, oldest first, with who wrote each. Staff only."""
    return await db.run(notes.staff_notes, order)


@router.post(
    "/orders/{order_id}/notes",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.NoteOut,
)
async def add_note(
    actor: StaffActor,
    order: VisibleOrder,
    body: schemas.NoteBody,
    request: Request,
    db: DatabaseDep,
) -> schemas.NoteOut:
    """Add an internal note (内部备注) for other staff: never shown to the resident or the
    volunteers, kept out of the workflow, audited. Closed orders take notes too."""
    return await db.run(notes.add_staff_note, order, body.text, actor, ip=client_ip(request))


async def _tried(client: Client, order_id: int) -> list[int]:
    """Who declined or let an offer lapse, as the order's workflow remembers it."""
    try:
        view = await OrderGateway(client).state(order_id)
    except RPCError as exc:
        raise_for_update_failure(exc)  # 503 while Temporal is unavailable
    if view is None:
        return []  # not started yet: nobody was tried
    return sorted(set(view.declined_by) | set(view.passed_over))


@router.get("/orders/{order_id}/candidates", response_model=schemas.CandidatesOut)
async def order_candidates(
    actor: AdminActor,
    order: VisibleOrder,
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> schemas.CandidatesOut:
    """Volunteers and units ranked for this order, each score broken into its parts.

    Nearby (same village > same township > distance), skill and trade, and fit (free
    capacity, available now, on-time rate, ratings). Inactive, paused, full volunteers and
    those who declined or let the order lapse are left out.
    """
    tried = await _tried(client, order.id)
    return await db.run(
        candidates.candidates,
        order,
        matching=settings.matching,
        exclude=tried,
        limit=limit,
        now=utcnow(),
    )


@router.get("/orders/{order_id}/messages", response_model=list[schemas.SmsOut])
async def order_messages(
    actor: AdminActor, order: VisibleOrder, db: DatabaseDep
) -> list[schemas.SmsOut]:
    """The SMS sent about this order: to whom (number masked), what, and whether delivered."""
    return await db.run(sms.order_messages, order)


@router.post("/orders/{order_id}/dispatch", response_model=schemas.OrderOut)
async def dispatch_order(
    actor: AdminActor,
    order: VisibleOrder,
    body: schemas.DispatchBody,
    db: DatabaseDep,
    commands: CommandsDep,
) -> schemas.OrderOut:
    """Dispatch (派单) to a volunteer, or to a team/station whose leader assigns a member.

    A pending or dispatched order is (re)dispatched; an accepted one is re-dispatched (the
    volunteer fell ill): the previous volunteer is told and the deadline does not move.
    """
    leader_id = None
    if body.unit_id is not None:
        leader_id = await db.run(units.unit_for_dispatch, body.unit_id)
    return await commands.run(
        order,
        OrderWorkflow.dispatch,
        lambda note_id: DispatchInput(
            volunteer_id=body.volunteer_id,
            unit_id=body.unit_id,
            leader_id=leader_id,
            admin_id=actor.staff_id,
            note_id=note_id,
        ),
        note=("dispatch_reason", body.reason),
        volunteer_id=body.volunteer_id,
        volunteer_must_be_active=True,
    )


@router.post("/orders/{order_id}/open-call", response_model=schemas.OrderOut)
async def open_call(
    actor: AdminActor,
    order: VisibleOrder,
    body: schemas.OpenCallBody,
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
    commands: CommandsDep,
) -> schemas.OrderOut:
    """Offer the order to several volunteers at once (抢单): the first accept wins.

    Without ``volunteer_ids`` it goes to the top ``size`` candidates (OPEN_CALL_SIZE).
    """
    ids = body.volunteer_ids
    if ids is None:
        ranked = await db.run(
            candidates.candidates,
            order,
            matching=settings.matching,
            exclude=await _tried(client, order.id),
            limit=body.size or settings.open_call_size,
            now=utcnow(),
        )
        ids = [c.volunteer_id for c in ranked.volunteers]
        if not ids:
            raise Conflict(NO_CANDIDATES, "no volunteer is available for this order")
    else:
        for volunteer_id in ids:
            await db.run(require_volunteer, volunteer_id, active=True)
    chosen = list(ids)
    return await commands.run(
        order,
        OrderWorkflow.open_call,
        lambda _note: OpenCallInput(volunteer_ids=chosen, admin_id=actor.staff_id),
    )


@router.get("/dispatch-policies", response_model=list[schemas.PolicyOut])
async def list_policies(actor: AdminActor, db: DatabaseDep) -> list[schemas.PolicyOut]:
    """The county-wide policy (scope ``*``) and any per-category overrides."""
    return await db.run(policies.policies)


@router.put("/dispatch-policies/{scope}", response_model=schemas.PolicyOut)
async def put_policy(
    scope: Annotated[str, Path(min_length=1, max_length=40)],
    actor: AdminActor,
    body: schemas.PolicyBody,
    db: DatabaseDep,
) -> schemas.PolicyOut:
    """Set ``manual``, ``suggest`` or ``auto`` county-wide (``*``) or for a category code.

    Applies to orders submitted afterwards; open orders keep the policy they started with.
    A county admin's decision: it applies to every township.
    """
    if not actor.county_wide:
        raise Forbidden("dispatch policies are county-wide: a county admin sets them")
    return await db.run(policies.set_policy, scope, body.policy)


@router.get("/escalations", response_model=schemas.Page[schemas.EscalationOut])
async def list_escalations(
    actor: AdminActor,
    db: DatabaseDep,
    order_id: OrderFilterId = None,
    open_only: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.EscalationOut]:
    """Escalations, newest first; ``open_only`` keeps those whose order is still not completed."""
    return await db.run(
        escalations.list_escalations,
        viewer=actor,
        order_id=order_id,
        open_only=open_only,
        limit=limit,
        offset=offset,
    )


@router.post("/orders/{order_id}/erase-resident", response_model=schemas.ErasureOut)
async def erase_resident(
    actor: AdminActor, order: VisibleOrder, request: Request, db: DatabaseDep
) -> schemas.ErasureOut:
    """Erase the personal data of the resident who placed this order, on all their orders.

    Name, phone, address, reasons and free-text notes are overwritten and their sign-in
    stops working; statuses, times, ratings, hours and places stay for the statistics.
    409 ``AlreadyErased`` the second time. Audited.
    """
    return await db.run(erasure.erase_resident, order, actor, ip=client_ip(request))
