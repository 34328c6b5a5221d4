"""Automated follow-up calls, the call-center queue with claims, SMS, complaints.

Follow-up tasks gain their queue (when and why they reached staff, priority), the agent's
claim (a lease), what the automated call heard, and who settled them. Calls and SMS are
recorded as intents before Twilio is asked, under unique keys. Complaints are the admins'
list. Tasks already open are backfilled as queued when they were created.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("follow_ups") as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("queue_reason", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="3"))
        batch.add_column(sa.Column("call_rating", sa.String(length=20), nullable=True))
        batch.add_column(
            sa.Column("call_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("settled_by", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("agent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_follow_ups_queue", ["status", "priority", "queued_at"])
    op.execute("UPDATE follow_ups SET queued_at = created_at, queue_reason = 'no_automated_call'")
    op.execute("UPDATE follow_ups SET settled_by = 'staff' WHERE status = 'done'")
    # Server defaults only fill the existing rows; the application always writes these.
    with op.batch_alter_table("follow_ups") as batch:
        batch.alter_column("priority", server_default=None)
        batch.alter_column("call_attempts", server_default=None)

    op.create_table(
        "follow_up_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("call_sid", sa.String(length=40), nullable=True),
        sa.Column("to_number", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_status", sa.String(length=20), nullable=True),
        sa.Column("answered_by", sa.String(length=30), nullable=True),
        sa.Column("digits", sa.String(length=10), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_ups.id"],
            name=op.f("fk_follow_up_calls_follow_up_id_follow_ups"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_follow_up_calls_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_calls")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_follow_up_calls_call_sid")),
        sa.UniqueConstraint(
            "order_id", "attempt", name=op.f("uq_follow_up_calls_order_id_attempt")
        ),
    )
    op.create_index(op.f("ix_follow_up_calls_follow_up_id"), "follow_up_calls", ["follow_up_id"])

    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("notice", sa.String(length=30), nullable=False),
        sa.Column("recipient_kind", sa.String(length=20), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("to_number", sa.String(length=24), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("message_sid", sa.String(length=40), nullable=True),
        sa.Column("delivery_status", sa.String(length=20), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_sms_messages_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_sms_messages_key")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_sms_messages_message_sid")),
    )
    op.create_index(op.f("ix_sms_messages_order_id"), "sms_messages", ["order_id"])

    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note_id", sa.String(length=36), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolution_note_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["follow_up_id"], ["follow_ups.id"], name=op.f("fk_complaints_follow_up_id_follow_ups")
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["order_notes.id"], name=op.f("fk_complaints_note_id_order_notes")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_complaints_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["resolution_note_id"],
            ["order_notes.id"],
            name=op.f("fk_complaints_resolution_note_id_order_notes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("follow_up_id", name=op.f("uq_complaints_follow_up_id")),
    )
    op.create_index(op.f("ix_complaints_order_id"), "complaints", ["order_id"])
    op.create_index(op.f("ix_complaints_status"), "complaints", ["status"])
    # Complaints recorded before this revision become open items on the admins' list.
    op.execute(
        "INSERT INTO complaints (order_id, follow_up_id, status, created_at, note_id) "
        "SELECT order_id, id, 'open', done_at, note_id FROM follow_ups "
        "WHERE status = 'done' AND outcome = 'complaint'"
    )


def downgrade() -> None:
    op.drop_table("complaints")
    op.drop_table("sms_messages")
    op.drop_table("follow_up_calls")
    with op.batch_alter_table("follow_ups") as batch:
        batch.drop_index("ix_follow_ups_queue")
        for name in (
            "claim_expires_at",
            "claimed_by",
            "agent_id",
            "settled_by",
            "call_attempts",
            "call_rating",
            "priority",
            "queue_reason",
            "queued_at",
        ):
            batch.drop_column(name)
