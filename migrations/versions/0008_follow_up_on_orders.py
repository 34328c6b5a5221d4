"""The follow-up's outcome and its complaint's status on the order row.

The overview's figures that depend on the follow-up (reached, verified hours, the rating
after verification, complaints …) joined a million follow-ups and their complaints to a
million orders; with both on the order they come from one scan of ``orders``. Triggers copy
``follow_ups.outcome`` and the status of a complaint a follow-up opened whenever they are
written, by whatever writes them (the projection, an admin resolving, a backfill, a test's
rows), so the copies cannot drift from their sources.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The covering indexes of 0007, now carrying the outcome too (a migration keeps its own copy
# of the list: it must not change when the models do).
BEFORE = [
    "id",
    "category_code",
    "channel",
    "status",
    "volunteer_id",
    "unit_id",
    "dispatched_at",
    "accepted_at",
    "completed_at",
    "deadline_at",
    "overdue",
    "escalation_level",
    "review_rating",
    "rating",
    "hours",
    "checked_in_at",
    "checked_out_at",
]
AFTER = [*BEFORE, "follow_up_outcome", "follow_up_complaint"]
# (source table, its column, the order's column, the condition on a source row to copy it:
# of complaints, only one a follow-up opened)
COPIES = (
    ("follow_ups", "outcome", "follow_up_outcome", "true"),
    ("complaints", "status", "follow_up_complaint", "{row}.follow_up_id IS NOT NULL"),
)


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_up_outcome", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("follow_up_complaint", sa.String(length=20), nullable=True))
    postgresql = op.get_bind().dialect.name == "postgresql"
    for source, value, target, counts in COPIES:
        rows = (
            f"FROM {source} s WHERE s.order_id = orders.id AND s.{value} IS NOT NULL "
            f"AND {counts.format(row='s')}"
        )
        op.execute(
            f"UPDATE orders SET {target} = (SELECT s.{value} {rows}) WHERE EXISTS (SELECT 1 {rows})"
        )
        # Only a change writes the order row: a rewrite of the same value costs nothing.
        copy = (
            f"UPDATE orders SET {target} = NEW.{value} WHERE id = NEW.order_id "
            f"AND {target} IS {'DISTINCT FROM' if postgresql else 'NOT'} NEW.{value}"
        )
        name = f"{source}_{value}_to_order"
        if postgresql:
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN IF {counts.format(row='NEW')} THEN {copy}; END IF; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OF {value} ON {source} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
            continue
        for verb in ("INSERT", f"UPDATE OF {value}"):
            op.execute(
                f"CREATE TRIGGER {name}_{verb.split()[0].lower()} AFTER {verb} ON {source} "
                f"WHEN {counts.format(row='NEW')} BEGIN {copy}; END"
            )
    _covering_indexes(AFTER)


def downgrade() -> None:
    for source, value, _, _ in COPIES:
        name = f"{source}_{value}_to_order"
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER {name} ON {source}")
            op.execute(f"DROP FUNCTION {name}()")
        else:
            for verb in ("insert", "update"):
                op.execute(f"DROP TRIGGER {name}_{verb}")
    _covering_indexes(BEFORE)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("follow_up_complaint")
        batch_op.drop_column("follow_up_outcome")


def _covering_indexes(columns: list[str]) -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_township_submitted_at")
        batch_op.drop_index("ix_orders_submitted_at")
        batch_op.create_index(
            "ix_orders_submitted_at", ["submitted_at"], postgresql_include=["township", *columns]
        )
        batch_op.create_index(
            "ix_orders_township_submitted_at",
            ["township", "submitted_at"],
            postgresql_include=columns,
        )
