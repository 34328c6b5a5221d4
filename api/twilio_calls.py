"""What Twilio's webhooks need: the signature check, the call's facts, the TwiML it plays.

The follow-up call asks the resident, in Mandarin, to rate the service on the keypad (1-4)
or press 9 for a person; invalid or no input repeats the prompt once, then it ends politely.
What they pressed goes to the order's workflow, which decides what happens next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Gather, VoiceResponse

from api.deps import SettingsDep
from api.errors import TWILIO_SIGNATURE, ApiError
from api.stores.errors import NotFound
from core.models import CatalogItem, FollowUpCall, Order, SmsMessage
from core.settings import Settings
from core.vocab import GATHER_ROUNDS, STAFF_KEY, Rating, keypad
from core.webhooks import call_gather_url

LANGUAGE = "zh-CN"


# --- the signature ----------------------------------------------------------------------


def public_url(request: Request, settings: Settings) -> str:
    """The URL Twilio called, as Twilio saw it: ``PUBLIC_BASE_URL`` + path + query.

    Never the Host header: a proxy in front changes scheme, host, port and prefix, and the
    signature covers the URL Twilio used.
    """
    path = request.url.path
    root = request.scope.get("root_path") or ""
    if root and path.startswith(root):
        path = path[len(root) :]
    query = request.url.query
    return settings.public_base_url.rstrip("/") + path + (f"?{query}" if query else "")


async def signed_params(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The callback's form parameters, once its ``X-Twilio-Signature`` is proven.

    Raises:
        ApiError: 403 for a missing or wrong signature (or no Twilio account configured).
    """
    token = settings.twilio_auth_token
    if token is None:
        raise ApiError(403, TWILIO_SIGNATURE, "no Twilio account is configured here")
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        raise ApiError(403, TWILIO_SIGNATURE, "the X-Twilio-Signature header is missing")
    form = await request.form()
    params = {key: value for key, value in form.items() if isinstance(value, str)}
    url = public_url(request, settings)
    if not RequestValidator(token.get_secret_value()).validate(url, params, signature):
        raise ApiError(403, TWILIO_SIGNATURE, "the X-Twilio-Signature does not match")
    return params


TwilioParams = Annotated[dict[str, str], Depends(signed_params)]


# --- the database -----------------------------------------------------------------------


@dataclass(frozen=True)
class CallFacts:
    """What the TwiML may say about a follow-up call: the service and its date, no people."""

    call_id: int
    order_id: int
    item_name: str
    completed_at: datetime | None


def call_facts(session: Session, call_id: int) -> CallFacts:
    row = session.execute(
        select(FollowUpCall.order_id, CatalogItem.name, Order.completed_at)
        .join(Order, Order.id == FollowUpCall.order_id)
        .join(CatalogItem, CatalogItem.code == Order.item_code)
        .where(FollowUpCall.id == call_id)
    ).first()
    if row is None:
        raise NotFound("follow-up call", call_id)
    return CallFacts(call_id=call_id, order_id=row[0], item_name=row[1], completed_at=row[2])


# Delivery statuses in the order they happen; a late or repeated callback never goes back.
_SMS_PROGRESS = ("accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed")


def record_sms_status(
    session: Session, sms_id: int, *, status: str, error_code: int | None
) -> None:
    """Store an SMS's delivery status (idempotent: repeats and stale callbacks change nothing)."""
    row = session.get(SmsMessage, sms_id)
    if row is None:
        raise NotFound("SMS", sms_id)
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


# --- the TwiML --------------------------------------------------------------------------

MENU = "非常满意请按1，满意请按2，一般请按3，不满意请按4，需要工作人员联系您请按9。"
THANKS: dict[Rating, str] = {
    Rating.VERY_SATISFIED: "感谢您的评价：非常满意。",
    Rating.SATISFIED: "感谢您的评价：满意。",
    Rating.AVERAGE: "感谢您的评价：一般。我们会继续改进服务。",
    Rating.DISSATISFIED: "很抱歉这次服务没有让您满意，工作人员会尽快与您联系。",
}


def greeting(facts: CallFacts, settings: Settings) -> str:
    when = ""
    if facts.completed_at is not None:
        local = facts.completed_at.astimezone(ZoneInfo(settings.county_timezone))
        when = f"{local.month}月{local.day}日"
    return (
        f"您好，这里是{settings.center_name}的志愿服务回访电话。"
        f"您{when}完成的“{facts.item_name}”服务，请您评价：{MENU}"
    )


def prompt(facts: CallFacts, settings: Settings, *, round_: int, text: str) -> str:
    """A ``<Gather>`` of one key around ``text``; no or invalid input posts to the action."""
    response = VoiceResponse()
    gather = Gather(
        num_digits=1,
        action=call_gather_url(settings.public_base_url, facts.call_id, round_),
        method="POST",
        timeout=8,
        action_on_empty_result=True,
        language=LANGUAGE,
    )
    gather.say(text, language=LANGUAGE)
    response.append(gather)
    return str(response.to_xml())


def goodbye(text: str) -> str:
    response = VoiceResponse()
    response.say(text, language=LANGUAGE)
    response.hangup()
    return str(response.to_xml())


def hang_up() -> str:
    """For an answering machine: leave no message, just hang up."""
    response = VoiceResponse()
    response.hangup()
    return str(response.to_xml())


def after_keys(facts: CallFacts, settings: Settings, *, digits: str, round_: int) -> str:
    """What the resident hears after pressing ``digits`` (``""``: nothing) at ``round_``."""
    meaning = keypad(digits)
    if isinstance(meaning, Rating):
        return goodbye(THANKS[meaning] + "再见。")
    if meaning == STAFF_KEY:
        return goodbye("好的，工作人员会尽快与您联系。再见。")
    if round_ < GATHER_ROUNDS:
        return prompt(facts, settings, round_=round_ + 1, text="抱歉，没有收到有效的按键。" + MENU)
    return goodbye("感谢您的接听，我们稍后会再与您联系。再见。")
