"""The orders read model's one writer: an ``OrderSnapshot`` (``core.snapshot``) into its row.

The worker's projection and the operators' ``verify --repair`` both write through
``project_order``; both sit above this module, and neither may import the other.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Update

from core.matching import ASSIGNED_STATUSES, lock_volunteers, refresh_volunteer_stats
from core.models import Order, OrderOffer
from core.snapshot import RATINGS, ROW_COLUMN, ROW_FIELDS, OrderSnapshot
from core.vocab import Rating

orders = cast(Table, Order.__table__)
order_offers = cast(Table, OrderOffer.__table__)
ASSIGNED = frozenset(s.value for s in ASSIGNED_STATUSES)


def rating_code(value: Rating | None) -> str | None:
    return value.value if value is not None else None


def row_values(snap: OrderSnapshot) -> dict[str, Any]:
    """The order row's columns as the snapshot sets them."""
    values = {}
    for name in ROW_FIELDS:
        value = getattr(snap, name)
        values[ROW_COLUMN.get(name, name)] = rating_code(value) if name in RATINGS else value
    return values


def _counter_inputs(
    volunteer_id: int | None, status: str, completed: bool, rating: Rating | str | None
) -> tuple[int | None, bool, bool, str | None]:
    """What ``refresh_volunteer_stats`` counts of one order (see core.matching)."""
    code = rating.value if isinstance(rating, Rating) else rating
    return (volunteer_id, status in ASSIGNED, bool(completed), code)


@functools.cache
def _order_row(columns: tuple[str, ...]) -> Update:
    """The UPDATE of these columns, built once: building it on every transition cost the
    worker more than sending it."""
    return (
        update(orders)
        .where(orders.c.id == bindparam("the_order"))
        # Named apart from the columns: SQLAlchemy keeps a column's own name for its SET value.
        .values({name: bindparam(f"new_{name}", type_=orders.c[name].type) for name in columns})
    )


def project_order(conn: Connection, order_id: int, snap: OrderSnapshot) -> bool:
    """Move the order row forward to ``snap`` (never back), with the volunteers' counters.

    A snapshot of the row's own ``seq`` is written again, not skipped: the projection runs
    as a local activity, inside the workflow task, and a worker killed after the projection
    committed but before the task completed leaves a transition that never happened in
    history. The task's next attempt makes the transition again, at a later time (and, had
    another command come first, a different one), and its projection must win. Writing the
    same values again is harmless; the operators' ``verify --repair`` relies on it too.
    Whether the row was written.

    Locks are taken up front and always in the same order: the order row, then the
    volunteers whose counters this transition changes (see ``lock_volunteers``), and only
    then the writes that lock rows implicitly. Two transitions of one order wait for each
    other here, so what they read as "before" is exact; transitions of different orders for
    one volunteer queue on that volunteer's row instead of deadlocking.
    """
    before = conn.execute(
        select(
            orders.c.last_seq,
            orders.c.volunteer_id,
            orders.c.status,
            orders.c.completed_at.is_not(None),
            orders.c.rating,
        )
        .where(orders.c.id == order_id)
        .with_for_update(key_share=True)
    ).one_or_none()
    if before is None or before.last_seq > snap.seq:
        return False  # a later snapshot got here first: its transaction did all this
    after = (snap.volunteer_id, snap.status, snap.completed_at is not None, snap.rating)
    # Only a change to one of their inputs moves the counters: the volunteer, whether the
    # order is assigned to them, its completion, its rating (accepting, an escalation, a
    # follow-up task or a closing that keeps the rating leave them alone).
    recount: set[int] = set()
    if _counter_inputs(*before[1:]) != _counter_inputs(*after):
        recount = {v for v in (before.volunteer_id, snap.volunteer_id) if v is not None}
    lock_volunteers(conn, recount)
    values = row_values(snap)
    conn.execute(
        _order_row(tuple(values)),
        {"the_order": order_id, **{f"new_{name}": value for name, value in values.items()}},
    )
    # The open call's offers are part of the snapshot: replace them with it.
    conn.execute(delete(order_offers).where(order_offers.c.order_id == order_id))
    if snap.offered_to:
        conn.execute(
            insert(order_offers),
            [{"order_id": order_id, "volunteer_id": v} for v in snap.offered_to],
        )
    refresh_volunteer_stats(conn, recount)
    return True
