"""The resident's phone: plays out a call or an SMS the way Twilio and the handset would.

A call runs as one background task: progress status callbacks, then (when the script answers)
a TwiML conversation with the application, then the final status callback. Nothing sleeps on
simulated time: a gather that would wait ``timeout`` seconds just adds those seconds to the
call's duration, so tests run fast and CallDuration still looks like a real call's.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from twilio_sim.state import (
    API_VERSION,
    Heard,
    SimCall,
    SimMessage,
    SimRecording,
    SimState,
    WebhookRecord,
    new_sid,
    rfc2822,
    utcnow,
)
from twilio_sim.webhooks import WebhookSender

logger = logging.getLogger("twilio_sim.phone")

# TwiML errors, with Twilio's codes, recorded on the call when the application misbehaves.
HTTP_RETRIEVAL_FAILURE = 11200
DOCUMENT_PARSE_FAILURE = 12100
TOO_MANY_FETCHES = 11205  # the simulator's loop guard; Twilio would keep going

# Seconds of talk per character of <Say> text, for a plausible CallDuration.
_SECONDS_PER_CHAR = 0.15
# <Record>'s and <Dial>'s defaults, as Twilio documents them.
_RECORD_MAX_LENGTH = 3600
_RECORD_FINISH_ON_KEY = "1234567890*#"
_DIAL_TIMEOUT = 30
# How long the party a <Dial> reaches stays on the line, for DialCallDuration.
_DIALED_TALK_SECONDS = 30


@dataclass(frozen=True)
class _Next:
    """The next TwiML request of a call: a gather's action, a redirect, a live update."""

    kind: str
    url: str
    method: str
    extra: dict[str, str]
    # The caller has hung up: the request is still made (Twilio reports the recording), but
    # whatever TwiML it answers is never played.
    caller_gone: bool = False


class CallRunner:
    """Plays one call out; create it and ``await run()`` in a background task."""

    def __init__(
        self,
        call: SimCall,
        state: SimState,
        sender: WebhookSender,
        *,
        max_twiml_fetches: int,
        step_delay: float,
    ) -> None:
        self.call = call
        self.state = state
        self.sender = sender
        self.max_twiml_fetches = max_twiml_fetches
        self.step_delay = step_delay
        self.fetches = 0
        self.presses = list(call.behaviour.digits)
        self.recording_lengths = list(call.recording_seconds)

    # ---- status callbacks -------------------------------------------------------------

    def _voice_params(self) -> dict[str, str]:
        call = self.call
        params = {
            "AccountSid": call.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": call.status,
            "Called": call.to,
            "Caller": call.from_,
            "Direction": call.direction,
            "From": call.from_,
            "To": call.to,
        }
        if call.answered_by is not None:
            params["AnsweredBy"] = call.answered_by
        return params

    async def _progress(self, event: str, callback_status: str) -> None:
        """Sends the status callback of ``event`` if the application asked for that event.

        ``callback_status`` is the CallStatus Twilio reports (``initiated`` is only ever a
        callback value; the resource itself stays ``queued``).
        """
        call = self.call
        if not call.status_callback or event not in call.status_callback_events:
            return
        params = self._voice_params()
        params["CallStatus"] = callback_status
        params["CallbackSource"] = "call-progress-events"
        params["Timestamp"] = rfc2822(utcnow()) or ""
        params["SequenceNumber"] = str(call.sequence_number)
        call.sequence_number += 1
        if event == "completed":
            params["CallDuration"] = str(call.duration or 0)
            params["Duration"] = str(-(-(call.duration or 0) // 60))  # billed minutes
        copies = 2 if call.duplicate_callbacks else 1
        for _ in range(copies):
            # A duplicate is the same delivery again (same SequenceNumber and Timestamp),
            # which is what the application has to recognise.
            record = await self.sender.send(
                "status", call.status_callback_method, call.status_callback, params
            )
            self._keep(record)

    def _keep(self, record: WebhookRecord) -> None:
        with self.state.lock:
            self.call.webhooks.append(record)

    async def _pause(self) -> None:
        if self.step_delay > 0:
            await asyncio.sleep(self.step_delay)

    # ---- the call ---------------------------------------------------------------------

    async def run(self) -> None:
        call = self.call
        behaviour = call.behaviour
        try:
            await self._pause()
            await self._progress("initiated", "initiated")
            if call.end_requested:
                await self._finish("canceled")
                return
            call.set_status("ringing")
            await self._progress("ringing", "ringing")
            await self._pause()
            if call.direction == "inbound":
                # Our number "answers" by fetching its Voice URL while the call rings.
                await self._converse()
                await self._finish("completed")
                return
            if call.end_requested:
                await self._finish("canceled")
                return
            if not behaviour.answers:
                await self._finish(behaviour.kind)
                return
            call.start_time = utcnow()
            if call.machine_detection:
                if behaviour.kind == "machine":
                    call.answered_by = (
                        "machine_end_beep"
                        if call.machine_detection == "DetectMessageEnd"
                        else "machine_start"
                    )
                else:
                    call.answered_by = "human"
            call.set_status("in-progress")
            await self._progress("answered", "in-progress")
            await self._converse()
            await self._finish("completed")
        except asyncio.CancelledError:
            call.errors.append({"code": None, "message": "simulator shut down mid-call"})
            raise
        except Exception as exc:  # a bug here must not leave a call hanging forever
            logger.exception("call %s crashed in the simulator", call.sid)
            call.errors.append({"code": None, "message": f"simulator error: {exc!r}"})
            if not call.final:
                await self._finish("failed")

    async def _finish(self, status: str) -> None:
        call = self.call
        if call.status == "in-progress":
            call.end_time = utcnow()
            call.duration = max(1, round(call.talk_seconds))
        else:
            call.duration = 0
        call.set_status(status)
        await self._progress("completed", status)
        heard = '"' + " / ".join(h.text for h in call.heard) + '"' if call.heard else "nothing"
        pressed = ",".join(call.pressed) or "nothing"
        if call.hung_up_by_resident:
            pressed += " (hung up)"
        logger.info(
            "call %s to %s heard %s pressed %s → %s%s",
            call.sid,
            call.to,
            heard,
            pressed,
            status,
            f" (answered by {call.answered_by})" if call.answered_by else "",
        )

    # ---- TwiML ------------------------------------------------------------------------

    async def _fetch(self, kind: str, url: str, method: str, extra: dict[str, str]) -> str | None:
        """Requests TwiML; None (with an error recorded on the call) when there is none."""
        call = self.call
        if self.fetches >= self.max_twiml_fetches:
            call.errors.append(
                {
                    "code": TOO_MANY_FETCHES,
                    "message": f"more than {self.max_twiml_fetches} TwiML requests in one call;"
                    " the simulator hung up (a <Redirect> loop?)",
                    "url": url,
                }
            )
            return None
        self.fetches += 1
        params = self._voice_params()
        params.update(extra)
        record = await self.sender.send(kind, method, url, params)
        self._keep(record)
        if record.status_code is None or not 200 <= record.status_code < 300:
            call.errors.append(
                {
                    "code": HTTP_RETRIEVAL_FAILURE,
                    "message": f"HTTP retrieval failure: {record.status_code or record.error}",
                    "url": url,
                }
            )
            return None
        return record.body

    async def _converse(self) -> None:
        call = self.call
        if call.twiml is not None:
            document: str | None = call.twiml
            doc_url = call.url  # inline TwiML has no URL; relative actions cannot resolve
        else:
            assert call.url is not None
            doc_url = call.url
            document = await self._fetch("voice", call.url, call.method, {})
        if call.status == "ringing":
            # An inbound call is in progress once its TwiML is there to play.
            call.start_time = utcnow()
            call.set_status("in-progress")
            await self._progress("answered", "in-progress")
        while document is not None:
            step = await self._play(document, doc_url)
            if call.end_requested:
                return
            if call.redirect_requested:
                url, method = call.redirect_requested
                call.redirect_requested = None
                step = _Next("redirect", url, method, {})
            if step is None:
                return
            doc_url = step.url
            document = await self._fetch(step.kind, step.url, step.method, step.extra)
            if step.caller_gone:
                return

    async def _play(self, document: str, doc_url: str | None) -> _Next | None:
        """Runs one TwiML document; returns the request it leads to, or None to hang up."""
        call = self.call
        try:
            root = ET.fromstring(document)
        except ET.ParseError as exc:
            call.errors.append(
                {"code": DOCUMENT_PARSE_FAILURE, "message": f"TwiML parse error: {exc}"}
            )
            return None
        if verb_name(root) != "Response":
            call.errors.append(
                {
                    "code": DOCUMENT_PARSE_FAILURE,
                    "message": f"TwiML root is <{verb_name(root)}>, not <Response>",
                }
            )
            return None
        for verb in root:
            name = verb_name(verb)
            if name in ("Say", "Play", "Pause"):
                self._listen(verb)
            elif name == "Gather":
                step = self._gather(verb, doc_url)
                if step == "hangup":
                    return None
                if isinstance(step, _Next):
                    return step
            elif name == "Redirect":
                target = (verb.text or "").strip()
                resolved = self._resolve(target, doc_url)
                if resolved is None:
                    return None
                return _Next("redirect", resolved, verb.get("method", "POST").upper(), {})
            elif name == "Record":
                step = await self._record(verb, doc_url)
                if step == "hangup":
                    return None
                if isinstance(step, _Next):
                    return step
            elif name == "Dial":
                dialed = self._dial(verb, doc_url)
                if dialed is not None:
                    return dialed
            elif name in ("Hangup", "Reject"):
                return None
            else:
                # Enqueue, Connect... are not simulated; note them so a test can tell.
                call.errors.append({"code": None, "message": f"<{name}> is not simulated"})
        # Twilio hangs up when a document runs out of verbs.
        return None

    def _listen(self, verb: ET.Element) -> None:
        name = verb_name(verb)
        if name == "Say":
            text = "".join(verb.itertext()).strip()
            heard = Heard(text=text, language=verb.get("language"), voice=verb.get("voice"))
            self.call.heard.append(heard)
            loops = max(1, _int(verb.get("loop"), 1))
            self.call.talk_seconds += len(text) * _SECONDS_PER_CHAR * loops
        elif name == "Play":
            self.call.heard.append(Heard(text=(verb.text or "").strip(), verb="Play"))
            self.call.talk_seconds += 5
        elif name == "Pause":
            self.call.talk_seconds += _int(verb.get("length"), 1)

    def _gather(self, verb: ET.Element, doc_url: str | None) -> _Next | str | None:
        """A <Gather>: the prompt is heard, then the script presses keys (or does not)."""
        call = self.call
        for child in verb:
            if verb_name(child) in ("Say", "Play", "Pause"):
                self._listen(child)
        if call.behaviour.kind == "hangup":
            call.hung_up_by_resident = True
            self._note("resident hung up during <Gather>")
            return "hangup"
        keys = self.presses.pop(0) if self.presses else ""
        finish_on_key = verb.get("finishOnKey", "#")
        finished_on = ""
        if finish_on_key and finish_on_key in keys:
            keys = keys[: keys.index(finish_on_key)]
            finished_on = finish_on_key
        num_digits = _int(verb.get("numDigits"), 0)
        if num_digits > 0:
            keys = keys[:num_digits]
        action = self._resolve(verb.get("action"), doc_url)
        method = verb.get("method", "POST").upper()
        if keys:
            call.pressed.append(keys)
            call.talk_seconds += len(keys)
            if action is None:
                return "hangup"
            return _Next("gather", action, method, {"Digits": keys, "FinishedOnKey": finished_on})
        # No input: Twilio waits `timeout` seconds, then goes on with the next verb, unless
        # actionOnEmptyResult asks it to post the empty result to the action.
        call.talk_seconds += _int(verb.get("timeout"), 5)
        if verb.get("actionOnEmptyResult", "false").lower() == "true" and action is not None:
            return _Next("gather", action, method, {"Digits": "", "FinishedOnKey": ""})
        return None

    async def _record(self, verb: ET.Element, doc_url: str | None) -> _Next | str | None:
        """A <Record>: a beep, the caller speaks their scripted seconds, a key (or hanging up)
        ends it. An empty recording (0 seconds) posts nothing: Twilio documents that it then
        goes on with the next verb instead of requesting the action."""
        call = self.call
        if call.behaviour.kind == "hangup":
            call.hung_up_by_resident = True
            self._note("resident hung up at <Record>")
            return "hangup"
        if verb.get("playBeep", "true").lower() != "false":
            call.heard.append(Heard(text="beep", verb="Record"))
        spoken = self.recording_lengths.pop(0) if self.recording_lengths else 0
        if not self.recording_lengths:
            self.recording_lengths.append(spoken)  # the last length repeats
        max_length = _int(verb.get("maxLength"), _RECORD_MAX_LENGTH) or _RECORD_MAX_LENGTH
        if spoken <= 0:
            call.talk_seconds += _int(verb.get("timeout"), 5)
            self._note("<Record> heard silence: no recording, on to the next verb")
            return None
        duration = min(spoken, max_length)
        finish_on_key = verb.get("finishOnKey", _RECORD_FINISH_ON_KEY)
        if call.record_finish == "hangup":
            digits = "hangup"
        elif spoken >= max_length:
            digits = ""  # cut off at maxLength: no key ended it
        elif call.record_finish and call.record_finish in finish_on_key:
            digits = call.record_finish
        elif finish_on_key:
            digits = "#" if "#" in finish_on_key else finish_on_key[0]
        else:
            digits = ""  # no key ends it: the silence timeout does
            call.talk_seconds += _int(verb.get("timeout"), 5)
        call.talk_seconds += duration
        recording = SimRecording(
            sid=new_sid("RE"),
            account_sid=call.account_sid,
            call_sid=call.sid,
            duration=duration,
            public_base_url=call.public_base_url,
        )
        with self.state.lock:
            self.state.recordings[recording.sid] = recording
            call.recording_sids.append(recording.sid)
        recording_url = call.public_base_url + recording.base_uri()
        if digits and digits != "hangup":
            call.pressed.append(digits)
        if digits == "hangup":
            call.hung_up_by_resident = True
            self._note(f"resident hung up after recording {duration}s")
        await self._recording_status(verb, doc_url, recording, recording_url)
        action = self._resolve(verb.get("action"), doc_url)
        if action is None:
            return "hangup"
        extra = {
            "RecordingUrl": recording_url,
            "RecordingSid": recording.sid,
            "RecordingDuration": str(duration),
            "Digits": digits,
        }
        method = verb.get("method", "POST").upper()
        return _Next("record", action, method, extra, caller_gone=digits == "hangup")

    async def _recording_status(
        self, verb: ET.Element, doc_url: str | None, recording: SimRecording, url: str
    ) -> None:
        callback = verb.get("recordingStatusCallback")
        if not callback:
            return
        target = self._resolve(callback, doc_url)
        if target is None:
            return
        call = self.call
        params = {
            "AccountSid": call.account_sid,
            "CallSid": call.sid,
            "RecordingSid": recording.sid,
            "RecordingUrl": url,
            "RecordingStatus": recording.status,
            "RecordingDuration": str(recording.duration),
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
            "RecordingStartTime": rfc2822(recording.start_time) or "",
            "ErrorCode": "0",
        }
        method = verb.get("recordingStatusCallbackMethod", "POST").upper()
        self._keep(await self.sender.send("recording-status", method, target, params))

    def _dial(self, verb: ET.Element, doc_url: str | None) -> _Next | None:
        """A <Dial>: the caller is put through to a number (a <Number> child or the text).

        The dialed party does what the call's ``dial_outcome`` says. With an action Twilio
        requests it when the dialed leg ends; without one it goes on with the next verb."""
        call = self.call
        numbers = [(n.text or "").strip() for n in verb if verb_name(n) == "Number"]
        number = numbers[0] if numbers else (verb.text or "").strip()
        outcome = call.dial_outcome
        seconds = _DIALED_TALK_SECONDS if outcome == "completed" else 0
        if outcome == "no-answer":
            call.talk_seconds += _int(verb.get("timeout"), _DIAL_TIMEOUT)
        call.talk_seconds += seconds
        dialed = {
            "number": number,
            "caller_id": verb.get("callerId") or call.to,
            "status": outcome,
            "duration": seconds,
            "sid": new_sid("CA"),
            "at": utcnow().isoformat(),
        }
        call.dialed.append(dialed)
        call.events.append(
            {"status": call.status, "at": dialed["at"], "note": f"dialed {number}: {outcome}"}
        )
        action = verb.get("action")
        if not action:
            return None
        resolved = self._resolve(action, doc_url)
        if resolved is None:
            return None
        extra = {"DialCallStatus": outcome, "DialCallSid": str(dialed["sid"])}
        if outcome == "completed":
            extra["DialCallDuration"] = str(seconds)
        return _Next("dial", resolved, verb.get("method", "POST").upper(), extra)

    def _note(self, note: str) -> None:
        self.call.events.append(
            {"status": self.call.status, "at": utcnow().isoformat(), "note": note}
        )

    def _resolve(self, target: str | None, doc_url: str | None) -> str | None:
        """A TwiML URL resolved against the document's URL (empty or missing: the document)."""
        if not target:
            if doc_url is None:
                self.call.errors.append({"code": None, "message": "no URL to continue with"})
            return doc_url
        if doc_url is None:
            if target.startswith(("http://", "https://")):
                return target
            self.call.errors.append(
                {"code": None, "message": f"relative URL {target!r} in inline TwiML"}
            )
            return None
        return urljoin(doc_url, target)


def verb_name(element: ET.Element) -> str:
    """The verb's name without any XML namespace."""
    return element.tag.rsplit("}", 1)[-1]


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


class MessageRunner:
    """Plays one SMS out: sent, then delivered (or undelivered / failed), with callbacks."""

    def __init__(
        self, message: SimMessage, state: SimState, sender: WebhookSender, *, step_delay: float
    ) -> None:
        self.message = message
        self.state = state
        self.sender = sender
        self.step_delay = step_delay

    async def _callback(self, status: str) -> None:
        message = self.message
        with self.state.lock:
            message.set_status(status)
        if not message.status_callback:
            return
        params: dict[str, Any] = {
            "AccountSid": message.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_ or "",
            "To": message.to,
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": status,
            "SmsStatus": status,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if status in ("undelivered", "failed") and message.error_code is not None:
            params["ErrorCode"] = str(message.error_code)
        copies = 2 if message.duplicate_callbacks else 1
        for _ in range(copies):
            record = await self.sender.send(
                "message-status", "POST", message.status_callback, params
            )
            with self.state.lock:
                message.webhooks.append(record)

    async def run(self) -> None:
        message = self.message
        behaviour = message.behaviour
        try:
            if self.step_delay > 0:
                await asyncio.sleep(self.step_delay)
            if behaviour.kind == "failed":
                # Failed means it never left Twilio: no "sent" first.
                message.error_code = behaviour.error_code
                message.error_message = "Message failed"
                await self._callback("failed")
            else:
                message.date_sent = utcnow()
                await self._callback("sent")
                if self.step_delay > 0:
                    await asyncio.sleep(self.step_delay)
                if behaviour.kind == "undelivered":
                    message.error_code = behaviour.error_code
                    message.error_message = "Message undelivered"
                    await self._callback("undelivered")
                else:
                    await self._callback("delivered")
            logger.info(
                'sms %s to %s "%s" → %s', message.sid, message.to, message.body, message.status
            )
        except Exception:
            logger.exception("message %s crashed in the simulator", message.sid)
            raise
