"""A stand-in for the application's Twilio webhooks: serves TwiML, records what it received.

Every request's ``X-Twilio-Signature`` is checked with the SDK's ``RequestValidator``, the way
the real application must check it, and the verdict is recorded with the request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from fastapi import FastAPI, Request, Response
from twilio.request_validator import RequestValidator

TWIML = "application/xml"


@dataclass(frozen=True)
class Received:
    """One webhook request as the application saw it."""

    method: str
    path: str
    url: str
    params: dict[str, str]
    signature: str
    signature_valid: bool


@dataclass
class Recorder:
    auth_token: str
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    flaky_failures: int = 0

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.flaky_failures = 0

    def to(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.requests)


def _twiml(body: str) -> Response:
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>', 200, media_type=TWIML
    )


def create_webhook_app(recorder: Recorder) -> FastAPI:
    app = FastAPI()
    validator = RequestValidator(recorder.auth_token)

    async def record(request: Request) -> dict[str, str]:
        raw = (await request.body()).decode()
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        url = str(request.url)
        signature = request.headers.get("X-Twilio-Signature", "")
        if request.method == "GET":
            # GET webhooks carry the parameters in the query string, which the signature covers.
            params = {k: v[-1] for k, v in parse_qs(request.url.query).items()}
            valid = validator.validate(url, {}, signature)
        else:
            params = form
            valid = validator.validate(url, form, signature)
        with recorder.lock:
            recorder.requests.append(
                Received(request.method, request.url.path, url, params, signature, bool(valid))
            )
        return params

    @app.api_route("/voice/{case}/twiml", methods=["GET", "POST"])
    async def twiml(case: str, request: Request) -> Response:
        await record(request)
        if case == "redirect":
            # Relative to this document: /voice/redirect/../main/twiml = /voice/main/twiml.
            return _twiml(
                '<Say language="zh-CN">请稍候。</Say>'
                '<Redirect method="POST">../main/twiml</Redirect>'
            )
        if case == "loop":
            return _twiml("<Redirect>twiml</Redirect>")
        if case == "broken":
            return Response("this is not TwiML", 200, media_type=TWIML)
        return _twiml(
            '<Say language="zh-CN">您好，这里是志愿服务中心。</Say>'
            '<Gather action="gather" method="POST" numDigits="1" timeout="5">'
            '<Say language="zh-CN">满意请按1，不满意请按2。</Say>'
            "</Gather>"
            '<Say language="zh-CN">没有收到您的按键，再见。</Say>'
            "<Hangup/>"
        )

    @app.post("/voice/{case}/gather")
    async def gather(case: str, request: Request) -> Response:
        params = await record(request)
        digits = params.get("Digits", "")
        if digits == "7":
            return _twiml(
                f'<Gather action="/voice/{case}/second" numDigits="1">'
                '<Say language="zh-CN">第二题：需要回访请按2。</Say></Gather>'
            )
        return _twiml(f'<Say language="zh-CN">谢谢，您按了{digits}。</Say><Hangup/>')

    @app.post("/voice/{case}/second")
    async def second(case: str, request: Request) -> Response:
        params = await record(request)
        return _twiml(f'<Say language="zh-CN">第二题收到{params.get("Digits", "")}。</Say>')

    @app.api_route("/voice/{case}/status", methods=["GET", "POST"])
    async def call_status(case: str, request: Request) -> Response:
        await record(request)
        return Response(status_code=204)

    @app.post("/sms/status")
    async def sms_status(request: Request) -> Response:
        await record(request)
        return Response(status_code=204)

    # Our number's IVR: a menu, a second menu, a recorded message, a transfer to a hotline.

    @app.post("/ivr/voice")
    async def ivr_voice(request: Request) -> Response:
        await record(request)
        return _twiml(
            '<Gather action="menu" numDigits="1" timeout="5">'
            '<Say language="zh-CN">求助请按1，留言请按2，转人工请按0。</Say></Gather>'
            '<Say language="zh-CN">没有收到按键，再见。</Say>'
        )

    @app.post("/ivr/menu")
    async def ivr_menu(request: Request) -> Response:
        digits = (await record(request)).get("Digits", "")
        if digits == "1":
            return _twiml(
                '<Gather action="township" numDigits="1">'
                '<Say language="zh-CN">城关镇请按1，河口镇请按3。</Say></Gather>'
            )
        if digits == "2":
            return _twiml(
                '<Say language="zh-CN">请在提示音后说出您的地址和需要，按井号键结束。</Say>'
                '<Record action="recorded" method="POST" maxLength="60" playBeep="true"'
                ' finishOnKey="#" timeout="5" recordingStatusCallback="recording-status"/>'
                '<Say language="zh-CN">没有听到您的留言，再见。</Say>'
            )
        if digits == "0":
            return _twiml(
                '<Say language="zh-CN">正在为您转接。</Say>'
                '<Dial callerId="+15005550006" timeout="20" action="dialed">'
                "<Number>+8609121234567</Number></Dial>"
            )
        return _twiml('<Dial timeout="20">+8612349</Dial><Say language="zh-CN">转接已结束。</Say>')

    @app.post("/ivr/recording-status")
    async def ivr_recording_status(request: Request) -> Response:
        await record(request)
        return Response(status_code=204)

    # The IVR's last steps: each says back the one parameter it was posted.
    last_steps = {
        "township": ("Digits", '<Say language="zh-CN">已记下乡镇{}。</Say><Hangup/>'),
        "recorded": ("RecordingDuration", '<Say language="zh-CN">已收到{}秒留言。</Say><Hangup/>'),
        "dialed": ("DialCallStatus", '<Say language="zh-CN">转接{}。</Say>'),
    }

    @app.post("/ivr/{step}")
    async def ivr_last_step(step: str, request: Request) -> Response:
        name, template = last_steps[step]
        return _twiml(template.format((await record(request)).get(name, "")))

    @app.post("/sms/inbound")
    async def sms_inbound(request: Request) -> Response:
        """Answers each SMS once: a redelivery of a MessageSid already answered gets nothing."""
        params = await record(request)
        sid = params.get("MessageSid")
        deliveries = [r for r in recorder.to("/sms/inbound") if r.params.get("MessageSid") == sid]
        if len(deliveries) > 1:
            return _twiml("")
        return _twiml(f"<Message>收到：{escape(params.get('Body', ''))}</Message>")

    @app.post("/flaky/status")
    async def flaky_status(request: Request) -> Response:
        """Fails the first delivery with a 503, then accepts: the simulator must retry."""
        await record(request)
        with recorder.lock:
            recorder.flaky_failures += 1
            first = recorder.flaky_failures == 1
        return Response(status_code=503 if first else 204)

    return app
