"""What people send the center's number: calls (the Voice URL) and SMS (the Messaging URL).

Signed like every Twilio webhook (403 without a valid ``X-Twilio-Signature``). A call gets
the keypad menu (``api/ivr.py``); an SMS reply is applied by ``api/sms_inbox.py`` and
answered in the TwiML, so the reply SMS goes back on the same exchange.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Response
from twilio.twiml.messaging_response import MessagingResponse

from api import ivr, schemas, twiml
from api.commands import OrderCommands
from api.deps import DatabaseDep, SettingsDep, TemporalDep
from api.gateway import OrderGateway
from api.ivr import Move, Step
from api.limits import Limits, LimitsDep, LimitsUnavailable, RateLimited
from api.sms_inbox import answer
from api.stores import call_requests, orders
from api.stores.call_requests import CALLBACK, INTAKE, Caller
from api.twilio_signature import UNSIGNED, TwilioParams
from api.twiml import respond
from core import service_words
from core.phones import e164
from core.security import SYSTEM
from core.settings import Settings
from core.vocab import ActorKind, Channel, actor

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/twilio/inbound",
    tags=["twilio"],
    responses=UNSIGNED,
)

ItemParam = Annotated[str | None, Query(max_length=60, pattern=r"^[a-z0-9_.]+$")]


def _phone(params: dict[str, str], settings: Settings) -> str | None:
    return e164(params.get("From", ""), country_code=settings.default_country_code)


def _news(who: Caller, settings: Settings) -> str:
    return "".join(ivr.status_line(h, settings) for h in who.orders)


async def _within_limits(limits: Limits, phone: str | None) -> bool:
    """Whether this number may still call or text now (``INBOUND_PER_NUMBER``). Without the
    limits' storage the line stays open: a caller in need is never turned away for it."""
    if phone is None:
        return True
    try:
        await limits.check_inbound(phone)
    except RateLimited:
        return False
    except LimitsUnavailable:
        log.warning("inbound limits unavailable; the line stays open")
    return True


@router.post("/voice", response_class=Response)
async def inbound_call(
    params: TwilioParams, db: DatabaseDep, settings: SettingsDep, limits: LimitsDep
) -> Response:
    """Someone calls the center's number: their orders' news, then the keypad menu."""
    phone = _phone(params, settings)
    if not await _within_limits(limits, phone):
        hotline = settings.center_hotline
        return respond(twiml.goodbye(f"您今天来电次数较多，请稍后再拨，或拨打{hotline}。再见。"))
    who = await db.run(call_requests.caller, phone) if phone else Caller(None, [], None)
    hello = f"您好，这里是{settings.center_name}志愿服务热线。"
    if who.orders:
        return respond(
            ivr.ask(settings, Step.STATUS, ivr.AGAIN, before=hello + _news(who, settings))
        )
    return respond(ivr.ask(settings, Step.MAIN, ivr.MAIN_MENU, before=hello))


@router.post("/voice/keys", response_class=Response)
async def keys_pressed(
    params: TwilioParams,
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
    limits: LimitsDep,
    step: Step,
    round_: Annotated[int, Query(alias="round", ge=1, le=ivr.ROUNDS)] = 1,
    item: ItemParam = None,
) -> Response:
    """A key pressed (or none) at one of the menu's steps."""
    digits = params.get("Digits", "").strip()
    phone = _phone(params, settings)
    if phone is None:
        return respond(twiml.goodbye("无法识别您的号码，请稍后再拨。再见。"))
    who = await db.run(call_requests.caller, phone)
    needs = await db.run(call_requests.common_needs, service_words.COMMON)
    names = dict(needs)
    then = ivr.decide(
        step,
        round_,
        digits,
        item=item,
        needs=[code for code, _ in needs],
        knows_address=who.last is not None,
    )
    chose = f"您选择了{names[then.item]}。" if then.item in names and step is Step.NEEDS else ""
    match then.move:
        case Move.PERSON:
            return respond(await _person(params, phone, db, settings))
        case Move.NEWS:
            return respond(ivr.ask(settings, Step.STATUS, ivr.AGAIN, before=_news(who, settings)))
        case Move.MAIN:
            return respond(ivr.ask(settings, Step.MAIN, ivr.MAIN_MENU))
        case Move.NEEDS:
            return respond(ivr.ask(settings, Step.NEEDS, ivr.needs_menu(list(names.values()))))
        case Move.ADDRESS:
            menu = ivr.ADDRESS_MENU
            return respond(ivr.ask(settings, Step.ADDRESS, menu, item=then.item, before=chose))
        case Move.RECORD:
            return respond(ivr.record(settings, then.item, before=chose))
        case Move.ORDER:
            assert then.item is not None
            need = names.get(then.item, then.item)
            order = await _order(params, phone, who, then.item, need, db, client, settings, limits)
            return respond(order)
        case Move.AGAIN:
            return respond(_again(step, then, settings, names))
    hotline = settings.center_hotline
    return respond(twiml.goodbye(f"感谢您的来电。需要帮助请再次拨打，或拨打{hotline}。再见。"))


def _again(step: Step, then: ivr.Next, settings: Settings, names: dict[str, str]) -> str:
    """The menu once more, after nothing (or a key it has not) was pressed."""
    missed = "没有听清您的选择。"
    if step is Step.NEEDS:
        menu = ivr.needs_menu(list(names.values()))
        return ivr.ask(settings, Step.NEEDS, menu, round_=then.round_, before=missed)
    if step is Step.ADDRESS:
        menu = ivr.ADDRESS_MENU
        return ivr.ask(settings, step, menu, round_=then.round_, item=then.item, before=missed)
    return ivr.ask(settings, Step.MAIN, ivr.MAIN_MENU, round_=then.round_, before=missed)


async def _person(params: dict[str, str], phone: str, db: DatabaseDep, settings: Settings) -> str:
    if settings.hotline_forward_to:
        return ivr.dial(settings.hotline_forward_to, settings.twilio_from_number)
    who = await db.run(call_requests.caller, phone)
    await db.run(
        call_requests.ask_for_agent,
        kind=CALLBACK,
        call_sid=params.get("CallSid", ""),
        phone=phone,
        resident_id=who.resident_id,
    )
    return twiml.goodbye("好的，工作人员会尽快给您回电，请保持电话畅通。再见。")


async def _order(
    params: dict[str, str],
    phone: str,
    who: Caller,
    item: str,
    need: str,
    db: DatabaseDep,
    client: TemporalDep,
    settings: Settings,
    limits: LimitsDep,
) -> str:
    """A known caller orders to their last address: at once, channel ``ivr``; the order's
    workflow texts them its number and link, as for an order staff took on the phone."""
    assert who.last is not None and who.resident_id is not None
    try:
        await limits.check_order_submit(who.resident_id, None)
    except RateLimited:
        return twiml.goodbye("您今天的求助次数较多，请稍后再拨，或等工作人员与您联系。再见。")
    except LimitsUnavailable:
        log.warning("order limits unavailable; the keypad order goes ahead")
    body = schemas.OrderCreate(
        item_code=item,
        reason=f"电话按键求助：{need}",
        address=who.last.address,
        township=who.last.township,
        resident_name=who.last.resident_name,
        village_id=who.last.village_id,
    )
    requester = orders.Requester(phone=phone, channel=Channel.IVR, by=actor(ActorKind.RESIDENT))
    submitted = await db.run(
        orders.create_order,
        body,
        requester,
        idempotency_key=f"ivr:{params.get('CallSid', '')}",
        completion_sla=settings.completion_sla,
        timezone=settings.county_timezone,
    )
    await OrderCommands(OrderGateway(client), db, settings, SYSTEM).ensure_workflow(submitted)
    return twiml.goodbye(
        f"已为您下单，单号{ivr.aloud(submitted.number)}。志愿者接单后会短信通知您。再见。"
    )


@router.post("/voice/recorded", response_class=Response)
async def recorded(
    params: TwilioParams, db: DatabaseDep, settings: SettingsDep, item: ItemParam = None
) -> Response:
    """What the caller said after the tone: an intake task for an agent to call back."""
    phone = _phone(params, settings)
    if phone is None:
        return respond(twiml.goodbye("再见。"))
    who = await db.run(call_requests.caller, phone)
    seconds = params.get("RecordingDuration", "")
    sid = params.get("RecordingSid") or None
    heard = sid is not None and seconds.isdigit() and int(seconds) > 0
    await db.run(
        call_requests.ask_for_agent,
        kind=INTAKE if heard else CALLBACK,
        call_sid=params.get("CallSid", ""),
        phone=phone,
        resident_id=who.resident_id,
        item_code=item,
        recording_sid=sid if heard else None,
        recording_seconds=int(seconds) if heard else None,
    )
    if heard:
        return respond(twiml.goodbye("已收到，工作人员会尽快给您回电确认。再见。"))
    return respond(twiml.goodbye("没有听到您的声音，工作人员会给您回电。再见。"))


@router.post("/sms", response_class=Response)
async def inbound_sms(
    params: TwilioParams,
    db: DatabaseDep,
    client: TemporalDep,
    settings: SettingsDep,
    limits: LimitsDep,
) -> Response:
    """An SMS to the center's number: a volunteer's 1/2/完成, a resident's 1-4, 退订.

    Applied once per ``MessageSid`` however often Twilio delivers it; the answer, if any, is
    the ``<Message>`` of the TwiML returned.
    """
    phone = _phone(params, settings)
    within = await _within_limits(limits, phone)
    text = await answer(params, phone, db=db, client=client, settings=settings) if within else None
    response = MessagingResponse()
    if text:
        response.message(text)
    return respond(str(response.to_xml()))
