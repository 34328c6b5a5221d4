"""Order commands: starting an order's workflow and sending it Updates, for every actor.

A command route is one call, ``commands.run(order, OrderWorkflow.accept, make_input, ...)``
for an order the caller may see (``stores.access.resolve``): the order is checked and any
free text stored (``stores.orders.prepare_command``),
the Update is sent (starting the workflow first if its start never got through), and the
answer is the order as it is now.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from temporalio.client import (
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError
from temporalio.workflow import UpdateMethodMultiParam

from api import schemas
from api.database import Database
from api.errors import raise_for_update_failure
from api.gateway import OrderGateway, not_found
from api.stores import orders
from api.stores.access import OrderRef
from api.stores.order_view import Center
from core.logs import bind_order
from core.security import Principal
from core.settings import Settings
from workflows.order import (
    OrderInput,
    OrderView,
    OrderWorkflow,
)
from workflows.order.messages import FollowUpPlan, OrderTimers

A = TypeVar("A")
PROJECTION_POLL_S = 0.05
log = logging.getLogger(__name__)

Note = tuple[str, str | None]
"""Free text a command carries: its kind and what the person typed (or nothing)."""


def timers(settings: Settings) -> OrderTimers:
    return OrderTimers(
        completion_sla_s=int(settings.completion_sla.total_seconds()),
        escalation_repeat_s=int(settings.escalation_repeat.total_seconds()),
        accept_timeout_s=int(settings.accept_timeout.total_seconds()),
        review_window_s=int(settings.review_window.total_seconds()),
        team_assign_timeout_s=int(settings.team_assign_timeout.total_seconds()),
        quiet_hours=settings.quiet_hours,
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
        after_review_s=int(settings.follow_up_after_review.total_seconds()),
    )


def workflows_url(settings: Settings) -> str:
    """Where staff see an order's workflow (the Temporal UI)."""
    return (
        f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{settings.temporal_namespace}/workflows"
    )


def center(settings: Settings) -> Center:
    return Center(
        name=settings.center_name,
        hotline=settings.center_hotline,
        offers=settings.offers,
    )


async def order_detail(
    db: Database, settings: Settings, order: OrderRef, reader: Principal, *, ip: str | None
) -> schemas.OrderOut:
    """The order with its timeline as the caller may read it (staff: linked to the Temporal UI)."""
    return await db.run(
        orders.order_detail,
        order,
        reader,
        ip=ip,
        workflows_url=workflows_url(settings),
        center=center(settings),
    )


@dataclass(frozen=True)
class OrderCommands:
    """The order workflows' gateway, the database and the settings a command needs."""

    workflows: OrderGateway
    db: Database
    settings: Settings
    principal: Principal
    # The caller's address, for the audit trail of what the answer lets them read.
    ip: str | None = None

    async def run(
        self,
        order: OrderRef,
        update: UpdateMethodMultiParam[[OrderWorkflow, A], OrderView],
        make_arg: Callable[[str | None], A],
        *,
        note: Note | None = None,
        volunteer_id: int | None = None,
        volunteer_must_be_active: bool = False,
    ) -> schemas.OrderOut:
        """Send one command to an order's workflow and answer with the order as it is then.

        The checks run first (see ``stores.orders.prepare_command``).
        Free text (``note`` = kind, text) is stored first and only its id enters the workflow;
        if the workflow rejects the command the text is removed again, so nothing changes.
        """
        note_id = await self.db.run(
            orders.prepare_command,
            order,
            volunteer_id=volunteer_id,
            volunteer_must_be_active=volunteer_must_be_active,
            note=note,
        )
        await self.send_update(order.id, update, make_arg(note_id), note_id=note_id)
        return await self.reread(order)

    async def reread(self, order: OrderRef) -> schemas.OrderOut:
        """The order as the caller may read it now: one transaction, the command's effect in it.

        The Update answers once the workflow has recorded the transition in the read model,
        so this read shows it (the timeline is the read model's, not the workflow's).
        """
        return await self.db.run(
            orders.order_detail_after_command,
            self.principal,
            order,
            ip=self.ip,
            workflows_url=workflows_url(self.settings),
            center=center(self.settings),
        )

    async def ensure_workflow(self, order: orders.Submitted) -> None:
        """Start the order's workflow unless it exists already; safe to call any number of times."""
        settings = self.settings
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
            number=order.number,
            item_name=order.item_name,
            # A caller who ordered by phone learns the number and the link by SMS at once.
            received_sms=order.off_screen,
        )
        await self.workflows.start(inp, task_queue=settings.temporal_task_queue)
        await self.db.run(orders.mark_workflow_started, order.order_id)

    async def send_update(
        self,
        order_id: int,
        update: UpdateMethodMultiParam[[OrderWorkflow, A], OrderView],
        arg: A,
        *,
        note_id: str | None,
    ) -> OrderView:
        """Send the Update; a rejection becomes an ApiError, and the note goes with it.

        The note's id is the Update's id, so the reconciler can ask Temporal whether a
        command whose answer never came reached the workflow (``drop_orphan_notes``).
        """
        bind_order(order_id)
        command = getattr(update, "__name__", "update")
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.settings.command_timeout.total_seconds()):
                try:
                    view = await self._execute(order_id, update, arg, note_id)
                    log.info("%s applied in %.0f ms", command, (time.monotonic() - started) * 1e3)
                    return view
                except WorkflowUpdateFailedError as exc:
                    rejected = exc
                # Rejected: nothing was applied, so the text goes too. On any other failure
                # the command may still apply, and its note must stay for it.
                if note_id is not None:
                    await self.db.run(orders.drop_note, note_id)
                log.info("%s refused by the workflow", command)
                # A retried command is refused as "already so" while the projection of the
                # first may still be running: answer once the read model says so too.
                await self._projection_caught_up(order_id)
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError) as exc:
            log.warning("%s not confirmed: %s", command, type(exc).__name__)
            raise_for_update_failure(exc)
        raise_for_update_failure(rejected)

    async def _execute(
        self,
        order_id: int,
        update: UpdateMethodMultiParam[[OrderWorkflow, A], OrderView],
        arg: A,
        note_id: str | None,
    ) -> OrderView:
        try:
            return await self.workflows.update(order_id, update, arg, update_id=note_id)
        except RPCError as exc:
            if not not_found(exc):
                raise
            # Not started yet (the submit's start did not get through): start it now.
            order = await self.db.run(orders.submitted_order, order_id)
            if order is None:
                raise
            await self.ensure_workflow(order)
            return await self.workflows.update(order_id, update, arg, update_id=note_id)

    async def _projection_caught_up(self, order_id: int) -> None:
        """Wait until the read model holds every transition the workflow has made."""
        shown = await self.workflows.state(order_id)
        seq = shown.seq if shown is not None else 0
        # Polled: the projection runs in the worker, which has no way to tell this process.
        while True:
            if await self.db.run(orders.projected_seq, order_id) >= seq:
                return
            await asyncio.sleep(PROJECTION_POLL_S)
