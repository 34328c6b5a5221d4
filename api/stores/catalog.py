"""The service menu: categories and their active items; county admins edit the items."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from api import schemas
from api.stores import audit
from api.stores.errors import DUPLICATE_ITEM, Conflict, found, unknown
from api.stores.rows import from_row
from core.models import CatalogItem, Category
from core.security import Principal


def catalog(session: Session) -> list[schemas.CategoryOut]:
    rows = session.scalars(
        select(Category).options(selectinload(Category.items)).order_by(Category.position)
    ).all()
    return [
        schemas.CategoryOut(
            code=c.code,
            name=c.name,
            name_en=c.name_en,
            items=[
                schemas.ItemOut(code=i.code, name=i.name, name_en=i.name_en)
                for i in c.items
                if i.active
            ],
        )
        for c in rows
    ]


def all_items(session: Session) -> list[schemas.CatalogItemOut]:
    """Every item, off the menu or not, in menu order (the console's catalog editor)."""
    rows = session.scalars(
        select(CatalogItem)
        .join(Category, Category.code == CatalogItem.category_code)
        .order_by(Category.position, CatalogItem.position, CatalogItem.code)
    )
    return [_item(i) for i in rows]


def _item(i: CatalogItem) -> schemas.CatalogItemOut:
    return from_row(schemas.CatalogItemOut, i)


def add_item(
    session: Session, body: schemas.CatalogItemCreate, actor: Principal, *, ip: str | None
) -> schemas.CatalogItemOut:
    """A new item at the end of its category; the code is for good (orders name it)."""
    if session.get(Category, body.category_code) is None:
        raise unknown("category_code", body.category_code)
    if session.get(CatalogItem, body.code) is not None:
        raise Conflict(DUPLICATE_ITEM, f"the catalog already has an item {body.code!r}")
    last = session.scalar(
        select(func.max(CatalogItem.position)).where(
            CatalogItem.category_code == body.category_code
        )
    )
    item = CatalogItem(
        code=body.code,
        category_code=body.category_code,
        name=body.name,
        name_en=body.name_en,
        position=(last or 0) + 1,
        active=True,
    )
    session.add(item)
    audit.record(session, actor, "catalog.add", f"item:{body.code}", ip=ip, name=body.name)
    session.flush()
    return _item(item)


def update_item(
    session: Session,
    code: str,
    body: schemas.CatalogItemPatch,
    actor: Principal,
    *,
    ip: str | None,
) -> schemas.CatalogItemOut:
    """Rename, or take off the menu and back; open orders keep the item they named."""
    item = found(session.get(CatalogItem, code), "catalog item", code)
    changes = body.model_dump(exclude_none=True)
    for field, value in changes.items():
        setattr(item, field, value)
    audit.record(session, actor, "catalog.update", f"item:{code}", ip=ip, **changes)
    session.flush()
    return _item(item)
