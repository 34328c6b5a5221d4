"""Starting order workflows and sending them commands, shared by every actor's routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from api import queries, schemas
from api.database import Database
from api.errors import raise_for_update_failure
from core.settings import Settings
from workflows.order import (
    OrderInput,
    OrderView,
    OrderWorkflow,
    initial_search_attributes,
    summary,
    workflow_id,
)
from workflows.order.messages import FollowUpPlan, OrderTimers

log = logging.getLogger(__name__)

A = TypeVar("A")


def timers(settings: Settings) -> OrderTimers:
    return OrderTimers(
        completion_sla_s=int(settings.completion_sla.total_seconds()),
        escalation_repeat_s=int(settings.escalation_repeat.total_seconds()),
        accept_timeout_s=int(settings.accept_timeout.total_seconds()),
        review_window_s=int(settings.review_window.total_seconds()),
        team_assign_timeout_s=int(settings.team_assign_timeout.total_seconds()),
    )


def follow_up_plan(settings: Settings) -> FollowUpPlan:
    """Automated calls only where a Twilio account is configured; staff only otherwise."""
    hours = settings.calling_hours
    return FollowUpPlan(
        max_calls=settings.follow_up_max_calls if settings.twilio_configured else 0,
        retry_delay_s=int(settings.follow_up_retry_delay.total_seconds()),
        call_timeout_s=int(settings.follow_up_call_timeout.total_seconds()),
        calling_start_minute=hours.start_minute,
        calling_end_minute=hours.end_minute,
        timezone=settings.county_timezone,
    )


async def ensure_workflow(
    client: Client, db: Database, settings: Settings, order: queries.Submitted
) -> None:
    """Start the order's workflow unless it exists already; safe to call any number of times."""
    inp = OrderInput(
        order_id=order.order_id,
        item_code=order.item_code,
        category_code=order.category_code,
        township=order.township,
        submitted_at=order.submitted_at.isoformat(),
        timers=timers(settings),
        dispatch_policy=order.dispatch_policy,
        max_dispatch_attempts=settings.max_dispatch_attempts,
        follow_up=follow_up_plan(settings),
        notify=settings.sms_enabled and settings.twilio_configured,
    )
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            OrderWorkflow.run,
            inp,
            id=workflow_id(order.order_id),
            task_queue=settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A finished order's id is never reused: a late retry must not reopen it.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=initial_search_attributes(inp),
            static_summary=summary(inp),
        )
    await db.run(queries.mark_workflow_started, order.order_id)


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
    missing = await db.run(queries.orders_without_workflow, older_than=older_than)
    for order in missing:
        await ensure_workflow(client, db, settings, order)
        log.warning("started the missing workflow of order %s", order.order_id)
    return len(missing)


async def send_update(
    client: Client,
    db: Database,
    settings: Settings,
    order_id: int,
    update: UpdateMethodMultiParam[[OrderWorkflow, A], OrderView],
    make_arg: Callable[[str | None], A],
    *,
    note: tuple[str, str | None] | None = None,
    volunteer_id: int | None = None,
    volunteer_must_be_active: bool = False,
) -> OrderView:
    """Send one command to an order's workflow and translate a rejection into an ApiError.

    The checks run first (see ``queries.prepare_command``).
    Free text (``note`` = kind, text) is stored first and only its id enters the workflow;
    if the workflow rejects the command the text is removed again, so nothing changes.
    """
    note_id = await db.run(
        queries.prepare_command,
        order_id,
        volunteer_id=volunteer_id,
        volunteer_must_be_active=volunteer_must_be_active,
        note=note,
    )
    handle = client.get_workflow_handle_for(OrderWorkflow.run, workflow_id(order_id))
    arg = make_arg(note_id)
    try:
        async with asyncio.timeout(settings.command_timeout.total_seconds()):
            try:
                return await handle.execute_update(update, arg)
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
                # Not started yet (the submit's start did not get through): start it now.
                order = await db.run(queries.submitted_order, order_id)
                if order is None:
                    raise
                await ensure_workflow(client, db, settings, order)
                return await handle.execute_update(update, arg)
    except WorkflowUpdateFailedError as exc:
        # Rejected: nothing was applied, so the text goes too. On any other failure the
        # command may still apply, and its note must stay for it.
        if note_id is not None:
            await db.run(queries.drop_note, note_id)
        raise_for_update_failure(exc)
    except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError) as exc:
        raise_for_update_failure(exc)


async def detail(db: Database, settings: Settings, order_id: int) -> schemas.OrderOut:
    return await db.run(
        queries.order_detail,
        order_id,
        workflows_url=(
            f"{settings.temporal_ui_url.rstrip('/')}/namespaces/"
            f"{settings.temporal_namespace}/workflows"
        ),
    )
