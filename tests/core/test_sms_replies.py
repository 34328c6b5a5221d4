"""SMS replies read as people type them on keypad phones."""

from __future__ import annotations

import pytest

from core.sms_replies import Reply, Verb, offer_code, read

pytestmark = pytest.mark.unit

CASES: list[tuple[str, Reply]] = [
    ("1", Reply(Verb.YES, digit=1)),
    ("１", Reply(Verb.YES, digit=1)),
    (" 1。", Reply(Verb.YES, digit=1)),
    ("接", Reply(Verb.YES)),
    ("接单", Reply(Verb.YES)),
    ("好的", Reply(Verb.YES)),
    ("可以啊", Reply(Verb.YES)),
    ("ok", Reply(Verb.YES)),
    ("1 A3", Reply(Verb.YES, digit=1, code="A3")),
    ("1a3", Reply(Verb.YES, digit=1, code="A3")),
    ("Ａ３　１", Reply(Verb.YES, digit=1, code="A3")),
    ("接 b7", Reply(Verb.YES, code="B7")),
    ("2", Reply(Verb.NO, digit=2)),
    ("2 家里有事", Reply(Verb.NO, digit=2, words="家里有事")),
    ("2，今天在县城", Reply(Verb.NO, digit=2, words="今天在县城")),
    ("2 A3 腿疼", Reply(Verb.NO, digit=2, code="A3", words="腿疼")),
    ("不", Reply(Verb.NO)),
    ("不行", Reply(Verb.NO)),
    ("不行，要去医院", Reply(Verb.NO, words="要去医院")),
    ("不去了 太远", Reply(Verb.NO, words="太远")),
    ("谢绝", Reply(Verb.NO)),
    ("完成", Reply(Verb.DONE)),
    ("完成 2", Reply(Verb.DONE, hours=2.0)),
    ("完成2小时", Reply(Verb.DONE, hours=2.0)),
    ("完成 1.5", Reply(Verb.DONE, hours=1.5)),
    ("完成 1.3", Reply(Verb.DONE, hours=1.5)),
    ("完成两小时", Reply(Verb.DONE, hours=2.0)),
    ("完成了，一个半小时", Reply(Verb.DONE, hours=1.5)),
    ("完成 半小时", Reply(Verb.DONE, hours=0.5)),
    ("已完成 十二小时", Reply(Verb.DONE, hours=12.0)),
    ("完成 A3 3", Reply(Verb.DONE, code="A3", hours=3.0)),
    ("完成Ｃ１ ２", Reply(Verb.DONE, code="C1", hours=2.0)),
    ("3", Reply(Verb.DIGIT, digit=3)),
    ("4", Reply(Verb.DIGIT, digit=4)),
    ("4 来得太晚", Reply(Verb.DIGIT, digit=4, words="来得太晚")),
    ("1 谢谢小王", Reply(Verb.YES, digit=1, words="谢谢小王")),
    ("非常满意", Reply(Verb.DIGIT, digit=1)),
    ("满意", Reply(Verb.DIGIT, digit=2)),
    ("一般", Reply(Verb.DIGIT, digit=3)),
    ("不满意，没来", Reply(Verb.DIGIT, digit=4, words="没来")),
    ("退订", Reply(Verb.STOP)),
    ("STOP", Reply(Verb.STOP)),
    ("td", Reply(Verb.STOP)),
    ("订阅", Reply(Verb.START)),
    ("", Reply(Verb.UNKNOWN)),
    ("   ", Reply(Verb.UNKNOWN)),
    ("5", Reply(Verb.UNKNOWN, words="5")),
    ("12", Reply(Verb.UNKNOWN, words="12")),
    ("你好请问是谁", Reply(Verb.UNKNOWN, words="你好请问是谁")),
    ("好的但是明天", Reply(Verb.UNKNOWN, words="好的但是明天")),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_a_reply_reads_as_meant(text: str, expected: Reply) -> None:
    assert read(text) == expected


def test_an_orders_code_is_a_letter_and_a_digit_and_neighbours_differ() -> None:
    codes = [offer_code(i) for i in range(1, 241)]
    assert len(set(codes)) == 240
    assert all(read(f"1 {c}") == Reply(Verb.YES, digit=1, code=c) for c in codes)
    assert offer_code(7) == offer_code(247)  # the stated wrap: 240 apart
