"""Follow-up calls: what their TwiML may say about the order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.stores.errors import found
from core.models import CatalogItem, FollowUpCall, Order
from core.vocab import Rating


@dataclass(frozen=True)
class CallFacts:
    """What the TwiML may say about a follow-up call: the service and its date, no people."""

    call_id: int
    order_id: int
    item_name: str
    completed_at: datetime | None
    # The resident's own rating the call asks them to confirm (None: it asks for one).
    confirm_rating: Rating | None = None


def call_facts(session: Session, call_id: int) -> CallFacts:
    row = session.execute(
        select(
            FollowUpCall.order_id, CatalogItem.name, Order.completed_at, FollowUpCall.confirm_rating
        )
        .join(Order, Order.id == FollowUpCall.order_id)
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .where(FollowUpCall.id == call_id)
    ).first()
    order_id, item_name, completed_at, confirm = found(row, "follow-up call", call_id)
    return CallFacts(
        call_id=call_id,
        order_id=order_id,
        item_name=item_name,
        completed_at=completed_at,
        confirm_rating=Rating(confirm) if confirm else None,
    )
