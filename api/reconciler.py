"""The API's reconciler: a loop that starts the workflows whose start never got through."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Client

from api.commands import OrderCommands
from api.database import Database
from api.stores import orders
from core.settings import Settings

log = logging.getLogger(__name__)


async def reconcile_forever(
    client: Client, db: Database, settings: Settings, *, every: timedelta
) -> None:
    """Every ``every``, start the workflows whose start never got through."""
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            await reconcile_once(client, db, settings, older_than=every)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("reconciling order workflows failed")


async def reconcile_once(
    client: Client, db: Database, settings: Settings, *, older_than: timedelta
) -> int:
    """Start workflows for orders committed without one (the API died, Temporal was down)."""
    commands = OrderCommands(client, db, settings)
    missing = await db.run(orders.orders_without_workflow, older_than=older_than)
    for order in missing:
        await commands.ensure_workflow(order)
        log.warning("started the missing workflow of order %s", order.order_id)
    return len(missing)
