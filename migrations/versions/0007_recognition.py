"""Recognition and reports.

Orders gain when they were first dispatched and first accepted (projected from the event
log, and backfilled from it here), so report times read one row per order; indexes serve
the reports' period filters. Honour rolls (评先选优) are stored one row per period.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
# What the overview reads of an order: its period indexes carry them (index-only scans).
REPORT_COLUMNS = [
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


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("accepted_at", WHEN, nullable=True))
        batch_op.create_index(
            "ix_orders_submitted_at",
            ["submitted_at"],
            postgresql_include=["township", *REPORT_COLUMNS],
        )
        batch_op.create_index(
            "ix_orders_township_submitted_at",
            ["township", "submitted_at"],
            postgresql_include=REPORT_COLUMNS,
        )
        batch_op.create_index(
            "ix_orders_volunteer_id_completed_at", ["volunteer_id", "completed_at"]
        )
    for column, events in (
        ("dispatched_at", "'dispatched', 'open_call'"),
        ("accepted_at", "'accepted'"),
    ):
        op.execute(
            f"UPDATE orders SET {column} = (SELECT min(e.at) FROM order_events e "
            f"WHERE e.order_id = orders.id AND e.event IN ({events}))"
        )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_follow_ups_order_result", ["order_id"], postgresql_include=["status", "outcome"]
        )
    op.create_table(
        "honour_rolls",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("computed_at", WHEN, nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("volunteers", sa.JSON(), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("published_at", WHEN, nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_honour_rolls")),
    )


def downgrade() -> None:
    op.drop_table("honour_rolls")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index("ix_follow_ups_order_result")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_volunteer_id_completed_at")
        batch_op.drop_index("ix_orders_township_submitted_at")
        batch_op.drop_index("ix_orders_submitted_at")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("dispatched_at")
