"""The Temporal worker: runs ``OrderWorkflow``, the database and the Twilio activities.

``python worker.py`` runs until SIGINT or SIGTERM, then finishes in-flight activity
attempts (up to a grace period) and exits cleanly.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import (
    Interceptor,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.database import OrderProjector
from activities.recognition import RollRecorder
from activities.sms import SmsSender
from activities.voice import FollowUpCaller
from core.db import make_engine, utcnow
from core.logs import configure_logging
from core.security import link_code, volunteer_link_code
from core.settings import Settings, get_settings
from core.temporal import connect, metrics_runtime
from core.timeouts import STICKY_SCHEDULE_TO_START
from core.twilio import TwilioAccount
from workflows.order import OrderWorkflow
from workflows.recognition.schedules import ensure_schedules
from workflows.recognition.workflow import RecognitionWorkflow

if TYPE_CHECKING:
    from core.tracing import Tracing

log = logging.getLogger("worker")

WORKFLOWS: Sequence[type] = (OrderWorkflow, RecognitionWorkflow)


def build_worker(
    client: Client,
    engine: Engine,
    settings: Settings,
    *,
    executor: ThreadPoolExecutor,
    task_queue: str | None = None,
    interceptors: Sequence[Interceptor] = (),
) -> Worker:
    """The one place workers are assembled, for ``main`` and for the tests alike.

    ``interceptors`` are for a client built without them (tests): ``main``'s client carries
    its tracing interceptor, which its workers take on by themselves.
    """
    store = OrderProjector(engine, matching=settings.matching)
    # Registered with or without a Twilio account: an order that planned calls or SMS under
    # an earlier configuration gets a clear, non-retryable "not configured" failure.
    twilio = TwilioAccount.from_settings(settings)
    caller = FollowUpCaller(engine, twilio)
    sms = SmsSender(
        engine,
        twilio,
        escalation_to=settings.escalation_sms_to,
        timezone=settings.county_timezone,
        offers=settings.offers,
        signature=settings.sms_signature,
        order_link=lambda public_id: link_code(
            public_id, secret=settings.signing_secret, ttl=settings.order_link_ttl, now=utcnow()
        ),
        volunteer_link=lambda public_id, volunteer_id: volunteer_link_code(
            public_id,
            volunteer_id,
            secret=settings.signing_secret,
            ttl=settings.order_link_ttl,
            now=utcnow(),
        ),
    )
    recognition = RollRecorder(
        engine, weights=settings.recognition_weights, size=settings.recognition_roll_size
    )
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=list(WORKFLOWS),
        activities=[
            store.record_transition,
            store.pick_candidate,
            caller.place_follow_up_call,
            sms.send_sms,
            recognition.roll_figures,
            recognition.store_roll,
        ],
        activity_executor=executor,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        sticky_queue_schedule_to_start_timeout=STICKY_SCHEDULE_TO_START,
        graceful_shutdown_timeout=settings.worker_shutdown_grace,
        interceptors=interceptors,
        workflow_runner=workflow_runner(settings),
        build_id=build_id(),
    )


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """The sandbox unless ``WORKFLOW_SANDBOX`` turns it off (see core/settings.py)."""
    if settings.workflow_sandbox:
        return SandboxedWorkflowRunner()
    return UnsandboxedWorkflowRunner()


def build_id() -> str:
    """The label Temporal shows for the code that ran each workflow task: the workflows' sources.

    The SDK's default hashes the bytecode of every module loaded, a third of a CPU-second
    at each start (and a restarted worker is no use until it polls). Without worker
    versioning the id decides nothing; what it should name is the code that must replay.
    """
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent / "workflows").rglob("*.py")):
        digest.update(path.read_bytes())
    return f"four-orders-{digest.hexdigest()[:16]}"


def keep_bytecode() -> None:
    """Let the workflow sandbox reuse compiled modules.

    The sandbox imports the workflow modules afresh for every new workflow. Under
    ``PYTHONDONTWRITEBYTECODE`` (set in our image, and on many machines) no bytecode is
    cached, so each of those imports compiled ``workflows/order.py`` from source again:
    about 15% of the worker's CPU in the lifecycle benchmark (92 → 78 ms per lifecycle).
    A private cache in the temp directory costs one compile per module per process.
    """
    if sys.dont_write_bytecode:
        sys.pycache_prefix = sys.pycache_prefix or os.path.join(
            tempfile.gettempdir(), f"four-orders-bytecode-{os.getuid()}"
        )
        sys.dont_write_bytecode = False


async def main(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    configure_logging(settings)
    keep_bytecode()
    # One connection for every activity that may run at once: none waits for the pool.
    engine = make_engine(
        settings.database_url,
        pool_size=max(settings.database_pool_size, settings.worker_max_concurrent_activities),
    )
    tracing: Tracing | None = None
    if settings.otel_exporter_otlp_endpoint is not None:
        # Imported only when on: its instrumentations (FastAPI's among them) cost a restarted
        # worker a tenth of its start before it polls.
        from core.tracing import Tracing

        tracing = Tracing.from_settings(settings, service="four-orders-worker")
    if tracing is not None:
        tracing.instrument_engine(engine)
    client = await connect(
        settings,
        interceptors=tracing.interceptors() if tracing else (),
        runtime=metrics_runtime(settings),
    )
    await ensure_schedules(
        client, task_queue=settings.temporal_task_queue, timezone=settings.county_timezone
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(
        max_workers=settings.worker_max_concurrent_activities, thread_name_prefix="activity"
    ) as executor:
        worker = build_worker(client, engine, settings, executor=executor)
        log.info(
            "worker polling task queue %r on %s",
            settings.temporal_task_queue,
            settings.temporal_address,
        )
        async with worker:
            await stop.wait()
            log.info("shutting down")
    engine.dispose()
    if tracing is not None:
        tracing.shutdown()
    log.info("stopped")


if __name__ == "__main__":
    asyncio.run(main())
