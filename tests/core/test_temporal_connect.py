"""A worker or the API started before Temporal waits for it instead of exiting at once."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.temporal import connect
from tests.conftest import TEMPORAL_CLI


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_connect_waits_for_a_server_that_comes_up_later() -> None:
    port = free_port()
    settings = Settings(temporal_address=f"127.0.0.1:{port}")
    connecting = asyncio.create_task(connect(settings, within=timedelta(seconds=60)))
    await asyncio.sleep(1.5)
    assert not connecting.done()  # nothing answers yet: it keeps trying
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=TEMPORAL_CLI,
        port=port,
        dev_server_log_level="error",
    ):
        client = await asyncio.wait_for(connecting, timeout=60)
        assert await client.service_client.check_health()


async def test_connect_gives_up_after_its_time() -> None:
    settings = Settings(temporal_address=f"127.0.0.1:{free_port()}")
    with pytest.raises(RuntimeError, match="connect"):
        await connect(settings, within=timedelta(seconds=1))
