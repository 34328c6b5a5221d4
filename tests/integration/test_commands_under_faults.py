"""Commands around faults: a note whose command never reached the workflow does not stay
behind, and a retried command is never answered with a contradiction of the read model."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.database import Database
from api.reconciler import drop_orphan_notes
from api.stores import orders
from core.models import Order, OrderNote
from tests.helpers import lock_waits
from tests.integration.test_http_lifecycle import ok, order_placed, register
from tests.polling import eventually
from tests.signin import People


async def test_notes_of_commands_that_never_reached_the_workflow_are_removed(
    worker: None, people: People, township: str, database: Database, temporal: Client
) -> None:
    admin = await people.admin()
    volunteer_id = await register(admin, township)
    order_id = await order_placed(people, township)
    internal = await database.run(_internal_id, order_id)
    # As if the API died (or Temporal was down) between storing the note and the Update.
    orphan = await database.run(orders.add_note, internal, "dispatch_reason", "没有送达")
    dispatched = await ok(
        await admin.post(
            f"/api/orders/{order_id}/dispatch",
            json={"volunteer_id": volunteer_id, "reason": "离得最近"},
        )
    )
    assert dispatched["timeline"][-1]["note"] == "离得最近"

    # (Other tests sharing this database may have left orphans of their own: all go.)
    assert await drop_orphan_notes(temporal, database, older_than=timedelta(0)) >= 1
    assert await database.run(_notes, internal) == ["离得最近"]
    assert orphan not in await database.run(_note_ids, internal)
    assert await drop_orphan_notes(temporal, database, older_than=timedelta(0)) == 0


async def test_a_retried_command_is_refused_only_once_the_read_model_agrees(
    worker: None, people: People, township: str, engine: Engine
) -> None:
    admin = await people.admin()
    volunteer_id = await register(admin, township)
    volunteer = await people.volunteer(volunteer_id)
    order_id = await order_placed(people, township)
    await ok(
        await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer_id})
    )
    with engine.connect() as conn, conn.begin():
        # The first accept's projection waits for the order's row, as after a worker crash.
        conn.execute(select(Order.id).where(Order.public_id == order_id).with_for_update())
        first = asyncio.create_task(volunteer.post(f"/api/orders/{order_id}/accept"))
        await eventually(
            lambda: asyncio.to_thread(lock_waits, engine),
            lambda waiting: waiting > 0,
            what="the projection waiting for the order's row",
        )
        # The client gave up and sends it again: the workflow says "already accepted", the
        # read model still says dispatched; the answer must wait for them to agree.
        retry = asyncio.create_task(volunteer.post(f"/api/orders/{order_id}/accept"))
        done, _ = await asyncio.wait({retry}, timeout=1.0)
        assert not done, f"answered while the read model lagged: {retry.result().text}"
    refused = await retry
    assert refused.status_code == 409, refused.text
    order = await ok(await volunteer.get(f"/api/orders/{order_id}"))
    assert order["status"] == "accepted"
    assert (await ok(await first))["status"] == "accepted"


def _internal_id(session: Session, public_id: str) -> int:
    found = session.scalar(select(Order.id).where(Order.public_id == public_id))
    assert found is not None
    return found


def _notes(session: Session, order_id: int) -> list[str]:
    return list(session.scalars(select(OrderNote.body).where(OrderNote.order_id == order_id)))


def _note_ids(session: Session, order_id: int) -> list[str]:
    return list(session.scalars(select(OrderNote.id).where(OrderNote.order_id == order_id)))
