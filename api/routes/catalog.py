"""County admins edit the service menu (深度拓展供需服务内容): add, rename, take off items.

The menu itself is public (``GET /api/catalog``, active items only); these routes are for
county-wide admins, since every township orders from the one menu. Every change is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from api import schemas
from api.auth import AdminActor, client_ip
from api.deps import DatabaseDep
from api.routes.registry import county_admin
from api.stores import catalog

router = APIRouter(prefix="/api/catalog", tags=["catalog"], responses=schemas.ERRORS)

ItemCodePath = Annotated[
    str, Path(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$", description="Item code")
]


@router.get("/items", response_model=list[schemas.CatalogItemOut])
async def list_items(actor: AdminActor, db: DatabaseDep) -> list[schemas.CatalogItemOut]:
    """Every item, those taken off the menu included, in menu order."""
    return await db.run(catalog.all_items)


@router.post("/items", status_code=status.HTTP_201_CREATED, response_model=schemas.CatalogItemOut)
async def add_item(
    actor: AdminActor, body: schemas.CatalogItemCreate, request: Request, db: DatabaseDep
) -> schemas.CatalogItemOut:
    """Add an item to a category; residents can order it at once. 409 ``DuplicateItem``."""
    county_admin(actor)
    return await db.run(catalog.add_item, body, actor, ip=client_ip(request))


@router.patch("/items/{item_code}", response_model=schemas.CatalogItemOut)
async def update_item(
    item_code: ItemCodePath,
    actor: AdminActor,
    body: schemas.CatalogItemPatch,
    request: Request,
    db: DatabaseDep,
) -> schemas.CatalogItemOut:
    """Rename an item, or take it off the menu (``active: false``); orders keep their item."""
    county_admin(actor)
    return await db.run(catalog.update_item, item_code, body, actor, ip=client_ip(request))
