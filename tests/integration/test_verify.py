"""``python -m api.cli verify [--repair]`` against the running workflows, and a restored dump
of the application database checked the same way (docs/operations.md, backup and restore)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import make_url

from core.db import utcnow
from core.dbadmin import temporary_database
from core.models import Escalation, FollowUp, Order, OrderEvent
from core.settings import ROOT, Settings
from tests.conftest import ADMIN_URL
from tests.integration.test_http_lifecycle import (
    ok,
    order_placed,
    register,
    wait_for_follow_up,
)
from tests.signin import People


async def cli(settings: Settings, *args: str) -> tuple[int, str]:
    """Run the operators' command as an operator would; its exit status and output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api.cli",
        *args,
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "TEMPORAL_ADDRESS": settings.temporal_address,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return await proc.wait(), out.decode()


async def two_orders(people: People, township: str) -> str:
    """One order pending and one dispatched; the dispatched one's public id."""
    admin = await people.admin()
    volunteer_id = await register(admin, township)
    await order_placed(people, township)
    order_id = await order_placed(people, township)
    await ok(
        await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer_id})
    )
    return order_id


async def test_verify_finds_a_drifted_row_and_repair_fixes_it_once(
    worker: None, people: People, township: str, engine: Engine, live_settings: Settings
) -> None:
    order_id = await two_orders(people, township)
    status, out = await cli(live_settings, "verify", "--township", township)
    assert status == 0, out
    with engine.begin() as conn:
        # As if a projection had been lost or a row edited by hand.
        conn.execute(
            update(Order)
            .where(Order.public_id == order_id)
            .values(status="pending", volunteer_id=None)
        )

    status, out = await cli(live_settings, "verify", "--township", township)
    assert status == 1, out
    assert f"order {order_id}: status, volunteer_id differ\n" in out
    assert "checked 2, drifted 1, repaired 0" in out

    status, out = await cli(live_settings, "verify", "--repair", "--township", township)
    assert status == 0, out
    assert f"order {order_id}: status, volunteer_id differ (repaired)" in out
    with engine.connect() as conn:
        row = conn.execute(
            select(Order.status, Order.volunteer_id).where(Order.public_id == order_id)
        ).one()
    assert row.status == "dispatched" and row.volunteer_id is not None

    status, out = await cli(live_settings, "verify", "--repair", "--township", township)
    assert (status, out.splitlines()[-1]) == (
        0,
        "checked 2, drifted 0, repaired 0, unanswered 0",
    ), out


async def test_verify_checks_the_trail_escalations_and_follow_up_and_repair_leaves_them(
    worker: None, people: People, township: str, engine: Engine, live_settings: Settings
) -> None:
    order_id = await order_placed(people, township)
    base = f"/api/orders/{order_id}"
    admin = await people.admin()
    volunteer_id = await register(admin, township)
    await ok(await admin.post(f"{base}/dispatch", json={"volunteer_id": volunteer_id}))
    volunteer = await people.volunteer(volunteer_id)
    await ok(await volunteer.post(f"{base}/accept"))
    await ok(await volunteer.post(f"{base}/complete", json={"summary": "已办好", "hours": 1.5}))
    resident = await people.resident()
    await ok(await resident.post(f"{base}/review", json={"rating": "satisfied"}))
    follow_up = await wait_for_follow_up(await people.agent(), order_id)
    assert follow_up["status"] == "open"  # no automated calls here: straight to the queue
    # A reviewed order is no longer open: --all takes it in.
    status, out = await cli(live_settings, "verify", "--all", "--township", township)
    assert (status, out.splitlines()[-1]) == (
        0,
        "checked 1, drifted 0, repaired 0, unanswered 0",
    ), out

    with engine.begin() as conn:
        pk = conn.scalar(select(Order.id).where(Order.public_id == order_id))
        # A lost audit event, an escalation that never happened, a follow-up set back, and a
        # column of the row itself.
        conn.execute(delete(OrderEvent).where(OrderEvent.order_id == pk, OrderEvent.seq == 2))
        conn.execute(insert(Escalation).values(order_id=pk, level=1, at=utcnow()))
        conn.execute(update(FollowUp).where(FollowUp.order_id == pk).values(status="calling"))
        conn.execute(update(Order).where(Order.id == pk).values(hours=None))

    by_hand = "events, escalations, follow_up differ (not repairable from the workflow's state)"
    status, out = await cli(live_settings, "verify", "--all", "--township", township)
    assert status == 1, out
    assert f"order {order_id}: hours differ; {by_hand}\n" in out

    # The row is rewritten; what only people and the history know is reported, never guessed.
    status, out = await cli(live_settings, "verify", "--all", "--repair", "--township", township)
    assert status == 1, out
    assert f"order {order_id}: hours differ (repaired); {by_hand}\n" in out
    status, out = await cli(live_settings, "verify", "--all", "--repair", "--township", township)
    assert status == 1, out
    assert out.splitlines() == [
        f"order {order_id}: {by_hand}",
        "checked 1, drifted 1, repaired 0, unanswered 0",
    ], out
    with engine.connect() as conn:
        assert conn.scalar(select(Order.hours).where(Order.id == pk)) == 1.5
        assert conn.scalar(select(FollowUp.status).where(FollowUp.order_id == pk)) == "calling"


async def test_a_restored_dump_of_the_app_database_agrees_with_the_workflows(
    worker: None,
    people: People,
    township: str,
    database_url: str,
    live_settings: Settings,
    tmp_path: Path,
) -> None:
    await two_orders(people, township)
    dump = tmp_path / "app.dump"
    await _run(_tool("pg_dump"), "--format=custom", f"--file={dump}", _libpq(database_url))
    with temporary_database(ADMIN_URL, prefix="fourorders_restore", migrate=False) as restored:
        await _run(_tool("pg_restore"), "--no-owner", f"--dbname={_libpq(restored)}", str(dump))
        status, out = await cli(
            live_settings.model_copy(update={"database_url": restored}),
            "verify",
            "--township",
            township,
        )
    assert (status, out.splitlines()[-1]) == (
        0,
        "checked 2, drifted 0, repaired 0, unanswered 0",
    ), out


def _libpq(url: str) -> str:
    """The URL as PostgreSQL's own tools take it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found is not None, f"{name} (PostgreSQL's client tools) is needed on PATH"
    return found


async def _run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    assert await proc.wait() == 0, out.decode()
