"""The API's reconciler: it starts the workflows whose start never got through, flags the
orders whose workflow ended outside the API (terminated or reset in the Temporal UI, failed,
timed out), which would otherwise sit open while every command is refused, and removes the
notes of commands that never reached their workflow."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Client

from api.commands import OrderCommands
from api.database import Database
from api.gateway import OrderGateway
from api.stores import orders
from core.db import utcnow
from core.security import SYSTEM
from core.settings import Settings
from core.workflow_ids import order_id_of

log = logging.getLogger(__name__)


async def reconcile_forever(
    client: Client, db: Database, settings: Settings, *, every: timedelta
) -> None:
    """Every ``every``, start the workflows whose start never got through."""
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            await reconcile_once(client, db, settings, older_than=every)
            await flag_lost_once(client, db, within=LOST_LOOKBACK)
            # Past the API's own wait, an Update that has not reached the workflow never will.
            await drop_orphan_notes(client, db, older_than=max(every, 2 * settings.command_timeout))
        except Exception:  # keep the loop alive; the next round retries
            log.exception("reconciling order workflows failed")


async def reconcile_once(
    client: Client, db: Database, settings: Settings, *, older_than: timedelta
) -> int:
    """Start workflows for orders committed without one (the API died, Temporal was down)."""
    commands = OrderCommands(OrderGateway(client), db, settings, SYSTEM)
    missing = await db.run(orders.orders_without_workflow, older_than=older_than)
    for order in missing:
        await commands.ensure_workflow(order)
        log.warning("started the missing workflow of order %s", order.order_id)
    return len(missing)


# Looking back this far each round finds what closed since, and again after an API restart.
LOST_LOOKBACK = timedelta(days=2)
LOST_STATUSES = ("Terminated", "Failed", "TimedOut", "Canceled")


async def flag_lost_once(client: Client, db: Database, *, within: timedelta) -> int:
    """Flag open orders whose workflow closed abnormally; how many were newly flagged."""
    since = (utcnow() - within).strftime("%Y-%m-%dT%H:%M:%SZ")
    statuses = " OR ".join(f'ExecutionStatus = "{s}"' for s in LOST_STATUSES)
    query = f'WorkflowType = "OrderWorkflow" AND ({statuses}) AND CloseTime > "{since}"'
    lost: dict[int, str] = {}
    async for execution in client.list_workflows(query):
        order_id = order_id_of(execution.id)
        if order_id is not None and execution.status is not None:
            lost[order_id] = execution.status.name.lower()
    flagged = await db.run(orders.flag_lost, lost) if lost else 0
    if flagged:
        log.warning("%d order(s) lost their workflow outside the API; flagged for admins", flagged)
    return flagged


async def drop_orphan_notes(client: Client, db: Database, *, older_than: timedelta) -> int:
    """Remove the notes of commands that never applied; how many were removed.

    A note's id is its command's Update id (``OrderCommands.send_update``): Temporal knows
    the Update if it reached the workflow, and then the note stays for its projection.
    """
    dropped = 0
    for note_id, order_id in await db.run(
        orders.unattached_notes, older_than=older_than, within=LOST_LOOKBACK
    ):
        if await OrderGateway(client).never_applied(order_id, note_id, within=UPDATE_POLL):
            await db.run(orders.drop_note, note_id)
            dropped += 1
    if dropped:
        log.warning("removed %d note(s) of commands that never reached their workflow", dropped)
    return dropped


UPDATE_POLL = timedelta(seconds=5)
