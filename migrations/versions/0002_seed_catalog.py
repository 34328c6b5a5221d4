"""Seed the service menu: 13 categories and 36 sub-items.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.catalog import SEED_CATALOG

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

categories = sa.table(
    "categories",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("name_en", sa.String),
    sa.column("position", sa.Integer),
)
items = sa.table(
    "catalog_items",
    sa.column("code", sa.String),
    sa.column("category_code", sa.String),
    sa.column("name", sa.String),
    sa.column("name_en", sa.String),
    sa.column("position", sa.Integer),
    sa.column("active", sa.Boolean),
)


def upgrade() -> None:
    op.bulk_insert(
        categories,
        [
            {"code": c.code, "name": c.name, "name_en": c.name_en, "position": n}
            for n, c in enumerate(SEED_CATALOG)
        ],
    )
    op.bulk_insert(
        items,
        [
            {
                "code": i.code,
                "category_code": c.code,
                "name": i.name,
                "name_en": i.name_en,
                "position": n,
                "active": True,
            }
            for c in SEED_CATALOG
            for n, i in enumerate(c.items)
        ],
    )


def downgrade() -> None:
    codes = [c.code for c in SEED_CATALOG]
    op.execute(items.delete().where(items.c.category_code.in_(codes)))
    op.execute(categories.delete().where(categories.c.code.in_(codes)))
