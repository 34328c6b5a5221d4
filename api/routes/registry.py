"""Admins keep the registry: places, teams and stations, volunteers (登记注册, 关系转接)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api import schemas
from api.deps import DatabaseDep
from api.params import IdFilter, Limit, Offset, UnitId, VolunteerId
from api.stores import places, units, volunteers

router = APIRouter(prefix="/api", tags=["registry"], responses=schemas.ERRORS)


@router.post("/townships", status_code=status.HTTP_201_CREATED, response_model=schemas.TownshipOut)
async def add_township(body: schemas.TownshipCreate, db: DatabaseDep) -> schemas.TownshipOut:
    """Register a township (乡镇/街道) of the county, with its centre if known."""
    return await db.run(places.create_township, body)


@router.post("/villages", status_code=status.HTTP_201_CREATED, response_model=schemas.VillageOut)
async def add_village(body: schemas.VillageCreate, db: DatabaseDep) -> schemas.VillageOut:
    """Register a village (村) or community (社区) within a township."""
    return await db.run(places.create_village, body)


@router.post("/units", status_code=status.HTTP_201_CREATED, response_model=schemas.UnitOut)
async def add_unit(body: schemas.UnitCreate, db: DatabaseDep) -> schemas.UnitOut:
    """Register a practice institute (所), station (站) or volunteer team (队)."""
    return await db.run(units.create_unit, body)


@router.get("/units", response_model=schemas.Page[schemas.UnitOut])
async def list_units(
    db: DatabaseDep, township: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> schemas.Page[schemas.UnitOut]:
    return await db.run(units.list_units, township=township, limit=limit, offset=offset)


@router.get("/units/{unit_id}", response_model=schemas.UnitOut)
async def get_unit(unit_id: UnitId, db: DatabaseDep) -> schemas.UnitOut:
    return await db.run(units.get_unit, unit_id)


@router.patch("/units/{unit_id}", response_model=schemas.UnitOut)
async def update_unit(unit_id: UnitId, body: schemas.UnitPatch, db: DatabaseDep) -> schemas.UnitOut:
    """Name the leader (a member) or deactivate the unit."""
    return await db.run(units.update_unit, unit_id, body)


@router.post(
    "/volunteers", status_code=status.HTTP_201_CREATED, response_model=schemas.VolunteerOut
)
async def register_volunteer(
    body: schemas.VolunteerCreate, db: DatabaseDep
) -> schemas.VolunteerOut:
    """Register a volunteer (登记注册); a phone already registered is refused with 409."""
    return await db.run(volunteers.create_volunteer, body)


@router.get("/volunteers", response_model=schemas.Page[schemas.VolunteerOut])
async def list_volunteers(
    db: DatabaseDep,
    township: str | None = None,
    skill: str | None = None,
    unit_id: IdFilter = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.Page[schemas.VolunteerOut]:
    return await db.run(
        volunteers.list_volunteers,
        township=township,
        skill=skill,
        unit_id=unit_id,
        limit=limit,
        offset=offset,
    )


@router.get("/volunteers/{volunteer_id}", response_model=schemas.VolunteerOut)
async def get_volunteer(volunteer_id: VolunteerId, db: DatabaseDep) -> schemas.VolunteerOut:
    return await db.run(volunteers.get_volunteer, volunteer_id)


@router.patch("/volunteers/{volunteer_id}", response_model=schemas.VolunteerOut)
async def update_volunteer(
    volunteer_id: VolunteerId, body: schemas.VolunteerPatch, db: DatabaseDep
) -> schemas.VolunteerOut:
    """Deactivate or pause, change capacity, skills, trade or weekly availability.

    Past orders stay as they are; a paused or inactive volunteer gets no new dispatches.
    """
    return await db.run(volunteers.update_volunteer, volunteer_id, body)


@router.post("/volunteers/{volunteer_id}/transfer", response_model=schemas.VolunteerOut)
async def transfer_volunteer(
    volunteer_id: VolunteerId, body: schemas.TransferBody, db: DatabaseDep
) -> schemas.VolunteerOut:
    """Move a volunteer to another team or station (关系转接); their history stays theirs."""
    return await db.run(volunteers.transfer_volunteer, volunteer_id, body)


@router.get("/volunteers/{volunteer_id}/transfers", response_model=list[schemas.TransferOut])
async def list_transfers(volunteer_id: VolunteerId, db: DatabaseDep) -> list[schemas.TransferOut]:
    return await db.run(volunteers.transfers, volunteer_id)
