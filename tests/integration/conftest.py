"""Integration: the real API (in-process), a real worker, the Temporal dev server, PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from api.database import Database
from api.main import create_app
from core.settings import Settings
from core.tracing import Tracing
from tests.phones import with_twilio
from tests.signin import People
from twilio_sim import ThreadedServer
from worker import build_worker


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


@asynccontextmanager
async def app_client(
    settings: Settings, *, tracing: Tracing | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the real app with these settings, its lifespan run."""
    app = create_app(settings, reconcile_every=timedelta(hours=1), tracing=tracing)
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


@pytest.fixture
async def people_with_sms(
    live_settings: Settings,
    sim_server: ThreadedServer,
    temporal: Client,
    engine: Engine,
    database: Database,
) -> AsyncIterator[People]:
    """Callers on the real app, and a worker, both sending SMS through the simulator; Twilio
    reaches the app at ``http://testserver`` (sign its webhooks for that)."""
    settings = with_twilio(
        live_settings, api_base_url=sim_server.base_url, public_base_url="http://testserver"
    )
    with ThreadPoolExecutor(max_workers=settings.worker_max_concurrent_activities) as pool:
        async with (
            build_worker(temporal, engine, settings, executor=pool),
            app_client(settings) as client,
        ):
            yield People(client, database, settings)
