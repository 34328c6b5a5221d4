"""Orders gain a number people can read aloud (``2612 0457``: the month, then its place).

Existing orders are numbered in the order they came, month by month in county time
(``COUNTY_TIMEZONE``, as the settings read it, Asia/Shanghai by default), and each month's
counter starts after its last number.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from core.order_numbers import compose, month_of

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_number_counters",
        sa.Column("month", sa.String(4), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    # SQLite cannot make a column NOT NULL afterwards without rebuilding the table, which
    # would break 0008's triggers that name it: there the column starts with an empty
    # default, every row gets its number below, and the model's default numbers new rows.
    op.add_column(
        "orders",
        sa.Column(
            "number", sa.String(16), nullable=not sqlite, server_default="" if sqlite else None
        ),
    )
    timezone = os.environ.get("COUNTY_TIMEZONE", "Asia/Shanghai")
    placed: Counter[str] = Counter()
    rows = bind.execute(sa.text("SELECT id, submitted_at FROM orders ORDER BY submitted_at, id"))
    for order_id, submitted_at in rows.all():
        month = month_of(_aware(submitted_at), timezone)
        placed[month] += 1
        bind.execute(
            sa.text("UPDATE orders SET number = :number WHERE id = :id"),
            {"number": compose(month, placed[month]), "id": order_id},
        )
    for month, last in placed.items():
        bind.execute(
            sa.text("INSERT INTO order_number_counters (month, last) VALUES (:month, :last)"),
            {"month": month, "last": last},
        )
    if not sqlite:
        op.alter_column("orders", "number", existing_type=sa.String(16), nullable=False)
    op.create_index("ix_orders_number", "orders", ["number"], unique=True)


def _aware(value: object) -> datetime:
    # SQLite hands back text or naive times; both are stored as UTC.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def downgrade() -> None:
    op.drop_index("ix_orders_number", "orders")
    # No table rebuild on SQLite either (ALTER TABLE ... DROP COLUMN, since 3.35): 0008's
    # triggers name the table.
    op.drop_column("orders", "number")
    op.drop_table("order_number_counters")
