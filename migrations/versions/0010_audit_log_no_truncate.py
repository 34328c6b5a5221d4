"""The audit log refuses TRUNCATE too.

0005's trigger refuses UPDATE and DELETE row by row; TRUNCATE fires no row trigger, so the
table's owner could still empty it in one statement. A statement-level trigger refuses that
on PostgreSQL (SQLite has no TRUNCATE: its ``DELETE FROM`` meets 0005's DELETE trigger).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # 0005's function raises "audit_log is append-only" whatever fired it.
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
