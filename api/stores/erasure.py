"""Erasing a resident's personal data (个人信息删除), keeping the statistics.

The resident's name, phone, address, the reasons they gave and every free-text note on their
orders are overwritten, as are the numbers and texts of the SMS and calls to them (and the
number older SMS keys end with); their sign-in stops working. What the county counts stays:
statuses, times, ratings, hours, places (township, village), categories. Temporal histories
never held any of it.
"""

from __future__ import annotations

from sqlalchemy import case, delete, func, literal, select, update
from sqlalchemy.orm import Session

from api import schemas
from api.stores import audit
from api.stores.access import OrderRef
from api.stores.errors import Conflict
from core.db import utcnow
from core.models import (
    FollowUpCall,
    Order,
    OrderNote,
    RefreshToken,
    Resident,
    SmsCode,
    SmsMessage,
    SmsOptOut,
)
from core.security import Principal

ERASED = "（已删除）"
ALREADY_ERASED = "AlreadyErased"


def erase_resident(
    session: Session, order: OrderRef, admin: Principal, *, ip: str | None
) -> schemas.ErasureOut:
    """Erase the personal data of the resident who placed ``order``, across all their orders."""
    row = session.execute(
        select(Order.resident_id, Order.resident_phone, Order.erased_at).where(Order.id == order.id)
    ).one()
    if row.erased_at is not None:
        raise Conflict(ALREADY_ERASED, "this resident's personal data was erased already")
    mine = Order.resident_id == row.resident_id if row.resident_id is not None else None
    order_ids = list(
        session.scalars(select(Order.id).where(mine if mine is not None else Order.id == order.id))
    )
    phones = {row.resident_phone}
    now = utcnow()
    session.execute(
        update(Order)
        .where(Order.id.in_(order_ids))
        .values(
            resident_name=ERASED,
            resident_phone="",
            address=ERASED,
            reason=ERASED,
            idempotency_key=None,
            request_hash=None,
            # Unlinked too: nothing ties these orders to a person any more.
            resident_id=None,
            erased_at=now,
        )
    )
    session.execute(update(OrderNote).where(OrderNote.order_id.in_(order_ids)).values(body=ERASED))
    to_resident = SmsMessage.recipient_kind == "resident"
    # Keys recorded before they named the resident by role end with the number: cut, the
    # key is the one the sender now uses for that message (activities/sms.py).
    number_in_key = literal(":") + SmsMessage.to_number
    session.execute(
        update(SmsMessage)
        .where(SmsMessage.order_id.in_(order_ids), to_resident)
        .values(
            key=case(
                (SmsMessage.to_number == "", SmsMessage.key),
                else_=func.replace(SmsMessage.key, number_in_key, ""),
            ),
            to_number="",
            body=ERASED,
        )
    )
    session.execute(
        update(FollowUpCall).where(FollowUpCall.order_id.in_(order_ids)).values(to_number="")
    )
    if row.resident_id is not None:
        resident = session.get(Resident, row.resident_id)
        if resident is not None:
            phones.add(resident.phone)
            resident.phone = f"erased:{resident.id}"
            resident.erased_at = now
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.subject == f"resident:{row.resident_id}")
            .values(revoked_at=now)
        )
    session.execute(delete(SmsCode).where(SmsCode.phone.in_(phones)))
    session.execute(delete(SmsOptOut).where(SmsOptOut.phone.in_(phones)))
    audit.record(
        session, admin, "resident.erase", f"order:{order.public_id}", ip=ip, orders=len(order_ids)
    )
    return schemas.ErasureOut(orders=len(order_ids), erased_at=now)
