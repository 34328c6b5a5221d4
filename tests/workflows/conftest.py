"""Workflow tests run on Temporal's time-skipping test server, with the real activities."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.database import Database
from core.settings import Settings
from tests.helpers import Harness
from worker import build_worker


@pytest.fixture
async def system(
    env: WorkflowEnvironment,
    engine: Engine,
    database: Database,
    settings: Settings,
    township: str,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Harness]:
    """The environment's client with a worker on this test's task queue, and the database."""
    harness = Harness(env.client, database, settings, township)
    with ThreadPoolExecutor(max_workers=settings.worker_max_concurrent_activities) as executor:
        async with build_worker(env.client, engine, settings, executor=executor):
            yield harness
    if os.environ.get("RECORD_HISTORIES"):
        await harness.record_histories(request.node.name)
