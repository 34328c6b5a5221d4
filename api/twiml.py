"""The TwiML the follow-up call plays, in Mandarin.

It asks the resident to rate the service on the keypad (1 非常满意 … 4 不满意) or press 9
for a person; when they reviewed it already, it asks them to confirm that rating (1) or
press 2 for that same four-grade menu: each key means one thing on every call
(``core.vocab.key_meaning``). Invalid or no input repeats the prompt once, then it ends
politely. What they pressed, and what it meant, goes to the order's workflow, which decides
what happens next.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from api.stores.calls import CallFacts
from core.settings import Settings
from core.vocab import GATHER_ROUNDS, MENU, NO_KEY, STAFF, Rating, key_meaning
from core.webhooks import call_gather_url

LANGUAGE = "zh-CN"
XML = "application/xml"

MENU_TEXT = "非常满意请按1，满意请按2，一般请按3，不满意请按4，需要工作人员联系您请按9。"
STAFF_OPTION = "需要工作人员联系您请按9。"
GRADES: dict[Rating, str] = {
    Rating.VERY_SATISFIED: "非常满意",
    Rating.SATISFIED: "满意",
    Rating.AVERAGE: "一般",
    Rating.DISSATISFIED: "不满意",
}
THANKS: dict[Rating, str] = {
    Rating.VERY_SATISFIED: "感谢您的评价：非常满意。",
    Rating.SATISFIED: "感谢您的评价：满意。",
    Rating.AVERAGE: "感谢您的评价：一般。我们会继续改进服务。",
    Rating.DISSATISFIED: "很抱歉这次服务没有让您满意，工作人员会尽快与您联系。",
}


def menu(facts: CallFacts, *, in_menu: bool = False) -> str:
    """The keys: the four grades, or (confirming the resident's review) 1 to confirm it and
    2 for the four grades."""
    if facts.confirm_rating is None or in_menu:
        return MENU_TEXT
    return f"确认请按1；如需更改，请按2；{STAFF_OPTION}"


def greeting(facts: CallFacts, settings: Settings) -> str:
    when = ""
    if facts.completed_at is not None:
        local = facts.completed_at.astimezone(ZoneInfo(settings.county_timezone))
        when = f"{local.month}月{local.day}日"
    # The volunteers did the work, for the resident: never "您…完成的".
    service = f"{when}为您提供的“{facts.item_name}”服务"
    if facts.confirm_rating is not None:
        rated = GRADES[facts.confirm_rating]
        return (
            f"您好，这里是{settings.center_name}的志愿服务回访电话。"
            f"{service}，您评价为{rated}，{menu(facts)}"
        )
    return f"您好，这里是{settings.center_name}的志愿服务回访电话。{service}，请您评价：{MENU_TEXT}"


def respond(document: str) -> Response:
    """A TwiML document as a webhook's answer."""
    return Response(content=document, media_type=XML)


def one_key(response: VoiceResponse, action: str, text: str, *, timeout: int) -> None:
    """Append a ``<Gather>`` of one key around ``text``; no key posts an empty ``Digits``."""
    gather = Gather(
        num_digits=1,
        action=action,
        method="POST",
        timeout=timeout,
        action_on_empty_result=True,
        language=LANGUAGE,
    )
    gather.say(text, language=LANGUAGE)
    response.append(gather)


def prompt(
    facts: CallFacts, settings: Settings, *, round_: int, text: str, in_menu: bool = False
) -> str:
    """A ``<Gather>`` of one key around ``text``; no or invalid input posts to the action."""
    response = VoiceResponse()
    url = call_gather_url(settings.public_base_url, facts.call_id, round_, menu=in_menu)
    one_key(response, url, text, timeout=8)
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


def keys_meant(facts: CallFacts, digits: str, *, in_menu: bool) -> str:
    """What ``digits`` meant at this prompt (told to the workflow with them)."""
    return key_meaning(digits, confirming=facts.confirm_rating, in_menu=in_menu)


def after_keys(
    facts: CallFacts, settings: Settings, *, digits: str, round_: int, in_menu: bool = False
) -> str:
    """What the resident hears after pressing ``digits`` (``""``: nothing) at ``round_``."""
    meaning = keys_meant(facts, digits, in_menu=in_menu)
    if meaning == STAFF:
        return goodbye("好的，工作人员会尽快与您联系。再见。")
    if meaning == MENU:
        return prompt(facts, settings, round_=1, text="请您评价：" + MENU_TEXT, in_menu=True)
    if meaning != NO_KEY:
        return goodbye(THANKS[Rating(meaning)] + "再见。")
    if round_ < GATHER_ROUNDS:
        again = "抱歉，没有收到有效的按键。" + menu(facts, in_menu=in_menu)
        return prompt(facts, settings, round_=round_ + 1, text=again, in_menu=in_menu)
    return goodbye("感谢您的接听，我们稍后会再与您联系。再见。")
