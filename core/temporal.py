"""Connecting to Temporal, and the search attributes the workflows use."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client, Interceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from core.converter import DATA_CONVERTER
from core.search_attributes import SEARCH_ATTRIBUTES
from core.settings import Settings

log = logging.getLogger(__name__)


async def connect(
    settings: Settings,
    *,
    within: timedelta | None = None,
    interceptors: Sequence[Interceptor] = (),
    runtime: Runtime | None = None,
) -> Client:
    """A client for the configured server, waiting up to ``within`` for it to answer.

    A worker or an API started while Temporal is down (a restart of the whole host, a
    rolling upgrade) waits for it rather than exiting at once; ``within`` defaults to
    ``TEMPORAL_CONNECT_TIMEOUT``. ``interceptors`` (tracing) apply to the client and to the
    workers built on it; ``runtime`` carries the SDK's metrics (``metrics_runtime``).
    """
    deadline = (
        asyncio.get_running_loop().time()
        + (within or settings.temporal_connect_timeout).total_seconds()
    )
    pause = 0.2
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                tls=tls_config(settings),
                api_key=settings.temporal_api_key.get_secret_value()
                if settings.temporal_api_key
                else None,
                interceptors=interceptors,
                runtime=runtime,
                data_converter=DATA_CONVERTER,
            )
        except RuntimeError as exc:  # the SDK's "Failed client connect"
            if asyncio.get_running_loop().time() + pause > deadline:
                raise
            log.warning(
                "Temporal at %s does not answer yet (%s); retrying", settings.temporal_address, exc
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime serving the SDK's metrics to Prometheus on ``WORKER_METRICS_PORT``.

    Workflow task and activity latencies, failures (each failed attempt, so retries) per
    activity type, poll and slot counts: the SDK's own names, ``temporal_`` first, durations
    in seconds as Prometheus expects. ``None`` (the SDK's default runtime) when unset.
    """
    if settings.worker_metrics_port is None:
        return None
    bind = f"{settings.metrics_host}:{settings.worker_metrics_port}"
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=bind, durations_as_seconds=True, counters_total_suffix=True
            )
        )
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS to the Temporal server: off, the system's roots, or a private CA and client cert.

    An API key (Temporal Cloud) implies TLS with the system's roots.
    """
    files = (
        settings.temporal_tls_ca_path,
        settings.temporal_tls_cert_path,
        settings.temporal_tls_key_path,
    )
    if not any(files):
        return settings.temporal_tls or settings.temporal_api_key is not None
    ca, cert, key = (path.read_bytes() if path else None for path in files)
    return TLSConfig(server_root_ca_cert=ca, client_cert=cert, client_private_key=key)


def dev_server_command(cli: str, *, db_file: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    """``temporal server start-dev`` persisted in a SQLite file, search attributes registered.

    WAL with ``synchronous=NORMAL`` roughly doubles the dev server's throughput on a file.
    """
    return [
        cli, "server", "start-dev",
        "--db-filename", str(db_file),
        "--ip", host,
        "--port", str(port),
        "--log-level", "error",
        "--sqlite-pragma", "journal_mode=WAL",
        "--sqlite-pragma", "synchronous=NORMAL",
        *search_attribute_flags(),
    ]  # fmt: skip


def search_attribute_flags() -> list[str]:
    """``--search-attribute Name=Type`` arguments for ``temporal server start-dev``."""
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.title()}"]
    return flags


async def ensure_search_attributes(client: Client) -> None:
    """Register the search attributes on a server that lacks them (test servers, new clusters)."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        existing = set(listed.custom_attributes)
    except RPCError as err:
        # The time-skipping test server can add search attributes but not list them.
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = set()
    missing = {
        key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
        for key in SEARCH_ATTRIBUTES
        if key.name not in existing
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
