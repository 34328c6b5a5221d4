"""The one place an order's workflow id is derived (``order-<id>``), and read back.

Here, at the bottom, so the logs, the API and the workflows all name a workflow alike.
"""

from __future__ import annotations


def workflow_id(order_id: int) -> str:
    """The order's workflow id."""
    return f"order-{order_id}"


def order_id_of(workflow_id: str) -> int | None:
    """The order an ``order-<id>`` workflow id names (``None`` for any other workflow)."""
    prefix, _, ident = workflow_id.partition("-")
    return int(ident) if prefix == "order" and ident.isdigit() else None
