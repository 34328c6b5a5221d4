"""Admins keep the registry: places, teams and stations, volunteers (登记注册, 关系转接).

A township-scoped admin works inside their townships only (anything else reads as 404);
places are the county's and only a county admin adds them. Residents apply to volunteer
themselves; an admin approves or refuses.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from api import schemas
from api.auth import Actor, AdminActor, ResidentActor
from api.deps import DatabaseDep, SettingsDep
from api.params import IdFilter, Limit, Offset, UnitId, VolunteerId
from api.stores import places, units, volunteers
from api.stores.errors import Forbidden
from core.security import Principal
from core.vocab import Application

router = APIRouter(prefix="/api", tags=["registry"], responses=schemas.ERRORS)


def county_admin(actor: Principal) -> None:
    if not actor.county_wide:
        raise Forbidden("only a county admin changes what the county shares (places, the menu)")


@router.post("/townships", status_code=status.HTTP_201_CREATED, response_model=schemas.TownshipOut)
async def add_township(
    actor: AdminActor, body: schemas.TownshipCreate, db: DatabaseDep
) -> schemas.TownshipOut:
    """Register a township (乡镇/街道) of the county, with its centre if known."""
    county_admin(actor)
    return await db.run(places.create_township, body)


@router.post("/villages", status_code=status.HTTP_201_CREATED, response_model=schemas.VillageOut)
async def add_village(
    actor: AdminActor, body: schemas.VillageCreate, db: DatabaseDep
) -> schemas.VillageOut:
    """Register a village (村) or community (社区) within a township."""
    if not actor.may_see_township(body.township):
        raise Forbidden(f"{body.township} is not one of your townships")
    return await db.run(places.create_village, body)


@router.post("/units", status_code=status.HTTP_201_CREATED, response_model=schemas.UnitOut)
async def add_unit(actor: AdminActor, body: schemas.UnitCreate, db: DatabaseDep) -> schemas.UnitOut:
    """Register a practice institute (所), station (站) or volunteer team (队)."""
    return await db.run(units.create_unit, body, actor)


@router.get("/units", response_model=schemas.Page[schemas.UnitOut])
async def list_units(
    actor: AdminActor,
    db: DatabaseDep,
    township: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.UnitOut]:
    return await db.run(
        units.list_units, viewer=actor, township=township, limit=limit, offset=offset
    )


@router.get("/units/{unit_id}", response_model=schemas.UnitOut)
async def get_unit(unit_id: UnitId, actor: AdminActor, db: DatabaseDep) -> schemas.UnitOut:
    return await db.run(units.get_unit, unit_id, actor)


@router.patch("/units/{unit_id}", response_model=schemas.UnitOut)
async def update_unit(
    unit_id: UnitId, actor: AdminActor, body: schemas.UnitPatch, db: DatabaseDep
) -> schemas.UnitOut:
    """Name the leader (a member) or deactivate the unit."""
    return await db.run(units.update_unit, unit_id, body, actor)


@router.post(
    "/volunteers", status_code=status.HTTP_201_CREATED, response_model=schemas.VolunteerOut
)
async def register_volunteer(
    actor: AdminActor, body: schemas.VolunteerCreate, db: DatabaseDep, settings: SettingsDep
) -> schemas.VolunteerOut:
    """Register a vetted volunteer (登记注册), active at once; a known phone is refused (409)."""
    if not actor.may_see_township(body.township):
        raise Forbidden(f"{body.township} is not one of your townships")
    return await db.run(
        volunteers.create_volunteer, body, country_code=settings.default_country_code
    )


@router.post(
    "/volunteers/apply", status_code=status.HTTP_201_CREATED, response_model=schemas.VolunteerOut
)
async def apply_to_volunteer(
    actor: ResidentActor, body: schemas.VolunteerApply, db: DatabaseDep
) -> schemas.VolunteerOut:
    """Apply to volunteer with the phone you signed in with; inactive until an admin approves."""
    return await db.run(volunteers.apply, actor, body)


@router.get("/volunteers", response_model=schemas.Page[schemas.VolunteerOut])
async def list_volunteers(
    actor: AdminActor,
    db: DatabaseDep,
    township: str | None = None,
    skill: str | None = None,
    unit_id: IdFilter = None,
    application: Application | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.VolunteerOut]:
    """Volunteers in your townships (numbers masked); ``application=pending`` lists the
    applications waiting for a decision."""
    return await db.run(
        volunteers.list_volunteers,
        viewer=actor,
        township=township,
        skill=skill,
        unit_id=unit_id,
        application=application,
        limit=limit,
        offset=offset,
    )


@router.get("/volunteers/{volunteer_id}", response_model=schemas.VolunteerOut)
async def get_volunteer(
    volunteer_id: VolunteerId, actor: Actor, db: DatabaseDep
) -> schemas.VolunteerOut:
    """A volunteer's record: the volunteer themself, or an admin of their township."""
    return await db.run(volunteers.get_volunteer, volunteer_id, actor)


@router.patch("/volunteers/{volunteer_id}", response_model=schemas.VolunteerOut)
async def update_volunteer(
    volunteer_id: VolunteerId,
    actor: Actor,
    body: schemas.VolunteerPatch,
    db: DatabaseDep,
    settings: SettingsDep,
) -> schemas.VolunteerOut:
    """Correct the name, phone or home place; deactivate or pause, change capacity, skills,
    trade or weekly availability.

    Past orders stay as they are; a paused or inactive volunteer gets no new dispatches.
    A volunteer may pause themself and change their availability; the rest is for admins
    (a known phone is refused, 409; a new township must be one of the admin's).
    """
    return await db.run(
        volunteers.update_volunteer,
        volunteer_id,
        body,
        actor,
        country_code=settings.default_country_code,
    )


@router.post("/volunteers/{volunteer_id}/approve", response_model=schemas.VolunteerOut)
async def approve_volunteer(
    volunteer_id: VolunteerId, actor: AdminActor, db: DatabaseDep
) -> schemas.VolunteerOut:
    """Approve a resident's application: they are an active volunteer from now on."""
    return await db.run(volunteers.decide_application, volunteer_id, actor, approve=True)


@router.post("/volunteers/{volunteer_id}/refuse", response_model=schemas.VolunteerOut)
async def refuse_volunteer(
    volunteer_id: VolunteerId, actor: AdminActor, db: DatabaseDep
) -> schemas.VolunteerOut:
    """Refuse a resident's application."""
    return await db.run(volunteers.decide_application, volunteer_id, actor, approve=False)


@router.post("/volunteers/{volunteer_id}/transfer", response_model=schemas.VolunteerOut)
async def transfer_volunteer(
    volunteer_id: VolunteerId, actor: AdminActor, body: schemas.TransferBody, db: DatabaseDep
) -> schemas.VolunteerOut:
    """Move a volunteer to another team or station (关系转接); their history stays theirs."""
    return await db.run(volunteers.transfer_volunteer, volunteer_id, body, actor)


@router.get("/volunteers/{volunteer_id}/transfers", response_model=list[schemas.TransferOut])
async def list_transfers(
    volunteer_id: VolunteerId, actor: Actor, db: DatabaseDep
) -> list[schemas.TransferOut]:
    return await db.run(volunteers.transfers, volunteer_id, actor)
