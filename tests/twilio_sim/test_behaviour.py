"""The script language of the simulated phones."""

from __future__ import annotations

import pytest

from twilio_sim import parse_call_behaviour, parse_message_behaviour

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "kind", "digits"),
    [
        ("answer:1", "answer", ("1",)),
        ("answer:7,2", "answer", ("7", "2")),
        ("answer:7,,2", "answer", ("7", "", "2")),
        ("answer:12#", "answer", ("12#",)),
        ("answer:", "answer", ()),
        ("answer", "answer", ()),
        ("no-answer", "no-answer", ()),
        ("busy", "busy", ()),
        ("failed", "failed", ()),
        ("machine", "machine", ()),
        (" Hangup ", "hangup", ()),
    ],
)
def test_call_behaviours_parse(text: str, kind: str, digits: tuple[str, ...]) -> None:
    behaviour = parse_call_behaviour(text)
    assert (behaviour.kind, behaviour.digits) == (kind, digits)


@pytest.mark.parametrize("text", ["ring", "answer:x", "busy:1", "answer:1;2"])
def test_bad_call_behaviours_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_call_behaviour(text)


def test_message_outcomes_parse() -> None:
    assert parse_message_behaviour("delivered").error_code is None
    assert parse_message_behaviour("undelivered").error_code == 30003
    assert parse_message_behaviour("undelivered:30005").error_code == 30005
    assert parse_message_behaviour("failed").error_code == 30008
    for bad in ("lost", "delivered:1", "failed:x"):
        with pytest.raises(ValueError):
            parse_message_behaviour(bad)
