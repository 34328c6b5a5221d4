"""What the simulated resident's phone does: per-number scripts of behaviours.

A behaviour is written as a short string so scripts read like a test plan::

    answer:1      answer, press 1 at the first <Gather>
    answer:7,2    answer, press 7 at the first <Gather> and 2 at the second
    answer:7,,2   ... nothing at the second <Gather> (it times out), 2 at the third
    answer:       answer but never press anything (every <Gather> times out)
    no-answer     ring until the timeout; the TwiML Url is never fetched
    busy          the line is busy; the TwiML Url is never fetched
    failed        the call cannot be placed; the TwiML Url is never fetched
    machine       an answering machine picks up (AnsweredBy=machine_start, or machine_end_beep
                  for MachineDetection=DetectMessageEnd); it listens but never presses anything
    hangup        answer, listen to the first <Gather>'s prompt, hang up before pressing

Message outcomes (for SMS) are ``delivered``, ``undelivered`` or ``failed``, optionally with
the Twilio error code to report, e.g. ``undelivered:30005``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

CallKind = Literal["answer", "no-answer", "busy", "failed", "machine", "hangup"]
MessageKind = Literal["delivered", "undelivered", "failed"]

CALL_KINDS: tuple[CallKind, ...] = ("answer", "no-answer", "busy", "failed", "machine", "hangup")
MESSAGE_KINDS: tuple[MessageKind, ...] = ("delivered", "undelivered", "failed")

# DTMF keys a caller can press (w/W pauses are a SendDigits thing, not a person's).
_DIGITS = re.compile(r"^[0-9*#]*$")

# Twilio's delivery error codes used when a script does not name one:
# 30003 Unreachable destination handset, 30008 Unknown error.
DEFAULT_MESSAGE_ERROR_CODES: dict[str, int] = {"undelivered": 30003, "failed": 30008}


@dataclass(frozen=True)
class CallBehaviour:
    """One scripted call outcome.

    Attributes:
        kind: What the phone does.
        digits: For ``answer``: what to press at each successive <Gather>; ``""`` means no input.
        duplicate_callbacks: Deliver every status callback of this call twice.
        source: The string the behaviour was parsed from (shown in the inspection API).
    """

    kind: CallKind
    digits: tuple[str, ...] = ()
    duplicate_callbacks: bool = False
    source: str = ""

    @property
    def answers(self) -> bool:
        """Whether the call is picked up (by a person or a machine) and its TwiML fetched."""
        return self.kind in ("answer", "machine", "hangup")


@dataclass(frozen=True)
class MessageBehaviour:
    """One scripted SMS outcome."""

    kind: MessageKind = "delivered"
    error_code: int | None = None
    duplicate_callbacks: bool = False
    source: str = "delivered"


K = TypeVar("K", bound=str)


def _split(text: str, kinds: Sequence[K], what: str) -> tuple[str, K, str, str]:
    """``kind:rest`` as (the text stripped, the kind, the colon if any, the rest), the kind
    one of ``kinds``; ``ValueError`` for any other."""
    raw = text.strip()
    kind, sep, rest = raw.partition(":")
    kind = kind.strip().lower()
    if kind not in kinds:
        raise ValueError(f"unknown {what} {text!r}; expected one of {', '.join(kinds)}")
    return raw, kinds[kinds.index(kind)], sep, rest


def parse_call_behaviour(text: str, *, duplicate_callbacks: bool = False) -> CallBehaviour:
    """Parses ``answer:7,2``-style text.

    Raises:
        ValueError: For an unknown behaviour or keys a phone cannot press.
    """
    raw, kind, sep, rest = _split(text, CALL_KINDS, "call behaviour")
    if kind != "answer":
        if sep and rest.strip():
            raise ValueError(f"behaviour {kind!r} takes no digits: {text!r}")
        return CallBehaviour(kind=kind, duplicate_callbacks=duplicate_callbacks, source=raw)
    # "answer" alone is "answer:" (answers, presses nothing).
    presses = tuple(p.strip() for p in rest.split(",")) if rest.strip() else ()
    for p in presses:
        if not _DIGITS.match(p):
            raise ValueError(f"cannot press {p!r} in {text!r}: only 0-9, * and # are keys")
    return CallBehaviour(
        kind="answer", digits=presses, duplicate_callbacks=duplicate_callbacks, source=raw
    )


def parse_message_behaviour(text: str, *, duplicate_callbacks: bool = False) -> MessageBehaviour:
    """Parses ``delivered`` / ``undelivered[:code]`` / ``failed[:code]``.

    Raises:
        ValueError: For an unknown outcome or a non-numeric error code.
    """
    raw, kind, sep, rest = _split(text, MESSAGE_KINDS, "message outcome")
    code: int | None = None
    if sep and rest.strip():
        if kind == "delivered":
            raise ValueError(f"'delivered' takes no error code: {text!r}")
        if not rest.strip().isdigit():
            raise ValueError(f"error code must be a number in {text!r}")
        code = int(rest.strip())
    elif kind != "delivered":
        code = DEFAULT_MESSAGE_ERROR_CODES[kind]
    return MessageBehaviour(
        kind=kind, error_code=code, duplicate_callbacks=duplicate_callbacks, source=raw
    )


@dataclass
class Script:
    """The queued behaviours of one phone number, consumed one per call / message."""

    calls: list[CallBehaviour] = field(default_factory=list)
    messages: list[MessageBehaviour] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "behaviours": [b.source for b in self.calls],
            "messages": [m.source for m in self.messages],
            "duplicate_callbacks": [b.duplicate_callbacks for b in self.calls],
        }
