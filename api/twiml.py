"""The TwiML the follow-up call plays, in Mandarin.

It asks the resident to rate the service on the keypad (1-4) or press 9 for a person;
invalid or no input repeats the prompt once, then it ends politely. What they pressed goes
to the order's workflow, which decides what happens next.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from twilio.twiml.voice_response import Gather, VoiceResponse

from api.stores.calls import CallFacts
from core.settings import Settings
from core.vocab import GATHER_ROUNDS, STAFF_KEY, Rating, keypad
from core.webhooks import call_gather_url

LANGUAGE = "zh-CN"

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
