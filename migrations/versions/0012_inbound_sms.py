"""Help without a smartphone: SMS replies (each inbound message applied once, by its
``MessageSid``), opt-outs, and callers the keypad menu hands to an agent (call requests).

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

    op.create_table(
        "call_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("call_sid", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=24), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("item_code", sa.String(length=60), nullable=True),
        sa.Column("recording_sid", sa.String(length=40), nullable=True),
        sa.Column("recording_seconds", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("claim_expires_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("done_at", WHEN, nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_code"],
            ["catalog_items.code"],
            name=op.f("fk_call_requests_item_code_catalog_items"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_call_requests_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_call_requests_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_requests")),
        sa.UniqueConstraint("call_sid", "kind", name=op.f("uq_call_requests_call_sid_kind")),
    )
    op.create_index(
        "ix_call_requests_queue", "call_requests", ["status", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_call_requests_queue", table_name="call_requests")
    op.drop_table("call_requests")
    op.drop_table("sms_opt_outs")
    op.drop_index("ix_inbound_sms_sender_received", table_name="inbound_sms")
    op.drop_table("inbound_sms")
