"""The resident and volunteer apps.

Orders gain the volunteer's check-in and check-out, the resident's hurry (催办) count and
the review's channel (online or on site); complaints may come from the resident without a
follow-up; photos of the work are listed (their bytes live in the media store); a follow-up
call may ask the resident to confirm their own rating; volunteers may choose the name
residents see.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("checked_in_at", WHEN, nullable=True))
        batch.add_column(sa.Column("checked_out_at", WHEN, nullable=True))
        batch.add_column(sa.Column("hurry_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_hurried_at", WHEN, nullable=True))
        batch.add_column(sa.Column("review_channel", sa.String(length=10), nullable=True))
    with op.batch_alter_table("complaints") as batch:
        batch.alter_column("follow_up_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(
            sa.Column("source", sa.String(length=10), nullable=False, server_default="follow_up")
        )
    with op.batch_alter_table("follow_up_calls") as batch:
        batch.add_column(sa.Column("confirm_rating", sa.String(length=20), nullable=True))
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("display_name", sa.String(length=20), nullable=True))
    op.create_table(
        "photos",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", WHEN, nullable=False),
        sa.Column("attached", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_photos_order_id", "photos", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_photos_order_id", table_name="photos")
    op.drop_table("photos")
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_column("display_name")
    with op.batch_alter_table("follow_up_calls") as batch:
        batch.drop_column("confirm_rating")
    op.execute("DELETE FROM complaints WHERE follow_up_id IS NULL")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("source")
        batch.alter_column("follow_up_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("review_channel")
        batch.drop_column("last_hurried_at")
        batch.drop_column("hurry_count")
        batch.drop_column("checked_out_at")
        batch.drop_column("checked_in_at")
