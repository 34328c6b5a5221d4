"""SMS replies: each inbound message applied once (by ``MessageSid``), and opt-outs.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbound_sms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_sid", sa.String(length=40), nullable=False),
        sa.Column("sender", sa.String(length=60), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_sms")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_inbound_sms_message_sid")),
    )
    op.create_index(
        "ix_inbound_sms_sender_received", "inbound_sms", ["sender", "received_at"], unique=False
    )
    op.create_table(
        "sms_opt_outs",
        sa.Column("phone", sa.String(length=24), nullable=False),
        sa.Column("opted_out_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_sms_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("sms_opt_outs")
    op.drop_index("ix_inbound_sms_sender_received", table_name="inbound_sms")
    op.drop_table("inbound_sms")
