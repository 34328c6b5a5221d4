"""Reports that make the article's targets measurable, starting with the 100% follow-up."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from api import schemas
from api.auth import AdminActor
from api.deps import DatabaseDep, SettingsDep
from api.params import TownshipFilter
from api.stores import reports
from api.stores.errors import NotFound

router = APIRouter(prefix="/api/reports", tags=["reports"], responses=schemas.ERRORS)

Instant = Annotated[
    datetime | None,
    Query(description="ISO 8601; without an offset it is the county's local time."),
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


def _aware(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=zone)
