"""In-memory records of calls and messages, and their Twilio REST representations."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from twilio_sim.behaviour import CallBehaviour, MessageBehaviour, Script

API_VERSION = "2010-04-01"

# Call statuses after which nothing more happens to a call.
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
FINAL_MESSAGE_STATUSES = frozenset({"delivered", "undelivered", "failed", "canceled"})


def new_sid(prefix: str) -> str:
    """A Twilio SID: two-letter type prefix and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's date format on the wire, e.g. ``Tue, 31 Aug 2010 20:36:28 +0000``."""
    if moment is None:
        return None
    return format_datetime(moment.astimezone(UTC))


@dataclass
class WebhookRecord:
    """One request the simulator made to the application, and how it was answered."""

    # "voice" | "gather" | "record" | "dial" | "redirect" | "status" | "recording-status"
    # | "message-status" | "sms"
    kind: str
    method: str
    url: str
    params: dict[str, str]
    status_code: int | None = None
    body: str = ""
    attempts: int = 0
    error: str | None = None
    at: datetime = field(default_factory=utcnow)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "url": self.url,
            "params": self.params,
            "status_code": self.status_code,
            "body": self.body,
            "attempts": self.attempts,
            "error": self.error,
            "at": self.at.isoformat(),
        }


@dataclass
class Heard:
    """Something the resident heard: a <Say> (with its language) or a <Play>."""

    text: str
    language: str | None = None
    voice: str | None = None
    verb: str = "Say"

    def to_json(self) -> dict[str, Any]:
        return {
            "verb": self.verb,
            "text": self.text,
            "language": self.language,
            "voice": self.voice,
        }


@dataclass
class SimCall:
    """A call placed through ``POST .../Calls.json`` and what became of it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    url: str | None
    method: str
    twiml: str | None
    status_callback: str | None
    status_callback_method: str
    status_callback_events: list[str]
    machine_detection: str | None
    timeout: int
    behaviour: CallBehaviour
    duplicate_callbacks: bool
    status: str = "queued"
    answered_by: str | None = None
    hung_up_by_resident: bool = False
    heard: list[Heard] = field(default_factory=list)
    pressed: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[WebhookRecord] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    # Seconds the call would have lasted on a real phone (speech, pauses, gather timeouts):
    # the simulator runs instantly, but CallDuration should still look plausible.
    talk_seconds: float = 0.0
    sequence_number: int = 0
    end_requested: str | None = None  # "completed" / "canceled" asked for via the REST API
    redirect_requested: tuple[str, str] | None = None  # (url, method) asked for via the REST API
    phone_number_sid: str = field(default_factory=lambda: new_sid("PN"))
    direction: str = "outbound-api"  # or "inbound": the resident called our number
    # Seconds the caller speaks at each successive <Record> (the last one repeats); 0 = silence.
    recording_seconds: list[int] = field(default_factory=lambda: [5])
    # How the caller ends a recording: a key ("" = the first of finishOnKey) or "hangup".
    record_finish: str = ""
    dial_outcome: str = "completed"  # what the party a <Dial> rings does
    dialed: list[dict[str, Any]] = field(default_factory=list)
    recording_sids: list[str] = field(default_factory=list)
    # The simulator's address as the application reached it: RecordingUrl is built on it.
    public_base_url: str = ""

    @property
    def final(self) -> bool:
        return self.status in FINAL_CALL_STATUSES

    def set_status(self, status: str, note: str | None = None) -> None:
        self.status = status
        self.date_updated = utcnow()
        event: dict[str, Any] = {"status": status, "at": self.date_updated.isoformat()}
        if note:
            event["note"] = note
        self.events.append(event)

    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        """The call as Twilio's REST API represents it (``api.v2010.account.call``)."""
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        subresources = (
            "user_defined_message_subscriptions",
            "notifications",
            "recordings",
            "streams",
            "payments",
            "user_defined_messages",
            "events",
            "siprec",
        )
        return {
            "sid": self.sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "parent_call_sid": None,
            "account_sid": self.account_sid,
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from_,
            "from_formatted": self.from_,
            "phone_number_sid": self.phone_number_sid,
            "status": self.status,
            "start_time": rfc2822(self.start_time),
            "end_time": rfc2822(self.end_time),
            "duration": None if self.duration is None else str(self.duration),
            "price": None,
            "price_unit": "USD",
            "direction": self.direction,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": self.uri(),
            "subresource_uris": {name: f"{base}/{_camel(name)}.json" for name in subresources},
        }

    def inspection(self) -> dict[str, Any]:
        """The simulator's own view: what the resident heard and pressed, every webhook."""
        return {
            "sid": self.sid,
            "direction": self.direction,
            "to": self.to,
            "from": self.from_,
            "url": self.url,
            "status": self.status,
            "answered_by": self.answered_by,
            "behaviour": self.behaviour.source,
            "machine_detection": self.machine_detection,
            "status_callback_events": self.status_callback_events,
            "duplicate_callbacks": self.duplicate_callbacks,
            "hung_up_by_resident": self.hung_up_by_resident,
            "heard": [h.to_json() for h in self.heard],
            "pressed": list(self.pressed),
            "dialed": list(self.dialed),
            "recordings": list(self.recording_sids),
            "duration": self.duration,
            "events": list(self.events),
            "webhooks": [w.to_json() for w in self.webhooks],
            "errors": list(self.errors),
            "resource": self.resource(),
        }


@dataclass
class SimMessage:
    """A message sent through ``POST .../Messages.json``."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    behaviour: MessageBehaviour
    duplicate_callbacks: bool
    status: str = "queued"
    error_code: int | None = None
    error_message: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[WebhookRecord] = field(default_factory=list)
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    date_sent: datetime | None = None
    # "outbound-api"; "inbound" (a resident's SMS to our number); "outbound-reply" (its
    # TwiML <Message> answer).
    direction: str = "outbound-api"
    reply_to: str | None = None  # for an outbound-reply: the inbound message's sid
    replies: list[str] = field(default_factory=list)  # for an inbound one: its replies' sids

    @property
    def final(self) -> bool:
        return self.status in FINAL_MESSAGE_STATUSES

    def set_status(self, status: str) -> None:
        self.status = status
        self.date_updated = utcnow()
        self.events.append({"status": status, "at": self.date_updated.isoformat()})

    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        """The message as Twilio's REST API represents it (``api.v2010.account.message``)."""
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "body": self.body,
            "num_segments": str(count_segments(self.body)),
            "direction": self.direction,
            "from": self.from_,
            "to": self.to,
            "date_updated": rfc2822(self.date_updated),
            "price": None,
            "error_message": self.error_message,
            "uri": self.uri(),
            "account_sid": self.account_sid,
            "num_media": "0",
            "status": self.status,
            "messaging_service_sid": self.messaging_service_sid,
            "sid": self.sid,
            "date_sent": rfc2822(self.date_sent),
            "date_created": rfc2822(self.date_created),
            "error_code": self.error_code,
            "price_unit": "USD",
            "api_version": API_VERSION,
            "subresource_uris": {
                "media": f"{base}/Media.json",
                "feedback": f"{base}/Feedback.json",
            },
        }

    def inspection(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "direction": self.direction,
            "to": self.to,
            "from": self.from_,
            "reply_to": self.reply_to,
            "replies": list(self.replies),
            "messaging_service_sid": self.messaging_service_sid,
            "body": self.body,
            "status": self.status,
            "outcome": self.behaviour.source,
            "error_code": self.error_code,
            "status_callback": self.status_callback,
            "events": list(self.events),
            "webhooks": [w.to_json() for w in self.webhooks],
            "resource": self.resource(),
        }


# The GSM 03.38 basic character set: a message only of these is sent in 7-bit segments.
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def count_segments(body: str) -> int:
    """How many SMS segments the body takes: 160/153 GSM-7 septets or 70/67 UCS-2 chars."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in body):
        septets = sum(2 if c in _GSM7_EXTENDED else 1 for c in body)
        return 1 if septets <= 160 else -(-septets // 153)
    # UCS-2 counts UTF-16 code units: characters outside the BMP take two.
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def _camel(name: str) -> str:
    """``user_defined_messages`` -> ``UserDefinedMessages`` (Twilio's subresource path style)."""
    if name == "siprec":
        return "Siprec"
    return "".join(part.capitalize() for part in name.split("_"))


@dataclass
class SimRecording:
    """What a <Record> captured: silence of the caller's scripted length."""

    sid: str
    account_sid: str
    call_sid: str
    duration: int
    public_base_url: str = ""
    date_created: datetime = field(default_factory=utcnow)
    start_time: datetime = field(default_factory=utcnow)
    status: str = "completed"

    def base_uri(self) -> str:
        """The media's path (Twilio's RecordingUrl); ``.json`` is the resource, ``.wav``/``.mp3``
        the audio."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{self.sid}"

    def resource(self) -> dict[str, Any]:
        """The recording as Twilio's REST API represents it (``api.v2010.account.recording``)."""
        base = self.base_uri()
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid": self.call_sid,
            "conference_sid": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_created),
            "start_time": rfc2822(self.start_time),
            "duration": str(self.duration),
            "sid": self.sid,
            "price": None,
            "price_unit": "USD",
            "status": self.status,
            "channels": 1,
            "source": "RecordVerb",
            "error_code": None,
            "uri": f"{base}.json",
            "encryption_details": None,
            "subresource_uris": {
                "add_on_results": f"{base}/AddOnResults.json",
                "transcriptions": f"{base}/Transcriptions.json",
            },
            "media_url": f"{self.public_base_url}{base}",
        }

    def inspection(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "call_sid": self.call_sid,
            "duration": self.duration,
            "status": self.status,
            "resource": self.resource(),
        }


@dataclass(frozen=True)
class SimNumber:
    """One of our numbers: where Twilio sends its inbound calls and SMS."""

    phone: str
    voice_url: str | None = None
    voice_method: str = "POST"
    sms_url: str | None = None
    sms_method: str = "POST"
    status_callback: str | None = None
    phone_number_sid: str = field(default_factory=lambda: new_sid("PN"))

    def to_json(self) -> dict[str, Any]:
        return {
            "phone": self.phone,
            "voice_url": self.voice_url,
            "voice_method": self.voice_method,
            "sms_url": self.sms_url,
            "sms_method": self.sms_method,
            "status_callback": self.status_callback,
            "phone_number_sid": self.phone_number_sid,
        }


class SimState:
    """Everything the simulator remembers. Mutated on the event loop; the lock makes the
    snapshots taken by the inspection API (or by a test thread) consistent."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calls: dict[str, SimCall] = {}
        self.messages: dict[str, SimMessage] = {}
        self.scripts: dict[str, Script] = {}
        self.recordings: dict[str, SimRecording] = {}
        # Configuration of the account rather than traffic: a reset keeps it.
        self.numbers: dict[str, SimNumber] = {}

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.messages.clear()
            self.scripts.clear()
            self.recordings.clear()

    def script_for(self, phone: str) -> Script:
        with self.lock:
            return self.scripts.setdefault(phone, Script())
