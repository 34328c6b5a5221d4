"""The center's number answering calls (the keypad menu), in Mandarin.

A caller we know hears their open orders first (1 hears them again); then 求助请按1, and the
commonest needs by key, 9 for anything else; a known caller may reorder to their last
address with one key, anyone else says their address and need after the tone, which an
agent transcribes and confirms by calling back (caller ids can be faked: nobody orders
unchecked in another's name). 0 reaches a person at any point: the hotline when
``HOTLINE_FORWARD_TO`` is set, else a call-back task. Each menu is said again once when
nothing is pressed. What is pressed is carried in the next URL, so no call state is kept:
``decide`` maps the step, the round and the key to the next move, purely, and the builders
here turn moves into TwiML; the route only looks the caller up and acts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from twilio.twiml.voice_response import Record, VoiceResponse

from api.stores.call_requests import Heard
from api.twiml import LANGUAGE, one_key
from core.settings import Settings
from core.vocab import OrderStatus

PERSON_KEY = "0"
OTHER_KEY = "9"
ROUNDS = 2  # a menu is said, then said once more when nothing (or a wrong key) is pressed
RECORD_SECONDS = 60
PATH = "/api/twilio/inbound/voice"

_DIGITS = "零幺二三四五六七八九"


class Step(StrEnum):
    STATUS = "status"  # after the caller's orders were read out
    MAIN = "main"  # 求助请按1，转人工请按0
    NEEDS = "needs"  # the commonest needs by key
    ADDRESS = "address"  # 使用上次的地址请按1


def aloud(number: str) -> str:
    """An order number as read out digit by digit, in its two groups: 二六幺二，零四五七."""
    said = "".join(_DIGITS[int(d)] for d in number if d.isdigit())
    return f"{said[:4]}，{said[4:]}" if len(said) > 4 else said


def _when(heard: Heard, settings: Settings) -> str:
    local = heard.deadline.astimezone(ZoneInfo(settings.county_timezone))
    return f"{local.month}月{local.day}日{local.hour}点"


def status_line(heard: Heard, settings: Settings) -> str:
    """One order's news in plain words (who has it by their shown name, never a number)."""
    what = f"您的“{heard.service}”求助，单号{aloud(heard.number)}，"
    who = heard.volunteer or "志愿者"
    return what + {
        OrderStatus.PENDING: "正在为您安排志愿者。",
        OrderStatus.DISPATCHED: "已派给志愿者，正在等待接单。",
        OrderStatus.ACCEPTED: f"{who}已接单，将于{_when(heard, settings)}前为您服务。",
        OrderStatus.COMPLETED: "服务已完成，请您评价。",
        OrderStatus.REVIEWED: "您已评价，中心会回访核实。",
    }.get(heard.status, "正在处理中。")


def keys_url(settings: Settings, step: Step, round_: int, item: str | None = None) -> str:
    query = {"step": step.value, "round": str(round_)}
    if item:
        query["item"] = item
    return f"{settings.public_base_url.rstrip('/')}{PATH}/keys?{urlencode(query)}"


def recorded_url(settings: Settings, item: str | None) -> str:
    query = urlencode({"item": item}) if item else ""
    return f"{settings.public_base_url.rstrip('/')}{PATH}/recorded" + (f"?{query}" if query else "")


def ask(
    settings: Settings,
    step: Step,
    text: str,
    *,
    round_: int = 1,
    item: str | None = None,
    before: str = "",
) -> str:
    """Say ``before``, then a menu of one key; no key posts an empty ``Digits`` back."""
    response = VoiceResponse()
    if before:
        response.say(before, language=LANGUAGE)
    one_key(response, keys_url(settings, step, round_, item), text, timeout=6)
    return str(response.to_xml())


def record(settings: Settings, item: str | None, before: str = "") -> str:
    """The tone, then up to a minute of what they say; # or silence ends it."""
    response = VoiceResponse()
    response.say(
        before + "请在提示音后说出您的地址和需要什么帮助，说完请按井号键。", language=LANGUAGE
    )
    response.append(
        Record(
            action=recorded_url(settings, item),
            method="POST",
            max_length=RECORD_SECONDS,
            play_beep=True,
            finish_on_key="#",
            timeout=5,
        )
    )
    # Twilio requests the action only for a recording with sound in it; after silence the
    # call goes on to the next verb, which asks for the same handler with no recording.
    response.redirect(recorded_url(settings, item), method="POST")
    return str(response.to_xml())


def dial(number: str, caller_id: str | None) -> str:
    response = VoiceResponse()
    response.say("正在为您转接工作人员，请稍候。", language=LANGUAGE)
    response.dial(number, caller_id=caller_id)
    return str(response.to_xml())


MAIN_MENU = "求助请按1，转人工服务请按0。"
ADDRESS_MENU = "使用上次的地址请按1，说新的地址请按2，转人工服务请按0。"
AGAIN = "重听请按1，其他服务请稍候。"


def needs_menu(names: list[str]) -> str:
    keys = "，".join(f"{name}请按{i}" for i, name in enumerate(names, start=1))
    return f"{keys}，其他需要请按{OTHER_KEY}，转人工服务请按{PERSON_KEY}。"


class Move(StrEnum):
    """What the line does after a key (or none) at a step."""

    PERSON = "person"  # 0: a person (the hotline, or a call-back task)
    NEWS = "news"  # the caller's orders read again
    MAIN = "main"  # the main menu
    NEEDS = "needs"  # the commonest needs by key
    ADDRESS = "address"  # 使用上次的地址请按1, for the need chosen
    RECORD = "record"  # the tone: their address and need in their words
    ORDER = "order"  # the need ordered to their last address
    AGAIN = "again"  # the same menu once more ("没有听清")
    GOODBYE = "goodbye"  # twice nothing usable: the call ends politely


@dataclass(frozen=True)
class Next:
    move: Move
    item: str | None = None  # the need chosen, carried to the next step
    round_: int = 1


def decide(
    step: Step,
    round_: int,
    digits: str,
    *,
    item: str | None,
    needs: Sequence[str],
    knows_address: bool,
) -> Next:
    """The line's next move, from where the call is and what was pressed (pure).

    ``needs`` are the codes keys 1, 2, … stand for; ``knows_address``: the caller has an
    earlier order to reorder to (never the case for a number we have not seen).
    """
    if digits == PERSON_KEY:
        return Next(Move.PERSON)
    if step is Step.STATUS:
        return Next(Move.NEWS) if digits == "1" else Next(Move.MAIN)
    if step is Step.MAIN and digits == "1":
        return Next(Move.NEEDS)
    if step is Step.NEEDS:
        if digits.isdigit() and 1 <= int(digits) <= len(needs):
            chosen = needs[int(digits) - 1]
            return Next(Move.ADDRESS if knows_address else Move.RECORD, item=chosen)
        if digits == OTHER_KEY:
            return Next(Move.RECORD)
    if step is Step.ADDRESS and item:
        if digits == "1" and knows_address:
            return Next(Move.ORDER, item=item)
        if digits == "2":
            return Next(Move.RECORD, item=item)
    if round_ >= ROUNDS:
        return Next(Move.GOODBYE)
    return Next(Move.AGAIN, item=item, round_=round_ + 1)
