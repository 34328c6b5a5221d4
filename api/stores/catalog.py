"""The service menu: categories and their active items."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api import schemas
from core.models import Category


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
