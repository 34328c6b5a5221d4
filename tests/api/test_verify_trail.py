"""What ``verify`` expects beside an order's row, from the workflow's view alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.stores.projection import Trail, trail_drift
from core.vocab import OrderStatus
from workflows.order.messages import OrderView

pytestmark = pytest.mark.unit


def view(
    status: OrderStatus, *, seq: int, follow_up_id: int | None = None, **more: object
) -> OrderView:
    fields: dict[str, object] = {
        "volunteer_id": 7,
        "deadline_at": datetime(2026, 12, 1, tzinfo=UTC),
        "overdue": False,
        "escalation_level": 0,
        "review_rating": None,
        "rating": None,
        "declined_by": [],
        **more,
    }
    return OrderView(order_id=1, status=status, follow_up_id=follow_up_id, seq=seq, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("shown", "row_status"),
    [
        (view(OrderStatus.REVIEWED, seq=6, follow_up_id=3), "calling"),
        (view(OrderStatus.REVIEWED, seq=7, follow_up_id=3, follow_up_queued=True), "open"),
        (view(OrderStatus.CLOSED, seq=9, follow_up_id=3, follow_up_queued=True), "done"),
        (view(OrderStatus.CLOSED, seq=9, follow_up_id=3), "done"),
    ],
)
def test_the_follow_up_row_is_in_the_status_the_workflow_implies(
    shown: OrderView, row_status: str
) -> None:
    seqs = list(range(1, shown.seq + 1))
    assert trail_drift(Trail(seqs, [], (3, row_status)), shown) == []
    others = {"calling", "open", "done"} - {row_status}
    for other in others:
        assert trail_drift(Trail(seqs, [], (3, other)), shown) == ["follow_up"]
    assert trail_drift(Trail(seqs, [], (4, row_status)), shown) == ["follow_up"]
    assert trail_drift(Trail(seqs, [], None), shown) == ["follow_up"]


def test_a_follow_up_the_workflow_does_not_know_yet_is_not_drift() -> None:
    # Its row committed; its id is on its way back to the workflow.
    shown = view(OrderStatus.REVIEWED, seq=6)
    assert trail_drift(Trail([1, 2, 3, 4, 5, 6], [], (3, "calling")), shown) == []


def test_the_events_run_one_to_seq_and_the_escalations_one_to_the_level() -> None:
    shown = view(OrderStatus.ACCEPTED, seq=4, escalation_level=2)
    assert trail_drift(Trail([1, 2, 3, 4], [1, 2], None), shown) == []
    assert trail_drift(Trail([1, 2, 4], [1, 2], None), shown) == ["events"]  # one lost
    assert trail_drift(Trail([1, 2, 3, 4, 5], [1, 2], None), shown) == ["events"]  # one too many
    assert trail_drift(Trail([1, 2, 3, 4], [2], None), shown) == ["escalations"]
    assert trail_drift(Trail([1, 2, 3], [1, 2, 3], None), shown) == ["events", "escalations"]
