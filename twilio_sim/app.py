"""The simulator's HTTP surface: Twilio's REST API v2010 (Calls, Messages) and ``/sim/``.

Point the real twilio SDK at it with ``client.api.base_url = "http://127.0.0.1:8091"``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import parse_qs, urlparse

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from twilio_sim import errors
from twilio_sim.audio import silent_mp3, silent_wav
from twilio_sim.behaviour import (
    CallBehaviour,
    MessageBehaviour,
    parse_call_behaviour,
    parse_message_behaviour,
)
from twilio_sim.errors import TwilioApiError, bad_request, not_found, unauthorized
from twilio_sim.inbound import (
    InboundCallBody,
    InboundMessageBody,
    NumberBody,
    Reply,
    message_replies,
)
from twilio_sim.page import render_page
from twilio_sim.phone import (
    DOCUMENT_PARSE_FAILURE,
    HTTP_RETRIEVAL_FAILURE,
    CallRunner,
    MessageRunner,
)
from twilio_sim.state import (
    API_VERSION,
    SimCall,
    SimMessage,
    SimNumber,
    SimState,
    new_sid,
    utcnow,
)
from twilio_sim.webhooks import WebhookSender

logger = logging.getLogger("twilio_sim")

PREFIX = f"/{API_VERSION}/Accounts/{{account_sid}}"
CALL_EVENTS = ("initiated", "ringing", "answered", "completed")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


@dataclass
class SimConfig:
    """How the simulated Twilio behaves.

    Attributes:
        account_sid: The one account the simulator serves.
        auth_token: Its auth token: checked on every REST request, signs every webhook.
        default_behaviour: What a phone without a script does.
        default_message_outcome: What happens to an SMS to a number without a message script.
        duplicate_callbacks: Deliver every status callback twice (as Twilio sometimes does).
        webhook_attempts: Tries per webhook when the app is unreachable or answers 5xx.
        webhook_timeout: Seconds to wait for the application's answer.
        max_twiml_fetches: TwiML requests allowed per call (a guard against redirect loops).
        step_delay: Real seconds between call phases; 0 for tests, ~1 to watch a demo.
        voice_url: Where an inbound call to a number without its own configuration goes.
        sms_url: Where an inbound SMS to a number without its own configuration goes.
        recording_seconds: What a resident says at a <Record> in an outbound call.
    """

    account_sid: str
    auth_token: str
    default_behaviour: str = "answer:1"
    default_message_outcome: str = "delivered"
    duplicate_callbacks: bool = False
    webhook_attempts: int = 3
    webhook_timeout: float = 15.0
    max_twiml_fetches: int = 10
    step_delay: float = 0.0
    voice_url: str | None = None
    sms_url: str | None = None
    recording_seconds: int = 5


class ScriptBody(BaseModel):
    """``PUT /sim/scripts/{phone}``: what the phone does on its next calls / messages."""

    behaviours: list[str] = Field(default_factory=list)
    messages: list[str] = Field(default_factory=list)
    duplicate_callbacks: bool = False
    append: bool = False


OUTAGE_ERROR = "error"
OUTAGE_HANG = "hang"


class OutageBody(BaseModel):
    """``PUT /sim/outage``: how the REST API fails, and for how long."""

    mode: Literal["error", "hang"]
    seconds: float = Field(ge=0, le=3600)


class Outage:
    """A simulated failure of Twilio's REST API (for fault tests): until when, and how."""

    def __init__(self) -> None:
        self.mode: str | None = None
        self.until = 0.0
        self._changed = asyncio.Event()

    def begin(self, mode: str, seconds: float) -> None:
        self.mode, self.until = mode, time.monotonic() + seconds
        self._changed.set()  # whoever hangs in the previous outage is let go
        self._changed = asyncio.Event()

    async def hang(self) -> None:
        """Until the outage ends, or another begins."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self._changed.wait(), timeout=max(0.0, self.until - time.monotonic())
            )

    def now(self) -> str | None:
        """The outage's mode while it lasts, else ``None``."""
        return self.mode if time.monotonic() < self.until else None


class Simulator:
    """The state and background work of one simulated Twilio account.

    Every REST and ``/sim/`` handler runs on the server's event loop; so do the call and
    message tasks. ``wait_idle`` is how a test knows everything it started has played out.
    """

    def __init__(self, config: SimConfig, transport: httpx.AsyncBaseTransport | None = None):
        if not _ACCOUNT_SID.match(config.account_sid):
            raise ValueError(f"account sid must be AC + 32 hex digits, got {config.account_sid!r}")
        parse_call_behaviour(config.default_behaviour)  # fail at start, not on the first call
        parse_message_behaviour(config.default_message_outcome)
        self.config = config
        self.state = SimState()
        self.transport = transport
        self.tasks: set[asyncio.Task[None]] = set()
        self.outage = Outage()
        self._http: httpx.AsyncClient | None = None
        self._sender: WebhookSender | None = None
        # Where the application reaches the simulator (RecordingUrl is built on it); learnt
        # from the requests it makes, as Twilio's would be api.twilio.com.
        self.base_url = "http://127.0.0.1"

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        # trust_env=False: webhooks go straight to the application, as Twilio's would, never
        # through an HTTP(S)_PROXY that happens to be set for package downloads.
        self._http = httpx.AsyncClient(
            transport=self.transport,
            timeout=self.config.webhook_timeout,
            follow_redirects=False,
            trust_env=False,
        )
        self._sender = WebhookSender(
            self._http, self.config.auth_token, attempts=self.config.webhook_attempts
        )

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    @property
    def sender(self) -> WebhookSender:
        if self._sender is None:
            raise RuntimeError("the simulator has not started (run it through its app lifespan)")
        return self._sender

    def _spawn(self, work: Awaitable[None], name: str) -> None:
        async def wrapped() -> None:
            await work

        task = asyncio.get_running_loop().create_task(wrapped(), name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def wait_idle(self, max_wait: float = 30.0) -> bool:
        """Waits until no call or message task is running; False if ``max_wait`` passed first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while self.tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            # New tasks may start while we wait (a webhook creating another call), hence the loop.
            await asyncio.wait(set(self.tasks), timeout=remaining)
        return True

    # ---- scripts ----------------------------------------------------------------------

    def set_script(self, phone: str, body: ScriptBody) -> None:
        calls = [
            parse_call_behaviour(b, duplicate_callbacks=body.duplicate_callbacks)
            for b in body.behaviours
        ]
        messages = [
            parse_message_behaviour(m, duplicate_callbacks=body.duplicate_callbacks)
            for m in body.messages
        ]
        with self.state.lock:
            script = self.state.script_for(phone)
            if not body.append:
                script.calls.clear()
                script.messages.clear()
            script.calls.extend(calls)
            script.messages.extend(messages)

    def _next_call_behaviour(self, phone: str) -> CallBehaviour:
        with self.state.lock:
            script = self.state.scripts.get(phone)
            if script and script.calls:
                return script.calls.pop(0)
        return parse_call_behaviour(
            self.config.default_behaviour, duplicate_callbacks=self.config.duplicate_callbacks
        )

    def _next_message_behaviour(self, phone: str) -> MessageBehaviour:
        with self.state.lock:
            script = self.state.scripts.get(phone)
            if script and script.messages:
                return script.messages.pop(0)
        return parse_message_behaviour(
            self.config.default_message_outcome,
            duplicate_callbacks=self.config.duplicate_callbacks,
        )

    # ---- REST: calls ------------------------------------------------------------------

    def create_call(self, account_sid: str, form: dict[str, list[str]]) -> SimCall:
        to = _one(form, "To")
        from_ = _one(form, "From")
        url = _one(form, "Url")
        twiml = _one(form, "Twiml")
        if not to:
            raise bad_request(errors.CALL_NO_TO, "No 'To' number is specified")
        if not from_:
            raise bad_request(errors.CALL_NO_FROM, "No 'From' number is specified")
        if not url and not twiml:
            if _one(form, "ApplicationSid"):
                raise bad_request(
                    errors.INVALID_PARAMETER, "ApplicationSid is not supported by the simulator"
                )
            raise bad_request(errors.CALL_URL_REQUIRED, "Url parameter is required.")
        if url and not _is_http_url(url):
            raise bad_request(errors.CALL_URL_REQUIRED, f"Url is not a valid URL: {url}")
        _check_endpoint(to, errors.INVALID_TO, "To")
        _check_endpoint(from_, errors.INVALID_FROM, "From")
        method = _http_method(form, "Method")
        callback = _one(form, "StatusCallback") or None
        if callback and not _is_http_url(callback):
            raise bad_request(
                errors.INVALID_PARAMETER, f"StatusCallback is not a valid URL: {callback}"
            )
        callback_method = _http_method(form, "StatusCallbackMethod")
        events = [e.strip() for e in form.get("StatusCallbackEvent", []) if e.strip()]
        # A single field with spaces is how the REST docs' curl examples send several events.
        events = [part for e in events for part in e.split()]
        for event in events:
            if event not in CALL_EVENTS:
                raise bad_request(
                    errors.INVALID_PARAMETER,
                    f"StatusCallbackEvent {event!r} is not one of {', '.join(CALL_EVENTS)}",
                )
        machine_detection = _one(form, "MachineDetection") or None
        if machine_detection not in (None, "Enable", "DetectMessageEnd"):
            raise bad_request(
                errors.INVALID_PARAMETER,
                f"MachineDetection must be Enable or DetectMessageEnd, got {machine_detection!r}",
            )
        timeout_text = _one(form, "Timeout") or "60"
        try:
            timeout = min(600, max(1, int(timeout_text)))
        except ValueError:
            raise bad_request(
                errors.INVALID_PARAMETER, f"Timeout must be an integer, got {timeout_text!r}"
            ) from None
        behaviour = self._next_call_behaviour(to)
        call = SimCall(
            sid=new_sid("CA"),
            account_sid=account_sid,
            to=to,
            from_=from_,
            url=url or None,
            method=method,
            twiml=twiml or None,
            status_callback=callback,
            status_callback_method=callback_method,
            status_callback_events=events or ["completed"],
            machine_detection=machine_detection,
            timeout=timeout,
            behaviour=behaviour,
            duplicate_callbacks=behaviour.duplicate_callbacks or self.config.duplicate_callbacks,
            recording_seconds=[self.config.recording_seconds],
        )
        return self._place(call)

    def _place(self, call: SimCall) -> SimCall:
        call.public_base_url = self.base_url
        call.events.append({"status": "queued", "at": call.date_created.isoformat()})
        with self.state.lock:
            self.state.calls[call.sid] = call
        logger.info(
            "call %s queued: %s → %s (%s, %s)",
            call.sid,
            call.from_,
            call.to,
            call.direction,
            call.behaviour.source,
        )
        runner = CallRunner(
            call,
            self.state,
            self.sender,
            max_twiml_fetches=self.config.max_twiml_fetches,
            step_delay=self.config.step_delay,
        )
        self._spawn(runner.run(), name=f"call-{call.sid}")
        return call

    def update_call(self, call: SimCall, form: dict[str, list[str]]) -> SimCall:
        status = _one(form, "Status")
        url = _one(form, "Url")
        if status:
            if status not in ("completed", "canceled"):
                raise bad_request(
                    errors.INVALID_PARAMETER,
                    f"Status must be completed or canceled, got {status!r}",
                )
            # canceled only ends a call that has not been answered (Twilio semantics).
            if not call.final and (status == "completed" or call.status in ("queued", "ringing")):
                call.end_requested = status
                call.events.append({"status": call.status, "note": f"{status} requested"})
            return call
        if url:
            if call.final or call.status != "in-progress":
                raise bad_request(
                    errors.CALL_NOT_IN_PROGRESS, "Call is not in-progress. Cannot redirect."
                )
            call.redirect_requested = (url, _http_method(form, "Method"))
            return call
        return call

    # ---- REST: messages ---------------------------------------------------------------

    def create_message(self, account_sid: str, form: dict[str, list[str]]) -> SimMessage:
        to = _one(form, "To")
        from_ = _one(form, "From")
        service = _one(form, "MessagingServiceSid")
        body = _one(form, "Body")
        if not to:
            raise bad_request(errors.MESSAGE_NO_TO, "A 'To' phone number is required.")
        if not from_ and not service:
            raise bad_request(errors.MESSAGE_NO_FROM, "A 'From' phone number is required.")
        if not body and not form.get("MediaUrl") and not _one(form, "ContentSid"):
            raise bad_request(errors.MESSAGE_NO_BODY, "Message body is required.")
        _check_endpoint(to, errors.INVALID_TO, "To")
        if from_:
            _check_endpoint(from_, errors.INVALID_FROM, "From")
        callback = _one(form, "StatusCallback") or None
        if callback and not _is_http_url(callback):
            raise bad_request(errors.MESSAGE_BAD_STATUS_CALLBACK, "Invalid 'StatusCallback'")
        behaviour = self._next_message_behaviour(to)
        message = SimMessage(
            sid=new_sid("SM"),
            account_sid=account_sid,
            to=to,
            from_=from_ or None,
            messaging_service_sid=service or None,
            body=body,
            status_callback=callback,
            behaviour=behaviour,
            duplicate_callbacks=behaviour.duplicate_callbacks or self.config.duplicate_callbacks,
            # Through a Messaging Service Twilio first "accepts", then picks a sender.
            status="queued" if from_ else "accepted",
        )
        return self._send(message)

    def _send(self, message: SimMessage) -> SimMessage:
        message.events.append({"status": message.status, "at": message.date_created.isoformat()})
        with self.state.lock:
            self.state.messages[message.sid] = message
        logger.info(
            "sms %s %s: %s → %s (%s)",
            message.sid,
            message.status,
            message.from_ or message.messaging_service_sid,
            message.to,
            message.behaviour.source,
        )
        runner = MessageRunner(message, self.state, self.sender, step_delay=self.config.step_delay)
        self._spawn(runner.run(), name=f"sms-{message.sid}")
        return message

    # ---- our numbers, and what residents send them ------------------------------------

    def set_number(self, phone: str, body: NumberBody) -> SimNumber:
        _check_endpoint(phone, errors.INVALID_TO, "phone")
        for url in (body.voice_url, body.sms_url, body.status_callback):
            if url and not _is_http_url(url):
                raise bad_request(errors.INVALID_PARAMETER, f"{url!r} is not an http(s) URL")
        with self.state.lock:
            old = self.state.numbers.get(phone)
            number = SimNumber(
                phone=phone,
                voice_url=body.voice_url,
                voice_method=body.voice_method,
                sms_url=body.sms_url,
                sms_method=body.sms_method,
                status_callback=body.status_callback,
                **({"phone_number_sid": old.phone_number_sid} if old else {}),
            )
            self.state.numbers[phone] = number
        return number

    def number(self, phone: str) -> SimNumber:
        """The number's configuration, or the app-wide ``voice_url`` / ``sms_url``."""
        with self.state.lock:
            found = self.state.numbers.get(phone)
        if found is not None:
            return found
        return SimNumber(phone=phone, voice_url=self.config.voice_url, sms_url=self.config.sms_url)

    def _reached(self, from_: str, to: str, what: Literal["voice", "sms"]) -> SimNumber:
        """Our number ``to`` as a resident at ``from_`` reaches it; refused when it has no
        URL for that kind of traffic."""
        _check_endpoint(from_, errors.INVALID_FROM, "From")
        _check_endpoint(to, errors.INVALID_TO, "To")
        number = self.number(to)
        if not (number.voice_url if what == "voice" else number.sms_url):
            label = "Voice URL" if what == "voice" else "Messaging URL"
            raise bad_request(
                errors.INVALID_PARAMETER,
                f"{to} has no {label}: PUT /sim/numbers/{to} or --{what}-url",
            )
        return number

    def receive_call(self, body: InboundCallBody) -> SimCall:
        """A resident calls ``body.to``: the number's Voice URL answers with TwiML."""
        number = self._reached(body.from_, body.to, "voice")
        behaviour = parse_call_behaviour(body.behaviour)
        if behaviour.kind not in ("answer", "hangup"):
            raise ValueError(f"a caller answers or hangs up, {body.behaviour!r} is neither")
        call = SimCall(
            sid=new_sid("CA"),
            account_sid=self.config.account_sid,
            to=body.to,
            from_=body.from_,
            url=number.voice_url,
            method=number.voice_method,
            twiml=None,
            status_callback=number.status_callback,
            status_callback_method="POST",
            status_callback_events=["completed"],
            machine_detection=None,
            timeout=60,
            behaviour=behaviour,
            duplicate_callbacks=self.config.duplicate_callbacks,
            phone_number_sid=number.phone_number_sid,
            direction="inbound",
            recording_seconds=body.recording_lengths(),
            record_finish=body.record_finish,
            dial_outcome=body.dial_outcome,
        )
        return self._place(call)

    async def receive_message(self, body: InboundMessageBody) -> dict[str, Any]:
        """A resident texts ``body.to``: the number's Messaging URL is posted to, and every
        ``<Message>`` of its answer goes back out as an SMS (per delivery, if duplicated)."""
        number = self._reached(body.from_, body.to, "sms")
        assert number.sms_url is not None
        inbound = SimMessage(
            sid=new_sid("SM"),
            account_sid=self.config.account_sid,
            to=body.to,
            from_=body.from_,
            messaging_service_sid=None,
            body=body.body,
            status_callback=None,
            behaviour=MessageBehaviour(source="received"),
            duplicate_callbacks=body.duplicate,
            status="received",
            direction="inbound",
            date_sent=utcnow(),
        )
        inbound.events.append({"status": "received", "at": inbound.date_created.isoformat()})
        with self.state.lock:
            self.state.messages[inbound.sid] = inbound
        params = {
            "AccountSid": inbound.account_sid,
            "ApiVersion": API_VERSION,
            "MessageSid": inbound.sid,
            "SmsSid": inbound.sid,
            "SmsMessageSid": inbound.sid,
            "SmsStatus": "received",
            "From": body.from_,
            "To": body.to,
            "Body": body.body,
            "NumMedia": "0",
            "NumSegments": inbound.resource()["num_segments"],
        }
        replies: list[SimMessage] = []
        for _ in range(2 if body.duplicate else 1):
            record = await self.sender.send("sms", number.sms_method, number.sms_url, params)
            with self.state.lock:
                inbound.webhooks.append(record)
            for reply in self._answered(inbound, record.status_code, record.body, record.error):
                replies.append(self._reply(inbound, reply))
        return {
            "sid": inbound.sid,
            "replies": [r.body for r in replies],
            "reply_sids": [r.sid for r in replies],
            "deliveries": len(inbound.webhooks),
        }

    def _answered(
        self, inbound: SimMessage, status: int | None, document: str, error: str | None
    ) -> list[Reply]:
        if status is None or not 200 <= status < 300:
            inbound.events.append(
                {
                    "status": inbound.status,
                    "at": utcnow().isoformat(),
                    "note": f"{HTTP_RETRIEVAL_FAILURE} HTTP retrieval failure: {status or error}",
                }
            )
            return []
        try:
            return message_replies(document)
        except ValueError as exc:
            inbound.events.append(
                {
                    "status": inbound.status,
                    "at": utcnow().isoformat(),
                    "note": f"{DOCUMENT_PARSE_FAILURE} {exc}",
                }
            )
            return []

    def _reply(self, inbound: SimMessage, reply: Reply) -> SimMessage:
        to = reply.to or inbound.from_ or ""
        behaviour = self._next_message_behaviour(to)
        callback = (
            reply.status_callback
            if reply.status_callback and _is_http_url(reply.status_callback)
            else None
        )
        message = SimMessage(
            sid=new_sid("SM"),
            account_sid=inbound.account_sid,
            to=to,
            from_=reply.from_ or inbound.to,
            messaging_service_sid=None,
            body=reply.body,
            status_callback=callback,
            behaviour=behaviour,
            duplicate_callbacks=behaviour.duplicate_callbacks or self.config.duplicate_callbacks,
            direction="outbound-reply",
            reply_to=inbound.sid,
        )
        with self.state.lock:
            inbound.replies.append(message.sid)
        return self._send(message)


# ---- request helpers ---------------------------------------------------------------------


def _one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[-1].strip() if values else ""


def _is_http_url(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _check_endpoint(value: str, code: int, name: str) -> None:
    # Client identifiers and SIP addresses are endpoints too; phone numbers must be E.164.
    if value.startswith(("client:", "sip:")) or _E164.match(value):
        return
    raise bad_request(code, f"The '{name}' number {value} is not a valid phone number.")


def _http_method(form: dict[str, list[str]], name: str) -> str:
    method = (_one(form, name) or "POST").upper()
    if method not in ("GET", "POST"):
        raise bad_request(errors.INVALID_PARAMETER, f"{name} must be GET or POST, got {method!r}")
    return method


async def _form(request: Request) -> dict[str, list[str]]:
    """The form-encoded body (repeated fields kept), without needing python-multipart."""
    raw = await request.body()
    return parse_qs(raw.decode("utf-8"), keep_blank_values=True) if raw else {}


def _page_json(
    key: str, items: list[dict[str, Any]], account_sid: str, kind: str
) -> dict[str, Any]:
    """A Twilio list page (everything on page 0; the simulator holds little)."""
    uri = f"/{API_VERSION}/Accounts/{account_sid}/{kind}.json"
    size = max(1, len(items))
    return {
        key: items,
        "end": max(0, len(items) - 1),
        "first_page_uri": f"{uri}?PageSize={size}&Page=0",
        "next_page_uri": None,
        "page": 0,
        "page_size": size,
        "previous_page_uri": None,
        "start": 0,
        "uri": f"{uri}?PageSize={size}&Page=0",
    }


class _Resource(Protocol):
    def resource(self) -> dict[str, Any]: ...


class _Inspected(Protocol):
    def inspection(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=_Resource)


def _found(table: Mapping[str, R], sid: str, request: Request) -> R:
    found = table.get(sid)
    if found is None:
        raise not_found(request.url.path)
    return found


def _rest_resource(
    app: FastAPI,
    plural: str,
    create: Callable[[str, dict[str, list[str]]], _Resource] | None,
    table: Callable[[], Mapping[str, _Resource]],
    sim: Simulator,
) -> None:
    """Create (when ``create`` is given), list and fetch of one of Twilio's resources."""

    if create is not None:

        @app.post(f"{PREFIX}/{plural}.json", status_code=201, name=f"create_{plural}")
        async def create_one(account_sid: str, request: Request) -> JSONResponse:
            made = create(account_sid, await _form(request))
            return JSONResponse(made.resource(), status_code=201)

    @app.get(f"{PREFIX}/{plural}.json", name=f"list_{plural}")
    async def list_all(account_sid: str, request: Request) -> dict[str, Any]:
        with sim.state.lock:
            items = [r.resource() for r in reversed(list(table().values()))]
        call_sid = request.query_params.get("CallSid")
        if call_sid is not None:  # a call's recordings
            items = [item for item in items if item.get("call_sid") == call_sid]
        return _page_json(plural.lower(), items, account_sid, plural)

    @app.get(f"{PREFIX}/{plural}/{{sid}}.json", name=f"fetch_{plural}")
    async def fetch_one(account_sid: str, sid: str, request: Request) -> dict[str, Any]:
        return _found(table(), sid, request).resource()


def _inspection(
    app: FastAPI,
    sim: Simulator,
    plural: str,
    singular: str,
    table: Callable[[], Mapping[str, _Inspected]],
) -> None:
    """The simulator's own view of one kind of resource: all of them, or one, when settled."""

    @app.get(f"/sim/{plural}", name=f"sim_{plural}")
    async def every(settled: bool = False, max_wait: float = 30.0) -> dict[str, Any]:
        idle = await sim.wait_idle(max_wait) if settled else not sim.tasks
        with sim.state.lock:
            found = [r.inspection() for r in table().values()]
        return {"settled": idle, plural: found}

    @app.get(f"/sim/{plural}/{{sid}}", name=f"sim_{singular}")
    async def one(sid: str, settled: bool = False, max_wait: float = 30.0) -> Any:
        if settled:
            await sim.wait_idle(max_wait)
        found = table().get(sid)
        if found is None:
            return JSONResponse({"detail": f"no {singular} {sid}"}, status_code=404)
        return found.inspection()


# ---- the app -----------------------------------------------------------------------------


def create_app(
    *,
    account_sid: str,
    auth_token: str,
    default_behaviour: str = "answer:1",
    default_message_outcome: str = "delivered",
    duplicate_callbacks: bool = False,
    webhook_attempts: int = 3,
    webhook_timeout: float = 15.0,
    max_twiml_fetches: int = 10,
    step_delay: float = 0.0,
    voice_url: str | None = None,
    sms_url: str | None = None,
    recording_seconds: int = 5,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Builds the simulator app. Run it with uvicorn (``python -m twilio_sim``) or in-process.

    Args:
        account_sid: The account served (``AC`` + 32 hex digits).
        auth_token: Its auth token (checked on REST requests, signs webhooks).
        default_behaviour: What an unscripted phone does (see ``twilio_sim.behaviour``).
        default_message_outcome: What happens to an SMS to an unscripted number.
        duplicate_callbacks: Deliver every status callback twice.
        webhook_attempts: Tries per webhook on connection errors / 5xx answers.
        webhook_timeout: Seconds to wait for the application's answer.
        max_twiml_fetches: TwiML requests allowed per call.
        step_delay: Real seconds between call phases (0: as fast as possible).
        voice_url: Voice URL of every number not configured through ``PUT /sim/numbers``.
        sms_url: Messaging URL of every number not configured through ``PUT /sim/numbers``.
        recording_seconds: What a resident says at a <Record> in an outbound call.
        transport: An httpx transport for webhooks, e.g. ``httpx.ASGITransport(app)`` to call
            the application in-process instead of over the network.

    Returns:
        The FastAPI app; its ``state.simulator`` is the ``Simulator``.
    """
    config = SimConfig(
        account_sid=account_sid,
        auth_token=auth_token,
        default_behaviour=default_behaviour,
        default_message_outcome=default_message_outcome,
        duplicate_callbacks=duplicate_callbacks,
        webhook_attempts=webhook_attempts,
        webhook_timeout=webhook_timeout,
        max_twiml_fetches=max_twiml_fetches,
        step_delay=step_delay,
        voice_url=voice_url,
        sms_url=sms_url,
        recording_seconds=recording_seconds,
    )
    sim = Simulator(config, transport=transport)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await sim.start()
        logger.info("Twilio simulator for %s ready", account_sid)
        try:
            yield
        finally:
            await sim.stop()

    app = FastAPI(
        title="Twilio simulator",
        description="Twilio REST API v2010 (Calls, Messages) with scripted phones.",
        lifespan=lifespan,
    )
    app.state.simulator = sim

    @app.exception_handler(TwilioApiError)
    async def twilio_error(request: Request, exc: TwilioApiError) -> Response:
        logger.info(
            "%d %s for %s %s: %s", exc.status, exc.code, request.method, request.url.path, exc
        )
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Unknown paths and methods under the REST API answer in Twilio's error shape."""
        path = request.url.path
        if path.startswith(f"/{API_VERSION}/"):
            if exc.status_code == 405:
                error = TwilioApiError(405, errors.METHOD_NOT_ALLOWED, "Method not allowed")
                return error.response()
            if exc.status_code == 404:
                return not_found(path).response()
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.middleware("http")
    async def authenticate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """HTTP Basic with AccountSid:AuthToken on everything under /2010-04-01/."""
        path = request.url.path
        # Every request, /sim/ ones too: an inbound call's RecordingUrl needs it.
        sim.base_url = str(request.base_url).rstrip("/")
        if not path.startswith(f"/{API_VERSION}/"):
            return await call_next(request)
        failing = sim.outage.now()
        if failing == OUTAGE_ERROR:
            return TwilioApiError(500, errors.INTERNAL, "Simulated outage").response()
        if failing == OUTAGE_HANG:
            await sim.outage.hang()  # the client's timeout comes first
            return TwilioApiError(503, errors.INTERNAL, "Simulated outage").response()
        if not _credentials_ok(request.headers.get("authorization"), config):
            logger.info("401 for %s %s", request.method, path)
            return unauthorized().response()
        match = re.match(rf"^/{API_VERSION}/Accounts/([^/.]+)", path)
        if match and match.group(1) != config.account_sid:
            return not_found(path).response()
        return await call_next(request)

    # Twilio's REST surface -----------------------------------------------------------

    _rest_resource(app, "Calls", sim.create_call, lambda: sim.state.calls, sim)
    _rest_resource(app, "Messages", sim.create_message, lambda: sim.state.messages, sim)
    _rest_resource(app, "Recordings", None, lambda: sim.state.recordings, sim)

    @app.delete(PREFIX + "/Recordings/{sid}.json", status_code=204)
    async def delete_recording(account_sid: str, sid: str, request: Request) -> Response:
        with sim.state.lock:
            _found(sim.state.recordings, sid, request)
            del sim.state.recordings[sid]
        return Response(status_code=204)

    # Registered after .../Recordings/{sid}.json, which would otherwise match here too.
    @app.get(PREFIX + "/Recordings/{media}", name="recording_media")
    async def recording_media(account_sid: str, media: str, request: Request) -> Response:
        """The audio: WAV without an extension (as Twilio serves it) or with ``.wav``; MP3."""
        sid, dot, extension = media.partition(".")
        if dot and extension not in ("wav", "mp3"):
            raise not_found(request.url.path)
        recording = _found(sim.state.recordings, sid, request)
        if extension == "mp3":
            return Response(silent_mp3(recording.duration), media_type="audio/mpeg")
        return Response(silent_wav(recording.duration), media_type="audio/x-wav")

    @app.post(PREFIX + "/Calls/{sid}.json")
    async def update_call(account_sid: str, sid: str, request: Request) -> dict[str, Any]:
        call = _found(sim.state.calls, sid, request)
        return sim.update_call(call, await _form(request)).resource()

    # The simulator's own control and inspection API ----------------------------------

    @app.put("/sim/scripts/{phone}")
    async def put_script(phone: str, body: ScriptBody) -> Any:
        """Queues behaviours for ``phone`` (replacing what was queued, unless ``append``)."""
        try:
            sim.set_script(phone, body)
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return {"phone": phone, **sim.state.script_for(phone).to_json()}

    @app.get("/sim/scripts")
    async def get_scripts() -> dict[str, Any]:
        with sim.state.lock:
            return {phone: s.to_json() for phone, s in sim.state.scripts.items()}

    _inspection(app, sim, "calls", "call", lambda: sim.state.calls)
    _inspection(app, sim, "messages", "message", lambda: sim.state.messages)
    _inspection(app, sim, "recordings", "recording", lambda: sim.state.recordings)

    @app.put("/sim/numbers/{phone}")
    async def put_number(phone: str, body: NumberBody) -> dict[str, Any]:
        """Where inbound calls and SMS to ``phone`` go (kept across ``DELETE /sim/state``)."""
        return sim.set_number(phone, body).to_json()

    @app.get("/sim/numbers")
    async def get_numbers() -> dict[str, Any]:
        with sim.state.lock:
            numbers = [n.to_json() for n in sim.state.numbers.values()]
        return {"numbers": numbers, "voice_url": config.voice_url, "sms_url": config.sms_url}

    @app.delete("/sim/numbers/{phone}")
    async def delete_number(phone: str) -> dict[str, Any]:
        with sim.state.lock:
            removed = sim.state.numbers.pop(phone, None)
        return {"phone": phone, "removed": removed is not None}

    @app.post("/sim/inbound-calls", status_code=201)
    async def inbound_call(body: InboundCallBody) -> Any:
        """A resident calls one of our numbers; the call plays out in the background."""
        try:
            call = sim.receive_call(body)
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return JSONResponse({"sid": call.sid, "status": call.status}, status_code=201)

    @app.post("/sim/inbound-messages", status_code=201)
    async def inbound_message(body: InboundMessageBody) -> Any:
        """A resident texts one of our numbers; answers once the application has answered."""
        return JSONResponse(await sim.receive_message(body), status_code=201)

    @app.post("/sim/wait")
    async def sim_wait(max_wait: float = 30.0) -> dict[str, Any]:
        """Returns once every call and message has played out (or ``max_wait`` seconds passed)."""
        idle = await sim.wait_idle(max_wait)
        return {"settled": idle, "pending": len(sim.tasks)}

    @app.delete("/sim/state")
    async def sim_reset() -> dict[str, Any]:
        """Forgets calls, messages and scripts (running calls are cancelled first)."""
        for task in list(sim.tasks):
            task.cancel()
        if sim.tasks:
            await asyncio.gather(*sim.tasks, return_exceptions=True)
        sim.state.reset()
        return {"reset": True}

    @app.put("/sim/outage")
    async def sim_outage(body: OutageBody) -> dict[str, Any]:
        """From now on for ``seconds``, the REST API fails: 500s (``error``) or no answer
        until the outage ends (``hang``, longer than any client waits); ``seconds`` 0 ends it."""
        sim.outage.begin(body.mode, body.seconds)
        return {"mode": body.mode, "seconds": body.seconds}

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"ok": True, "account_sid": account_sid, "pending": len(sim.tasks)}

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        with sim.state.lock:
            calls = list(sim.state.calls.values())
            messages = list(sim.state.messages.values())
        return render_page(calls, messages, account_sid)

    return app


def _credentials_ok(header: str | None, config: SimConfig) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, _, password = decoded.partition(":")
    # Constant-time comparisons, as a real credential check should be.
    return hmac.compare_digest(user.encode(), config.account_sid.encode()) and (
        hmac.compare_digest(password.encode(), config.auth_token.encode())
    )
