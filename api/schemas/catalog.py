"""The service menu's bodies."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    StringConstraints,
)

from api.schemas.base import Strict


class ItemOut(BaseModel):
    code: str
    name: str
    name_en: str


class CategoryOut(BaseModel):
    code: str
    name: str
    name_en: str
    items: list[ItemOut]


ItemCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=2, max_length=60, pattern=r"^[a-z0-9][a-z0-9_.-]*$"
    ),
]


ItemName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


ItemNameEn = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class CatalogItemCreate(Strict):
    """A new sub-item of the service menu (深度拓展供需服务内容)."""

    category_code: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    code: ItemCode
    name: ItemName
    name_en: ItemNameEn


class CatalogItemPatch(Strict):
    """Rename an item, or take it off the menu (``active: false``) and back."""

    name: ItemName | None = None
    name_en: ItemNameEn | None = None
    active: bool | None = None


class CatalogItemOut(ItemOut):
    category_code: str
    active: bool
    position: int
