"""Recognition: service records, certificates, honour rolls, a volunteer's standing.

A volunteer reads their own record and certificate, an admin those of their townships'
volunteers (anyone else: 404); unit records and honour rolls are for admins, publishing a
roll for county admins. A certificate's code is checked by anyone, and shows only the
volunteer's name, hours and period.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request, Response

from api import schemas
from api.auth import Actor, AdminActor, VolunteerActor, client_ip
from api.certificates import render_certificate
from api.deps import DatabaseDep, SettingsDep
from api.params import CertificateCode, UnitId, VolunteerId
from api.schemas import reports as out
from api.stores import records, rolls
from core.db import utcnow

router = APIRouter(prefix="/api", tags=["recognition"], responses=schemas.ERRORS)

Period = Annotated[
    str, Path(pattern=r"^20[0-9]{2}(-(0[1-9]|1[0-2]))?$", description="2026-03 or 2026")
]


@router.get("/volunteers/{volunteer_id}/record", response_model=out.ServiceRecord)
async def volunteer_record(
    volunteer_id: VolunteerId, actor: Actor, db: DatabaseDep, settings: SettingsDep
) -> out.ServiceRecord:
    """Verified hours, star level and the hours to the next star, unverified and
    complained-about hours apart, totals by month and year, ratings, and the standing on
    the latest published honour roll."""
    return await db.run(
        records.volunteer_record, volunteer_id, actor, timezone=settings.county_timezone
    )


@router.get("/units/{unit_id}/record", response_model=out.ServiceRecord)
async def unit_record(
    unit_id: UnitId, actor: AdminActor, db: DatabaseDep, settings: SettingsDep
) -> out.ServiceRecord:
    """A unit's totals: orders dispatched to it or served by its members."""
    return await db.run(records.unit_record, unit_id, actor, timezone=settings.county_timezone)


@router.get(
    "/volunteers/{volunteer_id}/certificate.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}},
)
async def certificate(
    volunteer_id: VolunteerId, actor: Actor, db: DatabaseDep, settings: SettingsDep
) -> Response:
    """The service-record certificate (志愿服务记录证明), with a verification code."""
    text = await db.run(
        records.certificate,
        volunteer_id,
        actor,
        timezone=settings.county_timezone,
        secret=settings.signing_secret,
        center=settings.center_name,
        verify_base=settings.public_base_url,
        today=utcnow().astimezone(ZoneInfo(settings.county_timezone)).date(),
    )
    filename = quote("志愿服务记录证明.pdf")
    return Response(
        render_certificate(text),
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{filename}"},
    )


@router.get("/certificates/{code}", response_model=out.CertificateCheck)
async def check_certificate(
    code: CertificateCode, db: DatabaseDep, settings: SettingsDep
) -> out.CertificateCheck:
    """Whether a certificate's code is ours: the volunteer's name, hours and period only."""
    return await db.run(records.check_certificate, code, secret=settings.signing_secret)


@router.get("/rolls", response_model=list[out.RollSummary])
async def list_rolls(actor: AdminActor, db: DatabaseDep) -> list[out.RollSummary]:
    """Every stored honour roll, newest period first."""
    return await db.run(rolls.list_rolls)


@router.get("/rolls/{period}", response_model=out.RollOut)
async def get_roll(period: Period, actor: AdminActor, db: DatabaseDep) -> out.RollOut:
    return await db.run(rolls.get_roll, period)


@router.post("/rolls/{period}/publish", response_model=out.RollOut)
async def publish_roll(
    period: Period, actor: AdminActor, db: DatabaseDep, request: Request
) -> out.RollOut:
    """Publish the period's roll: volunteers then see their standing. County admins only."""
    return await db.run(rolls.publish_roll, period, actor, ip=client_ip(request))


@router.get("/me/standing", response_model=out.MyStanding)
async def my_standing(
    actor: VolunteerActor, db: DatabaseDep, settings: SettingsDep
) -> out.MyStanding:
    """The signed-in volunteer's hours, star level and place on the latest published roll."""
    assert actor.volunteer_id is not None  # VolunteerActor holds one
    record = await db.run(
        records.volunteer_record, actor.volunteer_id, actor, timezone=settings.county_timezone
    )
    return out.MyStanding(
        verified_hours=record.verified_hours,
        star_level=record.star_level or 0,
        hours_to_next_star=record.hours_to_next_star,
        standing=record.standing,
    )
