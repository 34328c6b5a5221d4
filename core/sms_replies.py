"""What an SMS reply says, read the way people type on a keypad phone.

The grammar of the texts we ask for: "1" (or 接) takes an offer, "2" (or 不) plus optional
words declines it with those words, "完成 2" reports the service done in two hours, a lone
digit 1–4 rates a service, 退订/STOP stops notices and 订阅/START resumes them. With several
offers open, each SMS carries a code of a letter and a digit (``A3``) and the reply names it
("1 A3", "2 A3 家里有事", "完成 A3 2"). Who sent it and what they have open decide what the
reply does; this module only reads it, so each reader (volunteer, resident) asks one thing.

Phones send full-width digits and letters, Chinese punctuation, spaces or none ("完成2小时"),
and Chinese numbers ("完成两小时", "完成一个半小时"); all of those read the same.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Verb(StrEnum):
    YES = "yes"  # 1, 接, 接单, 好, 可以
    NO = "no"  # 2, 不, 不接, 谢绝
    DONE = "done"  # 完成, 办结, 完成了
    DIGIT = "digit"  # 3 or 4, or a grade in words (满意): a rating; 1 and 2 read as YES and NO
    STOP = "stop"  # 退订, STOP, TD
    START = "start"  # 订阅, START
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Reply:
    verb: Verb
    # The digit typed first (1–4): a rating when the sender is a resident asked to rate.
    digit: int | None = None
    # The offer's code ("A3"), upper-case, when the reply names one.
    code: str | None = None
    # Hours reported with 完成, in half hours.
    hours: float | None = None
    # What else they wrote: a decline's reason.
    words: str = ""


_YES = ("接单", "接受", "可以", "接", "好", "行", "是", "OK", "YES", "Y")
# Longest first: "不行" is a no, not 不 with the reason "行".
_NO = ("不接单", "不接", "不行", "不能", "不去了", "不去", "不了", "谢绝", "拒绝", "不", "NO", "N")
# What may trail a yes without making it say anything else (好的, 可以啊, 接了).
_PARTICLES = frozenset("的了啊吧呀哈嗯滴")
_DONE = ("已完成", "完成了", "完成", "办结", "做完了", "做完")
_STOP = ("退订", "STOP", "TD", "UNSUBSCRIBE", "取消订阅")
_START = ("订阅", "START", "恢复")

# A letter and a digit, not inside a longer word or number ("1A3" names A3; "STOP" has none).
# A resident may write the grade instead of its key (the completion SMS lists both).
_GRADES = (("非常满意", 1), ("很满意", 1), ("不满意", 4), ("满意", 2), ("一般", 3), ("还行", 3))
_CODE = re.compile(r"(?<![A-Z])([A-Z][0-9])(?![A-Z0-9])")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")
_CHINESE_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SEPARATORS = re.compile(r"[\s,，。.、;；:：!！?？~～]+")


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC), upper-case, and separators to single spaces."""
    folded = unicodedata.normalize("NFKC", text).upper()
    # A decimal point between digits is a number, not a separator.
    kept = re.sub(r"(?<=\d)\.(?=\d)", "\0", folded)
    return _SEPARATORS.sub(" ", kept).replace("\0", ".").strip()


def _chinese_hours(text: str) -> float | None:
    """两小时, 一个半小时, 半小时, 十二小时: the small numbers people say for hours."""
    m = re.search(r"([零一二两三四五六七八九十]*)(?:个)?(半)?(?:小时|钟头|个钟)", text)
    if m is None or not (m.group(1) or m.group(2)):
        return None
    digits, half = m.group(1), 0.5 if m.group(2) else 0.0
    if not digits:
        return half
    if "十" in digits:
        tens, _, ones = digits.partition("十")
        value = _CHINESE_DIGITS.get(tens, 1) * 10 + _CHINESE_DIGITS.get(ones, 0)
    elif all(c in _CHINESE_DIGITS for c in digits) and len(digits) == 1:
        value = _CHINESE_DIGITS[digits]
    else:
        return None
    return value + half


def _strip_prefix(text: str, words: tuple[str, ...]) -> str | None:
    for w in words:
        if text.startswith(w):
            return text[len(w) :].strip()
    return None


def read(text: str) -> Reply:
    """Read one SMS reply; anything that is not one of our answers is ``UNKNOWN``."""
    t = normalize(text)
    if not t:
        return Reply(Verb.UNKNOWN)
    if t in _STOP:
        return Reply(Verb.STOP)
    if t in _START:
        return Reply(Verb.START)
    code_match = _CODE.search(t)
    code = code_match.group(1) if code_match else None
    rest = _CODE.sub(" ", t, count=1).strip() if code else t
    rest = re.sub(r"\s+", " ", rest)

    done = _strip_prefix(rest, _DONE)
    if done is not None:
        number = _NUMBER.search(done)
        hours = float(number.group(1)) if number else _chinese_hours(done)
        if hours is not None:
            hours = round(hours * 2) / 2
        return Reply(Verb.DONE, code=code, hours=hours)

    for grade, digit in _GRADES:
        if rest.startswith(grade):
            return Reply(Verb.DIGIT, digit=digit, code=code, words=rest[len(grade) :].strip())

    first = rest[:1]
    if first.isdigit() and (len(rest) == 1 or not rest[1].isdigit()):
        # The words after the digit go with it: a decline's reason, a rating's comment.
        digit, words = int(first), rest[1:].strip()
        verb = {1: Verb.YES, 2: Verb.NO, 3: Verb.DIGIT, 4: Verb.DIGIT}.get(digit)
        if verb is None:
            return Reply(Verb.UNKNOWN, code=code, words=rest)
        return Reply(verb, digit=digit, code=code, words=words)

    no = _strip_prefix(rest, _NO)
    if no is not None:
        return Reply(Verb.NO, code=code, words=no)
    yes = _strip_prefix(rest, _YES)
    if yes is not None and set(yes.replace(" ", "")) <= _PARTICLES:
        return Reply(Verb.YES, code=code)
    return Reply(Verb.UNKNOWN, code=code, words=rest)


# No I or O: read aloud or typed on keys they pass for 1 and 0.
_CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def offer_code(order_id: int) -> str:
    """The code an SMS gives an order (``A3``), so a reply can name one of several open.

    Fixed by the order alone, so it never shifts as offers come and go; two open at once
    for one person share a code only when their ids are a multiple of 240 apart, and a reply
    naming such a code is answered with the list, as an ambiguous one is.
    """
    return f"{_CODE_LETTERS[(order_id // 10) % len(_CODE_LETTERS)]}{order_id % 10}"
