"""Reports that make the article's targets measurable: the follow-up, the overview, exports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AfterValidator

from api import schemas
from api.auth import AdminActor, client_ip
from api.deps import DatabaseDep, SettingsDep
from api.exports import MEDIA_TYPES, Format, render
from api.params import IdFilter, TownshipFilter
from api.schemas import reports as out
from api.stores import exports, order_lists, overview, reports
from api.stores.errors import NotFound
from api.stores.overview import Filters
from core.vocab import Channel, OrderStatus, Platform

router = APIRouter(prefix="/api/reports", tags=["reports"], responses=schemas.ERRORS)

_WHEN = "ISO 8601; without an offset it is the county's local time."
# The document's word for ``_plausible``: a year from 2000 to 2200.
_YEARS = {"pattern": "^(2[01][0-9]{2}|2200)-"}
Instant = Annotated[
    datetime | None,
    Query(description=_WHEN, json_schema_extra=_YEARS),
    AfterValidator(lambda when: _plausible(when)),
]

From = Annotated[
    datetime | None,
    Query(alias="from", description=_WHEN, json_schema_extra=_YEARS),
    AfterValidator(lambda when: _plausible(when)),
]


def _plausible(when: datetime | None) -> datetime | None:
    # Years far away overflow the time-zone arithmetic and name no order anyway.
    if when is not None and not 2000 <= when.year <= 2200:
        raise ValueError("a time between the years 2000 and 2200")
    return when


@router.get("/follow-up", response_model=schemas.FollowUpReport)
async def follow_up_report(
    actor: AdminActor,
    db: DatabaseDep,
    settings: SettingsDep,
    since: Instant = None,
    until: Instant = None,
    township: TownshipFilter = None,
) -> schemas.FollowUpReport:
    """Follow-up figures over the orders completed in ``[since, until)``.

    ``follow_up_rate`` = residents reached / completed orders (the article promises 100%;
    unreachable residents and pending follow-ups count against it). ``automated_share`` =
    follow-ups the automated call settled / follow-ups done. Also: automated calls per done
    follow-up, hours from completion to follow-up (mean, p50, p90), counts by method,
    outcome and the reason a follow-up reached staff. A township admin's figures cover
    their townships.
    """
    if township is not None and not actor.may_see_township(township):
        raise NotFound("township", township)
    county = ZoneInfo(settings.county_timezone)
    return await db.run(
        reports.follow_up_report,
        since=_aware(since, county),
        until=_aware(until, county),
        township=township,
        viewer=actor,
    )


FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The file",
        "content": {MEDIA_TYPES["csv"]: {}, MEDIA_TYPES["xlsx"]: {}},
    }
}


def _aware(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=zone)


async def _filters(
    actor: AdminActor,
    settings: SettingsDep,
    from_: From = None,
    to: Instant = None,
    township: TownshipFilter = None,
    category: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    channel: Channel | None = None,
    platform: Platform | None = None,
    unit: IdFilter = None,
    interval: out.Interval = "month",
) -> Filters:
    if township is not None and not actor.may_see_township(township):
        raise NotFound("township", township)
    county = ZoneInfo(settings.county_timezone)
    return Filters(
        since=_aware(from_, county),
        until=_aware(to, county),
        township=township,
        category=category,
        channel=channel.value if channel else None,
        platform=platform.value if platform else None,
        unit=unit,
        interval=interval,
        timezone=settings.county_timezone,
        viewer=actor,
    )


OverviewFilters = Annotated[Filters, Depends(_filters)]
ExportFormat = Annotated[Format, Query(alias="format", description="csv or xlsx")]


@router.get("/overview", response_model=out.Overview)
async def overview_report(f: OverviewFilters, db: DatabaseDep) -> out.Overview:
    """Every figure over the orders received in ``[from, to)`` (county time without an offset).

    Received, dispatched, accepted, completed, completed within 72 hours (``on_time_rate``),
    overdue, escalated; median and p90 hours from receipt to dispatch, acceptance and
    completion; the ratings as the residents gave them and as the follow-up verified them,
    with corrections; the follow-up rate; complaints opened and resolved; active volunteers
    and verified hours; by township and category, and a series by ``interval``. A township
    admin's figures cover their townships.
    """
    return await db.run(overview.overview, f)


def _attachment(body: bytes, fmt: Format, name: str) -> Response:
    filename = f"{name}.{fmt}"
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


@router.get("/overview/export", response_class=Response, responses=FILE_RESPONSES)
async def export_overview(
    f: OverviewFilters, db: DatabaseDep, fmt: ExportFormat = "xlsx"
) -> Response:
    """The overview as a spreadsheet (总览, 按乡镇, 按类别, 趋势) or one CSV."""
    report = await db.run(overview.overview, f)
    return _attachment(render(exports.overview_sheets(report), fmt), fmt, "四单服务统计")


@router.get("/orders/export", response_class=Response, responses=FILE_RESPONSES)
async def export_orders(
    f: OverviewFilters,
    db: DatabaseDep,
    actor: AdminActor,
    request: Request,
    settings: SettingsDep,
    fmt: ExportFormat = "xlsx",
    personal: bool = False,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    open_: Annotated[bool | None, Query(alias="open")] = None,
    item: Annotated[str | None, Query(min_length=1, max_length=60)] = None,
    overdue: bool | None = None,
    q: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=40,
            description="As the order list's: a number, the resident's phone or name (audited)",
        ),
    ] = None,
) -> Response:
    """The orders received in the period, one row each (at most 200,000).

    ``status``, ``open``, ``item``, ``overdue`` and ``q`` narrow it as they narrow the order list
    (``GET /api/orders``), so the console exports what its list shows. ``personal=true``
    adds the resident's name, phone, address and reason (orders in the admin's townships
    only, as always); each such export is written to the audit log.
    """
    listed = order_lists.OrderFilter(
        status=status_, still_open=open_, item=item, overdue=overdue, search=q
    )
    sheet = await db.run(
        exports.order_sheet,
        f,
        personal=personal,
        actor=actor,
        ip=client_ip(request),
        listed=listed,
        country_code=settings.default_country_code,
    )
    return _attachment(render([sheet], fmt), fmt, "四单订单清单")
