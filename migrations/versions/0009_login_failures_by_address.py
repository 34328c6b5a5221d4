"""Wrong staff passwords counted per account and source address, not per account.

Five wrong passwords for ``admin`` from anywhere locked the account itself, so anyone could
lock the county out. ``login_failures`` counts them per account and source (an IPv4
address or an IPv6 /64) and locks out that source only. The account's own counter and lock
go; locks in force when this runs are dropped with them (they last minutes).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=48), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", WHEN, nullable=True),
        sa.Column("last_failed_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_login_failures_staff_id_staff_accounts"),
        ),
        sa.PrimaryKeyConstraint("staff_id", "source", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", WHEN, nullable=True))
    op.drop_table("login_failures")
