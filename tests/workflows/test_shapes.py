"""The order's projected shape (``core.snapshot.OrderSnapshot``) is declared once; every other
shape of the order is derived from it or held to it here, so a field added to one and missed
in another fails this test instead of nowhere."""

from __future__ import annotations

from dataclasses import fields

import pytest

from api.schemas import OrderOut
from core.models import Order
from core.snapshot import NOT_IN_ROW, RATINGS, ROW_COLUMN, ROW_FIELDS, SNAPSHOT_FIELDS
from workflows.order.messages import OrderView
from workflows.order.state import OrderState
from workflows.order.state.base import VIEW_FROM

pytestmark = pytest.mark.unit

STATE_FIELDS = {f.name for f in fields(OrderState)}
VIEW_FIELDS = {f.name for f in fields(OrderView)}
# How each snapshot field reaches the API's order: its name there, or None where the API
# deliberately does not show it (counters and internals the pages have no use for).
IN_ORDER_OUT: dict[str, str | None] = {
    "seq": None,
    "status": "status",
    "volunteer_id": "volunteer_id",
    "overdue": "overdue",
    "escalation_level": "escalation_level",
    "review_rating": "review_rating",
    "rating": "verified_rating",
    "hours": "hours",
    "completed_at": "completed_at",
    "closed_at": "closed_at",
    "unit_id": "unit_id",
    "offered_to": "offered_to",
    "dispatch_attempts": "dispatch_attempts",
    "undispatchable": "undispatchable",
    "checked_in_at": "checked_in_at",
    "checked_out_at": "checked_out_at",
    "hurry_count": "hurry_count",
    "last_hurried_at": "last_hurried_at",
    "review_channel": "review_channel",
}


def test_the_view_is_the_state_under_its_own_names() -> None:
    missing = {name for name in VIEW_FIELDS if VIEW_FROM.get(name, name) not in STATE_FIELDS}
    assert not missing, f"OrderView fields with no OrderState field behind them: {missing}"


def test_the_snapshot_is_the_view_cut_down() -> None:
    missing = set(SNAPSHOT_FIELDS) - VIEW_FIELDS
    assert not missing, f"OrderSnapshot fields the OrderView does not carry: {missing}"


def test_the_snapshot_is_the_order_row() -> None:
    columns = set(Order.__table__.c.keys())
    missing = {ROW_COLUMN.get(name, name) for name in ROW_FIELDS} - columns
    assert not missing, f"snapshot fields with no column in orders: {missing}"
    assert set(ROW_COLUMN) | RATINGS | NOT_IN_ROW <= set(SNAPSHOT_FIELDS)


def test_the_api_shows_each_snapshot_field_or_says_it_does_not() -> None:
    assert set(IN_ORDER_OUT) == set(SNAPSHOT_FIELDS), "say how each field reaches OrderOut"
    shown = {name for name in IN_ORDER_OUT.values() if name is not None}
    missing = shown - set(OrderOut.model_fields)
    assert not missing, f"OrderOut lacks {missing}"
