"""Volunteers and units ranked for an order (``core.matching``), each score in its parts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy.orm import Session

from api import schemas
from api.stores.access import OrderRef
from api.stores.errors import NotFound
from core.match_settings import Matching
from core.matching import rank_units, rank_volunteers, target_for_order
from core.models import Order
from core.vocab import DispatchPolicy


def candidates(
    session: Session,
    order_ref: OrderRef,
    *,
    matching: Matching,
    exclude: Sequence[int],
    limit: int,
    now: datetime,
) -> schemas.CandidatesOut:
    """Ranked volunteers and units for an order, each with the parts of its score."""
    conn = session.connection()
    target = target_for_order(conn, order_ref.id)
    order = session.get(Order, order_ref.id)
    if target is None or order is None:
        raise NotFound("order", order_ref.public_id)
    # The declined and the timed-out are in the timeline; the caller passes them in. The
    # volunteer holding the order now is no one to re-dispatch (改派) it to.
    if order.volunteer_id is not None:
        exclude = [*exclude, order.volunteer_id]
    volunteers = rank_volunteers(
        conn, target, matching=matching, now=now, exclude=exclude, limit=limit
    )
    units = rank_units(conn, target, matching=matching, limit=min(limit, 10))
    policy = DispatchPolicy(order.dispatch_policy)
    return schemas.CandidatesOut(
        order_id=order_ref.public_id,
        policy=policy,
        weights=asdict(matching.weights),
        preselected_volunteer_id=volunteers[0].volunteer_id
        if volunteers and policy != DispatchPolicy.MANUAL
        else None,
        excluded=sorted(set(exclude)),
        volunteers=volunteers,
        units=units,
    )
