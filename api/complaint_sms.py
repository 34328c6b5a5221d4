"""The SMS that tells a resident how the center resolved their complaint, sent at most once.

As with the order notices (``activities/sms.py``), the message is recorded in
``sms_messages`` under its key before Twilio is asked to send it, so a repeated request never
texts twice, and the order's SMS list shows it. Resolving does not wait on Twilio's good
will: a refusal or an outage is recorded on the row and logged (without the number), and the
resolution stands.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from anyio import to_thread
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.database import Database
from core.db import insert_ignore, utcnow
from core.models import Complaint, Order, OrderNote, SmsMessage
from core.order_numbers import spoken
from core.settings import Settings
from core.twilio import make_client
from core.twilio_errors import Verdict, classify
from core.webhooks import sms_status_url

log = logging.getLogger(__name__)

NOTICE: Final = "complaint_resolved"
# Two UCS-2 segments (67 characters each): the resolution is cut to fit, never a third.
MAX_CHARACTERS: Final = 134


def resolution_text(settings: Settings, number: str, resolution: str) -> str:
    """``【县新时代文明实践中心】您对求助单2612 0457的投诉，中心已处理：…。有问题请拨打12345。``"""
    head = f"{settings.sms_signature}您对求助单{spoken(number)}的投诉，中心已处理："
    tail = f"。有问题请拨打{settings.center_hotline}。"
    said = resolution.strip().rstrip("。")
    room = MAX_CHARACTERS - len(head) - len(tail)
    return head + (said if len(said) <= room else said[: room - 1] + "…") + tail


def _claim(session: Session, complaint_id: int, settings: Settings) -> tuple[int, str, str] | None:
    """Record the message (id, number, text) to send; ``None`` if it was recorded before."""
    row = session.execute(
        select(Order.id, Order.number, Order.resident_id, Order.resident_phone, OrderNote.body)
        .join(Complaint, Complaint.order_id == Order.id)
        .join(OrderNote, OrderNote.id == Complaint.resolution_note_id)
        .where(Complaint.id == complaint_id)
    ).one()
    body = resolution_text(settings, row.number, row.body)
    now = utcnow()
    sms_id = session.execute(
        insert_ignore(session, SmsMessage.__table__, ("key",))
        .values(
            key=f"complaint:{complaint_id}:resolved:resident",
            order_id=row.id,
            notice=NOTICE,
            recipient_kind="resident",
            recipient_id=row.resident_id,
            to_number=row.resident_phone,
            body=body,
            state="sending",
            created_at=now,
            updated_at=now,
        )
        .returning(SmsMessage.id)
    ).scalar_one_or_none()
    return (sms_id, row.resident_phone, body) if sms_id is not None else None


def _record(session: Session, /, sms_id: int, **values: Any) -> None:
    session.execute(
        update(SmsMessage).where(SmsMessage.id == sms_id).values(updated_at=utcnow(), **values)
    )


async def text_resolution(settings: Settings, db: Database, complaint_id: int) -> None:
    """Text the resident the resolution of ``complaint_id`` (resolved and committed)."""
    client = make_client(settings) if settings.sms_enabled else None
    if client is None:
        return
    claimed = await db.run(_claim, complaint_id, settings)
    if claimed is None:
        return
    sms_id, to, body = claimed

    def send() -> Any:
        return client.messages.create(
            to=to,
            from_=settings.twilio_from_number,
            body=body,
            status_callback=sms_status_url(settings.public_base_url, sms_id),
        )

    try:
        message = await to_thread.run_sync(send)
    except Exception as exc:
        failure = classify(exc)
        state = {Verdict.REFUSED: "refused", Verdict.NOT_CREATED: "retry"}.get(failure.verdict)
        await db.run(_record, sms_id, state=state or "sending", error_code=failure.code)
        log.warning(
            "complaint %s: resolution SMS %s not sent: %s", complaint_id, sms_id, failure.summary
        )
        return
    await db.run(
        _record,
        sms_id,
        state="sent",
        message_sid=message.sid,
        sent_at=utcnow(),
        # A fast delivery callback may have written its status first: keep it.
        delivery_status=func.coalesce(SmsMessage.delivery_status, message.status),
    )
