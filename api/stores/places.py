"""Townships (乡镇/街道) with their centres, and their villages and communities."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import schemas
from api.stores.errors import DUPLICATE_PLACE, DUPLICATE_TOWNSHIP, Conflict
from api.stores.references import require_township
from core.models import Township, Village


def townships(session: Session) -> list[schemas.TownshipOut]:
    rows = session.scalars(select(Township).order_by(Township.position, Township.name))
    return [schemas.TownshipOut.model_validate(t, from_attributes=True) for t in rows]


def create_township(session: Session, body: schemas.TownshipCreate) -> schemas.TownshipOut:
    if session.get(Township, body.name) is not None:
        raise Conflict(DUPLICATE_TOWNSHIP, f"township {body.name} exists already")
    position = session.scalar(select(func.coalesce(func.max(Township.position), 0))) or 0
    township = Township(
        name=body.name, name_en=body.name_en, position=position + 1, lat=body.lat, lon=body.lon
    )
    session.add(township)
    return schemas.TownshipOut.model_validate(township, from_attributes=True)


def places(session: Session, *, township: str | None) -> list[schemas.PlaceOut]:
    """Townships with their villages and communities."""
    query = select(Township).order_by(Township.position, Township.name)
    if township is not None:
        query = query.where(Township.name == township)
    tows = list(session.scalars(query))
    villages: dict[str, list[schemas.VillageOut]] = {}
    vquery = select(Village).order_by(Village.township, Village.name)
    if township is not None:
        vquery = vquery.where(Village.township == township)
    for v in session.scalars(vquery):
        villages.setdefault(v.township, []).append(
            schemas.VillageOut.model_validate(v, from_attributes=True)
        )
    return [
        schemas.PlaceOut(
            name=t.name, name_en=t.name_en, lat=t.lat, lon=t.lon, villages=villages.get(t.name, [])
        )
        for t in tows
    ]


def create_village(session: Session, body: schemas.VillageCreate) -> schemas.VillageOut:
    require_township(session, body.township)
    exists = session.scalar(
        select(Village.id).where(Village.township == body.township, Village.name == body.name)
    )
    if exists is not None:
        raise Conflict(DUPLICATE_PLACE, f"{body.name} exists already in {body.township}")
    village = Village(
        township=body.township, name=body.name, kind=body.kind.value, lat=body.lat, lon=body.lon
    )
    session.add(village)
    session.flush()
    return schemas.VillageOut.model_validate(village, from_attributes=True)
