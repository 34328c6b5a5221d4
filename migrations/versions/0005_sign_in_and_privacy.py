"""Sign-in and roles, residents' privacy, the audit log.

Residents (a phone each), staff accounts, refresh tokens (hashes), SMS sign-in codes
(hashes) and the append-only audit log. Orders gain a public id (random, backfilled), their
resident and channel, a flag for a workflow lost outside the API, and an erasure mark;
notes say whether they are internal; volunteers carry a resident's own application.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import new_public_id
from core.phones import e164

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INTERNAL_NOTE_KINDS = (
    "dispatch_reason",
    "decline_reason",
    "follow_up_notes",
    "complaint_resolution",
)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=24), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("erased_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
        sa.UniqueConstraint("phone", name=op.f("uq_residents_phone")),
    )
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("townships", sa.JSON(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_accounts_username")),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("issued_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_refresh_tokens_family"), "refresh_tokens", ["family"])
    op.create_index(op.f("ix_refresh_tokens_subject"), "refresh_tokens", ["subject"])
    op.create_table(
        "sms_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=24), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_codes")),
    )
    op.create_index(op.f("ix_sms_codes_phone"), "sms_codes", ["phone"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    for column in ("at", "actor", "action"):
        op.create_index(op.f(f"ix_audit_log_{column}"), "audit_log", [column])
    _append_only("audit_log")

    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("public_id", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("resident_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("channel", sa.String(length=16), nullable=False, server_default="web")
        )
        batch.add_column(sa.Column("workflow_lost_at", WHEN, nullable=True))
        batch.add_column(sa.Column("workflow_lost_status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("erased_at", WHEN, nullable=True))
    _backfill_orders()
    with op.batch_alter_table("orders") as batch:
        batch.alter_column("public_id", existing_type=sa.String(length=24), nullable=False)
        batch.alter_column("channel", server_default=None)
        batch.create_unique_constraint(op.f("uq_orders_public_id"), ["public_id"])
        batch.create_foreign_key(
            op.f("fk_orders_resident_id_residents"), "residents", ["resident_id"], ["id"]
        )
        batch.create_index(op.f("ix_orders_resident_id"), ["resident_id"])

    with op.batch_alter_table("order_notes") as batch:
        batch.add_column(
            sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    notes = sa.table("order_notes", sa.column("kind", sa.String), sa.column("internal", sa.Boolean))
    op.execute(notes.update().where(notes.c.kind.in_(INTERNAL_NOTE_KINDS)).values(internal=True))
    with op.batch_alter_table("order_notes") as batch:
        batch.alter_column("internal", server_default=None)

    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("application", sa.String(length=10), nullable=True))
        batch.create_index(op.f("ix_volunteers_application"), ["application"])
    _volunteer_phones_e164()


def _backfill_orders() -> None:
    """Every order gets a random public id, and its resident by phone (E.164, China)."""
    conn = op.get_bind()
    orders = sa.table(
        "orders",
        sa.column("id", sa.Integer),
        sa.column("public_id", sa.String),
        sa.column("resident_id", sa.Integer),
        sa.column("resident_phone", sa.String),
        sa.column("submitted_at", WHEN),
    )
    residents = sa.table(
        "residents",
        sa.column("id", sa.Integer),
        sa.column("phone", sa.String),
        sa.column("created_at", WHEN),
    )
    known: dict[str, int] = {}
    rows = conn.execute(sa.select(orders.c.id, orders.c.resident_phone, orders.c.submitted_at))
    for order_id, phone, submitted_at in rows.all():
        number = e164(phone or "", country_code="86")
        resident_id = None
        if number is not None:
            if number not in known:
                known[number] = conn.execute(
                    residents.insert()
                    .values(phone=number, created_at=submitted_at)
                    .returning(residents.c.id)
                ).scalar_one()
            resident_id = known[number]
        conn.execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(public_id=new_public_id(), resident_id=resident_id)
        )


def _volunteer_phones_e164() -> None:
    """A volunteer signs in with their phone, which is compared in E.164."""
    conn = op.get_bind()
    volunteers = sa.table("volunteers", sa.column("id", sa.Integer), sa.column("phone", sa.String))
    for volunteer_id, phone in conn.execute(sa.select(volunteers.c.id, volunteers.c.phone)).all():
        number = e164(phone or "", country_code="86")
        if number is not None and number != phone:
            conn.execute(
                volunteers.update().where(volunteers.c.id == volunteer_id).values(phone=number)
            )


def _append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` in the database itself, not only in the API."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def downgrade() -> None:
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_index(op.f("ix_volunteers_application"))
        batch.drop_column("application")
    with op.batch_alter_table("order_notes") as batch:
        batch.drop_column("internal")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index(op.f("ix_orders_resident_id"))
        batch.drop_constraint(op.f("fk_orders_resident_id_residents"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_orders_public_id"), type_="unique")
        for name in (
            "erased_at",
            "workflow_lost_status",
            "workflow_lost_at",
            "channel",
            "resident_id",
            "public_id",
        ):
            batch.drop_column(name)
    op.drop_table("audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("sms_codes")
    op.drop_table("refresh_tokens")
    op.drop_table("staff_accounts")
    op.drop_table("residents")
