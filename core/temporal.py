"""Connecting to Temporal, and the search attributes the workflows use."""

from __future__ import annotations

from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core.search_attributes import SEARCH_ATTRIBUTES
from core.settings import Settings


async def connect(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)


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
