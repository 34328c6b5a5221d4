"""The migrations build exactly the schema the models describe, both ways, on both databases."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Engine,
    column,
    create_engine,
    delete,
    func,
    insert,
    select,
    table,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.stores import audit, sign_in
from core.db import Base, UTCDateTime, make_engine, psycopg2_url, utcnow
from core.dbadmin import temporary_database
from core.migrate import alembic_config, migrate, upgrade
from core.models import (
    AuditEntry,
    CategoryTrade,
    DispatchPolicyRow,
    Order,
    Resident,
    SmsCode,
    Township,
    Village,
    next_order_number,
)
from core.order_numbers import compose, month_of
from core.security import Principal
from core.settings import Settings
from core.vocab import Role
from tests.conftest import ADMIN_URL


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    with temporary_database(ADMIN_URL, prefix="fourorders_migr", migrate=False) as url:
        yield url


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_upgrade_matches_models_and_downgrade_round_trips(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        assert _diff(engine) == []
        with engine.connect() as conn:
            # The seed reached the new tables.
            assert (
                conn.scalar(select(DispatchPolicyRow.policy).where(DispatchPolicyRow.scope == "*"))
                == "manual"
            )
            assert conn.scalar(select(Township.lat).where(Township.name == "蓼皋街道")) is not None
            assert len(conn.execute(select(Village.id)).all()) >= 10
            assert len(conn.execute(select(CategoryTrade.trade_code)).all()) >= 13
        command.downgrade(alembic_config(empty_url), "0002")
        command.upgrade(alembic_config(empty_url), "head")
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_orders_before_sign_in_get_a_public_id_and_their_resident(empty_url: str) -> None:
    command.upgrade(alembic_config(empty_url), "0004")
    engine = make_engine(empty_url)
    now = datetime.now(UTC)
    row = {
        "item_code": "care.errands",
        "category_code": "care",
        "township": "蓼皋街道",
        "reason": "代买药品",
        "address": "龙井社区",
        "resident_name": "龙秀英",
        "status": "pending",
        "dispatch_policy": "manual",
        "dispatch_attempts": 0,
        "undispatchable": False,
        "submitted_at": now,
        "deadline_at": now,
        "overdue": False,
        "escalation_level": 0,
        "last_seq": 1,
        "updated_at": now,
    }
    try:
        # The orders table as revision 0004 knew it (the model has grown since).
        orders_0004 = table("orders", *(column(name) for name in [*row, "resident_phone"]))
        with engine.begin() as conn:
            for phone in ("13800138000", "+8613800138000", "138 0013 8001"):
                conn.execute(insert(orders_0004).values(**row, resident_phone=phone))
        command.upgrade(alembic_config(empty_url), "head")
        with engine.begin() as conn:
            rows = conn.execute(
                select(Order.public_id, Order.resident_id, Order.channel).order_by(Order.id)
            ).all()
            phones = dict(conn.execute(select(Resident.id, Resident.phone)).all())
            numbers = list(conn.scalars(select(Order.number).order_by(Order.id)))
            # The next order of the month numbers on from those the migration numbered.
            month = month_of(now, "Asia/Shanghai")
            following = next_order_number(conn, now)
            # The audit log is append-only in the database itself.
            conn.execute(
                insert(AuditEntry).values(actor="staff:1", action="test", target="x", detail={})
            )
        assert len({public_id for public_id, _, _ in rows}) == 3
        assert all(len(public_id) == 16 for public_id, _, _ in rows)
        assert [phones.get(rid or 0) for _, rid, _ in rows] == [
            "+8613800138000",
            "+8613800138000",
            "+8613800138001",
        ]
        assert {channel for _, _, channel in rows} == {"web"}
        assert numbers == [compose(month, place) for place in (1, 2, 3)]
        assert following == compose(month, 4)
        for change in (update(AuditEntry).values(actor="x"), delete(AuditEntry)):
            with pytest.raises(DBAPIError), engine.begin() as conn:
                conn.execute(change)
    finally:
        engine.dispose()


def test_orders_already_dispatched_get_their_first_times_from_the_event_log(
    empty_url: str,
) -> None:
    command.upgrade(alembic_config(empty_url), "0005")
    engine = make_engine(empty_url)
    t0 = datetime(2031, 1, 1, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            # Only the columns revision 0005 knew; the events of one order, out of order.
            orders_0005 = table(
                "orders",
                *(column(c) for c in ORDER_0005 if c != "updated_at"),
                *(column(c, UTCDateTime()) for c in ("submitted_at", "deadline_at", "updated_at")),
            )
            conn.execute(insert(orders_0005).values(**ORDER_0005, submitted_at=t0, deadline_at=t0))
            order_id = conn.scalar(text("SELECT id FROM orders"))
            events = table(
                "order_events",
                *(column(c) for c in ("order_id", "seq", "event", "actor")),
                column("data", JSON()),
                *(column(c, UTCDateTime()) for c in ("at", "recorded_at")),
            )
            for seq, event, hours in (
                (1, "submitted", 0),
                (4, "dispatched", 5),
                (2, "open_call", 1),
                (3, "accepted", 2),
                (5, "accepted", 6),
            ):
                conn.execute(
                    insert(events).values(
                        order_id=order_id,
                        seq=seq,
                        event=event,
                        actor="system",
                        at=t0 + timedelta(hours=hours),
                        data={},
                        recorded_at=t0,
                    )
                )
        command.upgrade(alembic_config(empty_url), "head")
        with engine.connect() as conn:
            got = conn.execute(select(Order.dispatched_at, Order.accepted_at)).one()
        assert tuple(got) == (t0 + timedelta(hours=1), t0 + timedelta(hours=2))
    finally:
        engine.dispose()


ORDER_0005 = {
    "public_id": "migrationtest0001",
    "channel": "web",
    "item_code": "care.errands",
    "category_code": "care",
    "township": "蓼皋街道",
    "reason": "代买药品",
    "address": "龙井社区",
    "resident_name": "龙秀英",
    "resident_phone": "+8613800138000",
    "status": "accepted",
    "dispatch_policy": "manual",
    "dispatch_attempts": 1,
    "undispatchable": False,
    "overdue": False,
    "escalation_level": 0,
    "last_seq": 5,
    "updated_at": datetime(2031, 1, 1, tzinfo=UTC),
}


def test_the_follow_up_outcome_reaches_its_order_however_it_is_written(empty_url: str) -> None:
    """Backfilled by 0008, then copied by the triggers on every insert and update; so is
    the status of a complaint the follow-up opened (not one the resident filed)."""
    command.upgrade(alembic_config(empty_url), "0007")
    engine = make_engine(empty_url)
    t0 = datetime(2031, 1, 1, tzinfo=UTC)
    orders_0007 = table(
        "orders",
        *(column(c) for c in ORDER_0005 if c != "updated_at"),
        *(column(c, UTCDateTime()) for c in ("submitted_at", "deadline_at", "updated_at")),
    )
    follow_ups = table(
        "follow_ups",
        *(column(c) for c in ("id", "order_id", "status", "outcome", "priority")),
        *(column(c) for c in ("call_attempts",)),
        column("created_at", UTCDateTime()),
    )
    complaints = table(
        "complaints",
        *(column(c) for c in ("order_id", "follow_up_id", "status", "source")),
        column("created_at", UTCDateTime()),
    )
    ids = []
    try:
        with engine.begin() as conn:
            for n in range(3):
                values = {**ORDER_0005, "public_id": f"migrationtest000{n}"}
                conn.execute(insert(orders_0007).values(**values, submitted_at=t0, deadline_at=t0))
            ids = list(conn.scalars(text("SELECT id FROM orders ORDER BY id")))
            conn.execute(
                insert(follow_ups).values(
                    order_id=ids[0], status="done", outcome="confirmed", priority=3,
                    call_attempts=1, created_at=t0,
                )
            )  # fmt: skip
            first = conn.scalar(text("SELECT id FROM follow_ups"))
            conn.execute(
                insert(complaints).values(
                    order_id=ids[0], follow_up_id=first, status="open", source="follow_up",
                    created_at=t0,
                )
            )  # fmt: skip
        command.upgrade(alembic_config(empty_url), "head")

        def outcomes() -> list[str | None]:
            with engine.connect() as conn:
                return list(conn.scalars(select(Order.follow_up_outcome).order_by(Order.id)))

        def complained() -> list[str | None]:
            with engine.connect() as conn:
                return list(conn.scalars(select(Order.follow_up_complaint).order_by(Order.id)))

        assert outcomes() == ["confirmed", None, None]
        assert complained() == ["open", None, None]
        with engine.begin() as conn:
            conn.execute(
                insert(follow_ups).values(
                    order_id=ids[1], status="calling", priority=3, call_attempts=0, created_at=t0
                )
            )
            conn.execute(
                insert(follow_ups).values(
                    order_id=ids[2], status="done", outcome="unreachable", priority=3,
                    call_attempts=3, created_at=t0,
                )
            )  # fmt: skip
        assert outcomes() == ["confirmed", None, "unreachable"]
        with engine.begin() as conn:
            conn.execute(
                update(follow_ups)
                .where(follow_ups.c.order_id == ids[1])
                .values(status="done", outcome="complaint")
            )
            conn.execute(
                update(follow_ups)
                .where(follow_ups.c.order_id == ids[0])
                .values(outcome="rating_corrected")
            )
        assert outcomes() == ["rating_corrected", "complaint", "unreachable"]
        with engine.begin() as conn:
            conn.execute(update(complaints).values(status="resolved"))
            second = conn.scalar(select(follow_ups.c.id).where(follow_ups.c.order_id == ids[1]))
            conn.execute(
                insert(complaints).values(
                    order_id=ids[1], follow_up_id=second, status="open", source="follow_up",
                    created_at=t0,
                )
            )  # fmt: skip
            conn.execute(
                insert(complaints).values(
                    order_id=ids[2], follow_up_id=None, status="open", source="resident",
                    created_at=t0,
                )
            )  # fmt: skip
        assert complained() == ["resolved", "open", None]
    finally:
        engine.dispose()


# ---- the audit log against its owner, and the application's role --------------------------


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    with temporary_database(ADMIN_URL, prefix="fourorders_migr", migrate=False) as url:
        yield url


def test_not_even_the_owner_can_truncate_the_audit_log(postgresql_url: str) -> None:
    upgrade(postgresql_url)
    engine = make_engine(postgresql_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(AuditEntry).values(actor="staff:1", action="t", target="x"))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(AuditEntry)) == 1
    finally:
        engine.dispose()


@pytest.fixture
def app_role() -> Iterator[str]:
    """A role name of this test's own on the test cluster, dropped afterwards."""
    name = f"fourorders_app_{uuid.uuid4().hex[:8]}"
    yield name
    admin = create_engine(psycopg2_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def _refused(engine: Engine, statement: str) -> str:
    """The SQLSTATE ``statement`` fails with."""
    with pytest.raises(DBAPIError) as failed, engine.begin() as conn:
        conn.execute(text(statement))
    return str(getattr(failed.value.orig, "pgcode", None))


INSUFFICIENT_PRIVILEGE = "42501"


def test_the_application_role_owns_nothing_and_may_only_add_to_the_audit_log(
    app_role: str, tmp_path: Path
) -> None:
    with temporary_database(ADMIN_URL, prefix="fourorders_roles", migrate=False) as owner_url:
        # A password the statements must quote right.
        app_url = (
            make_url(owner_url)
            .set(username=app_role, password="p%w:d'\"x")
            .render_as_string(hide_password=False)
        )
        settings = Settings(database_url=app_url, migration_database_url=owner_url)
        migrate(settings)
        migrate(settings)  # every deployment runs it again
        app = make_engine(app_url)
        owner = make_engine(owner_url)
        try:
            assert _password_of(owner, app_role, "p%w:d'\"x")
            _check_app_role(app, owner, app_role, settings, tmp_path)
        finally:
            app.dispose()
            owner.dispose()


def _password_of(owner: Engine, role: str, password: str) -> bool:
    """Whether ``role``'s stored SCRAM verifier is ``password``'s (the test cluster trusts
    local connections, so logging in would not tell)."""
    with owner.connect() as conn:
        verifier = conn.scalar(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": role}
        )
    found = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier or "")
    assert found, verifier
    iterations, salt, stored = int(found[1]), base64.b64decode(found[2]), found[3]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored


def _check_app_role(
    app: Engine, owner: Engine, role: str, settings: Settings, tmp_path: Path
) -> None:
    with app.connect() as conn:
        assert conn.scalar(text("SELECT current_user")) == role
        assert not conn.scalar(
            text("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                 "WHERE r.rolname = current_user")
        )  # fmt: skip

        def may(table_name: str, privilege: str) -> bool:
            return bool(
                conn.scalar(
                    text("SELECT has_table_privilege(:t, :p)"), {"t": table_name, "p": privilege}
                )
            )

        for name in Base.metadata.tables:
            rights = {
                p for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE") if may(name, p)
            }
            expected = (
                {"SELECT", "INSERT"}
                if name == "audit_log"
                else {"SELECT", "INSERT", "UPDATE", "DELETE"}
            )
            assert rights == expected, name
        assert not may("alembic_version", "SELECT")
    # The application's own statements: sequences, triggers, locks, the audit log.
    admin = Principal(subject="staff:1", roles=frozenset({Role.ADMIN}), staff_id=1)

    def work(session: Session) -> None:
        for code in ("111111", "222222"):  # the second ends the first (an UPDATE)
            sign_in.store_code(session, "+8613800001111", code, now=utcnow(), settings=settings)
        audit.record(session, admin, "resident.erase", "order:x", ip=None)
        session.flush()
        session.execute(select(SmsCode).with_for_update()).all()

    with Session(app) as session, session.begin():
        work(session)
    for statement in (
        "UPDATE audit_log SET actor = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "TRUNCATE sms_codes",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "ALTER TABLE orders ADD COLUMN extra integer",
        "CREATE TABLE public.mine (id integer)",
        "SELECT * FROM alembic_version",
    ):
        assert _refused(app, statement) == INSUFFICIENT_PRIVILEGE, statement
    # A table a later migration makes comes with the same rights.
    with owner.begin() as conn:
        conn.execute(text("CREATE TABLE later (id serial PRIMARY KEY, note text)"))
    with app.begin() as conn:
        conn.execute(text("INSERT INTO later (note) VALUES ('x')"))
        conn.execute(text("UPDATE later SET note = 'y'"))
        conn.execute(text("DELETE FROM later"))
