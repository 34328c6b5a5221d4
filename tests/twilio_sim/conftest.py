"""The simulator and a webhook app, each served by uvicorn on a free port in a thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twilio.rest import Client

from tests.twilio_sim.webhook_app import Recorder, create_webhook_app
from twilio_sim import SimControl, ThreadedServer, create_app, twilio_client_for

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "sim-test-token"


@pytest.fixture(scope="session")
def recorder() -> Recorder:
    return Recorder(auth_token=AUTH_TOKEN)


@pytest.fixture(scope="session")
def webhook_server(recorder: Recorder) -> Iterator[ThreadedServer]:
    with ThreadedServer(create_webhook_app(recorder)) as server:
        yield server


@pytest.fixture(scope="session")
def sim_server() -> Iterator[ThreadedServer]:
    app = create_app(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, webhook_timeout=10.0)
    with ThreadedServer(app) as server:
        yield server


@pytest.fixture
def sim(sim_server: ThreadedServer, recorder: Recorder) -> Iterator[SimControl]:
    """The simulator's control API, with a clean slate for each test."""
    control = SimControl(sim_server.base_url)
    control.reset()
    recorder.clear()
    yield control
    control.close()


@pytest.fixture
def twilio(sim_server: ThreadedServer) -> Client:
    """The real twilio SDK client, talking to the simulator."""
    return twilio_client_for(sim_server.base_url, ACCOUNT_SID, AUTH_TOKEN)


@pytest.fixture
def hook(webhook_server: ThreadedServer) -> str:
    """The webhook app's base URL."""
    return webhook_server.base_url
