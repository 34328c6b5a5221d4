"""Callers: who is on the line when staff order for a resident (hotline, walk-in).

The agent types the number the caller gives; the answer is that resident's earlier orders
in the agent's townships and where the latest one was, so a regular caller is not asked for
their address again. Each lookup is audited, and what was typed is not kept (it is personal
data, and erasure must find it nowhere).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import schemas
from api.stores import audit
from api.stores.access import in_scope
from api.stores.errors import INVALID_PHONE, Invalid
from api.stores.order_lists import summary
from core.models import Order
from core.phones import e164
from core.security import Principal

# Enough for the agent to tell "the one from last week" from the rest.
SHOWN: Final = 10


def look_up(
    session: Session, phone: str, *, viewer: Principal, ip: str | None, country_code: str
) -> schemas.CallerOut:
    number = e164(phone, country_code=country_code)
    if number is None:
        raise Invalid(INVALID_PHONE, "that is not a phone number that can be called")
    audit.record(session, viewer, "caller.lookup", "orders", ip=ip, by="phone")
    rows = list(
        session.scalars(
            select(Order)
            .where(in_scope(viewer), Order.resident_phone == number)
            .order_by(Order.submitted_at.desc(), Order.id.desc())
            .limit(SHOWN)
        )
    )
    if not rows:
        return schemas.CallerOut(phone=number, known=False)
    latest = rows[0]
    return schemas.CallerOut(
        phone=number,
        known=True,
        resident_name=latest.resident_name,
        township=latest.township,
        village_id=latest.village_id,
        address=latest.address,
        orders=[summary(o) for o in rows],
    )
