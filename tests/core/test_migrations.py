"""The migrations build exactly the schema the models describe, both ways, on both databases."""

from __future__ import annotations

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
    delete,
    func,
    insert,
    select,
    table,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError

from core.db import Base, UTCDateTime, make_engine
from core.dbadmin import temporary_database
from core.migrate import alembic_config, upgrade
from core.models import (
    AuditEntry,
    CategoryTrade,
    DispatchPolicyRow,
    Order,
    Resident,
    Township,
    Village,
)
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


# ---- the audit log against its owner ---------------------------------------------------------


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
