"""What a resident does to our numbers: calls them, texts them; and how our numbers answer.

Twilio finds a number's Voice URL and Messaging URL in the number's configuration; the
simulator keeps the same per-number configuration (``PUT /sim/numbers/{phone}``), with the
``--voice-url`` / ``--sms-url`` options as the fallback for any number not configured.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from twilio_sim.phone import verb_name

DialOutcome = Literal["completed", "busy", "no-answer", "failed"]


def _method(value: str) -> str:
    method = value.upper()
    if method not in ("GET", "POST"):
        raise ValueError(f"method must be GET or POST, got {value!r}")
    return method


class NumberBody(BaseModel):
    """``PUT /sim/numbers/{phone}``: where the number's inbound calls and SMS are sent."""

    voice_url: str | None = None
    voice_method: str = "POST"
    sms_url: str | None = None
    sms_method: str = "POST"
    status_callback: str | None = None

    @field_validator("voice_method", "sms_method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        return _method(value)


class InboundCallBody(BaseModel):
    """``POST /sim/inbound-calls``: a resident calls one of our numbers."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    # The caller's keys at successive <Gather>s, in the scripts' grammar ("answer:1,3");
    # "hangup" hangs up at the first <Gather> or <Record>.
    behaviour: str = "answer:"
    # Seconds spoken at each successive <Record> (the last repeats); 0: says nothing.
    recording_seconds: int | list[int] = 5
    # The key that ends a recording ("": the first key of finishOnKey, "#" if it is one), or
    # "hangup": the caller hangs up once they have spoken.
    record_finish: str = ""
    dial_outcome: DialOutcome = "completed"

    def recording_lengths(self) -> list[int]:
        lengths = (
            self.recording_seconds
            if isinstance(self.recording_seconds, list)
            else [self.recording_seconds]
        )
        return [max(0, n) for n in lengths] or [0]


class InboundMessageBody(BaseModel):
    """``POST /sim/inbound-messages``: a resident texts one of our numbers."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    body: str
    duplicate: bool = False  # Twilio may deliver the same MessageSid twice


@dataclass(frozen=True)
class Reply:
    """A ``<Message>`` of a messaging TwiML answer."""

    body: str
    to: str | None
    from_: str | None
    status_callback: str | None


def message_replies(document: str) -> list[Reply]:
    """The ``<Message>`` verbs of a messaging TwiML answer (an empty answer: none).

    Raises:
        ValueError: When the answer is not TwiML.
    """
    if not document.strip():
        return []
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise ValueError(f"TwiML parse error: {exc}") from None
    if verb_name(root) != "Response":
        raise ValueError(f"TwiML root is <{verb_name(root)}>, not <Response>")
    replies = []
    for verb in root:
        if verb_name(verb) != "Message":
            continue
        bodies = [child for child in verb if verb_name(child) == "Body"]
        text = "".join(bodies[0].itertext()) if bodies else (verb.text or "")
        replies.append(
            Reply(
                body=text.strip(),
                to=verb.get("to"),
                from_=verb.get("from"),
                status_callback=verb.get("statusCallback") or verb.get("action"),
            )
        )
    return replies
