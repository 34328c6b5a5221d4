"""The one gateway to the order workflows: every start, Update, signal and query that the
API, its webhooks and its tools send an order's workflow goes through here.

It knows Temporal and the workflow's messages, nothing of HTTP: an order that has no workflow
(not started yet, or ended) answers ``None`` or ``False`` where that is an ordinary answer,
and every other failure is the caller's to map (``api.errors.raise_for_update_failure``).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from workflows.order import (
    CallProgress,
    OrderInput,
    OrderView,
    OrderWorkflow,
    initial_search_attributes,
    summary,
    workflow_id,
)

A = TypeVar("A")


def not_found(exc: RPCError) -> bool:
    return exc.status == RPCStatusCode.NOT_FOUND


@dataclass(frozen=True)
class OrderGateway:
    client: Client

    def _handle(self, order_id: int) -> WorkflowHandle[OrderWorkflow, OrderView]:
        return self.client.get_workflow_handle_for(OrderWorkflow.run, workflow_id(order_id))

    async def start(self, inp: OrderInput, *, task_queue: str) -> None:
        """Start the order's workflow unless it exists already (any number of times)."""
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self.client.start_workflow(
                OrderWorkflow.run,
                inp,
                id=workflow_id(inp.order_id),
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                # A finished order's id is never reused: a late retry must not reopen it.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=initial_search_attributes(inp),
                static_summary=summary(inp),
            )

    async def update(
        self,
        order_id: int,
        update: UpdateMethodMultiParam[[OrderWorkflow, A], OrderView],
        arg: A,
        *,
        update_id: str | None,
    ) -> OrderView:
        """Apply one command; ``WorkflowUpdateFailedError`` when the workflow refuses it, and
        an ``RPCError`` (``not_found`` for a workflow not started) when it was not reached."""
        return await self._handle(order_id).execute_update(update, arg, id=update_id)

    async def state(
        self, order_id: int, *, rpc_timeout: timedelta | None = None
    ) -> OrderView | None:
        """The order as its workflow holds it; ``None`` while it has no workflow."""
        try:
            return await self._handle(order_id).query(OrderWorkflow.state, rpc_timeout=rpc_timeout)
        except RPCError as exc:
            if not_found(exc):
                return None
            raise

    async def call_progress(self, order_id: int, progress: CallProgress) -> bool:
        """Tell the workflow how its follow-up call went; ``False`` once it has ended (a late
        or repeated callback has nothing left to change)."""
        try:
            await self._handle(order_id).signal(OrderWorkflow.call_progress, progress)
        except RPCError as exc:
            if not_found(exc):
                return False
            raise
        return True

    async def never_applied(self, order_id: int, update_id: str, *, within: timedelta) -> bool:
        """Whether the Update ``update_id`` certainly never applied: refused, or unknown to
        the workflow. One admitted and still waiting for a worker will apply: ``False``."""
        update = self.client.get_workflow_handle(workflow_id(order_id)).get_update_handle(update_id)
        try:
            async with asyncio.timeout(within.total_seconds()):
                await update.result(rpc_timeout=within)
        except WorkflowUpdateFailedError:
            return True
        except RPCError as exc:
            return not_found(exc)
        except TimeoutError:
            return False
        return False
