"""The SMS sent about orders: what admins see, and their delivery as Twilio reports it."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api import schemas
from api.stores.access import OrderRef
from api.stores.errors import found
from core.models import SmsMessage
from core.phones import mask_for_screen
from core.security import mask_link_codes


def order_messages(session: Session, order: OrderRef) -> list[schemas.SmsOut]:
    """The SMS sent about an order, oldest first: numbers masked, sign-in links cut short."""
    rows = session.scalars(
        select(SmsMessage).where(SmsMessage.order_id == order.id).order_by(SmsMessage.id)
    )
    return [
        schemas.SmsOut.model_validate(row, from_attributes=True).model_copy(
            update={
                "to_number": mask_for_screen(row.to_number),
                # Stored masked; rows from before that was so are masked here.
                "body": mask_link_codes(row.body),
            }
        )
        for row in rows
    ]


# Delivery statuses in the order they happen; a late or repeated callback never goes back.
_SMS_PROGRESS = ("accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed")


def record_sms_status(
    session: Session, sms_id: int, *, status: str, error_code: int | None
) -> None:
    """Store an SMS's delivery status (idempotent: repeats and stale callbacks change nothing)."""
    row = found(session.get(SmsMessage, sms_id), "SMS", sms_id)
    rank = _SMS_PROGRESS.index(status) if status in _SMS_PROGRESS else -1
    current = (
        _SMS_PROGRESS.index(row.delivery_status) if row.delivery_status in _SMS_PROGRESS else -1
    )
    if rank > current:
        session.execute(
            update(SmsMessage)
            .where(SmsMessage.id == sms_id)
            .values(delivery_status=status, error_code=error_code)
        )
