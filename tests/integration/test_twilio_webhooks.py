"""Twilio's webhooks: the signature matrix, the TwiML they answer, what reaches the workflow.

The app runs in-process behind an imagined proxy: Twilio calls ``PUBLIC_BASE_URL`` (https,
another host, a path prefix); the app sees ``http://testserver``. No worker runs, so a
signal that got through stays visible in the workflow's history, and one refused never is.
The webhooks are public routes: Twilio signs in with its signature, never a bearer token.
"""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from twilio.request_validator import RequestValidator

from api.commands import OrderCommands
from api.database import Database
from api.gateway import OrderGateway
from api.main import create_app
from api.stores import orders
from core.db import utcnow
from core.models import CallRequest, FollowUp, FollowUpCall, InboundSms, SmsMessage
from core.settings import Settings
from tests.helpers import COUNTY_ADMIN, RESIDENT, order_body
from tests.phones import AUTH_TOKEN, with_twilio
from tests.signin import staff
from workflows.order import OrderWorkflow, workflow_id

PUBLIC = "https://volunteer.example.org/fourorders"


@pytest.fixture
def public_settings(live_settings: Settings) -> Settings:
    return with_twilio(live_settings, api_base_url="http://127.0.0.1:9", public_base_url=PUBLIC)


@pytest.fixture
async def app(public_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(public_settings, reconcile_every=timedelta(hours=1))
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://testserver"
        ) as client,
    ):
        yield client


def _call_row(session: Session, order_id: int) -> int:
    follow_up = FollowUp(order_id=order_id, status="calling", created_at=utcnow())
    session.add(follow_up)
    session.flush()
    call = FollowUpCall(
        order_id=order_id,
        follow_up_id=follow_up.id,
        attempt=1,
        state="placed",
        to_number="+8613800138000",
        call_sid="CA" + uuid.uuid4().hex,
    )
    session.add(call)
    session.flush()
    return call.id


@pytest.fixture
async def call(
    temporal: Client, database: Database, public_settings: Settings, township: str
) -> tuple[int, int]:
    """(order id, call id): an order whose workflow exists (no worker), and a placed call."""
    submitted = await database.run(
        orders.create_order,
        order_body(township),
        RESIDENT,
        idempotency_key=None,
        completion_sla=timedelta(hours=72),
    )
    await OrderCommands(
        OrderGateway(temporal), database, public_settings, COUNTY_ADMIN
    ).ensure_workflow(submitted)
    call_id = await database.run(_call_row, submitted.order_id)
    return submitted.order_id, call_id


def sign(url: str, params: dict[str, str]) -> str:
    return str(RequestValidator(AUTH_TOKEN).compute_signature(url, params))


async def post(
    app: httpx.AsyncClient,
    path: str,
    params: dict[str, str],
    *,
    signed_url: str | None = None,
    signed_params: dict[str, str] | None = None,
    signature: str | None = "compute",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST ``params`` to ``path`` as Twilio would, signed for ``signed_url`` (default: right)."""
    url = signed_url or PUBLIC + path
    all_headers = dict(headers or {})
    if signature == "compute":
        all_headers["X-Twilio-Signature"] = sign(url, signed_params or params)
    elif signature is not None:
        all_headers["X-Twilio-Signature"] = signature
    return await app.post(path, data=params, headers=all_headers)


async def signals(temporal: Client, order_id: int) -> list[Any]:
    handle = temporal.get_workflow_handle_for(OrderWorkflow.run, workflow_id(order_id))
    history = await handle.fetch_history()
    return [
        e.workflow_execution_signaled_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.text)


def voice_params(sid: str = "CA1", **extra: str) -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": "AC" + "7" * 32, "CallStatus": "in-progress", **extra}


async def test_a_correctly_signed_answer_gets_the_prompt_and_reaches_the_workflow(
    app: httpx.AsyncClient, temporal: Client, call: tuple[int, int]
) -> None:
    order_id, call_id = call
    response = await post(app, f"/api/twilio/calls/{call_id}/voice", voice_params("CAok"))
    doc = twiml(response)
    gather = doc.find("Gather")
    assert gather is not None
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == f"{PUBLIC}/api/twilio/calls/{call_id}/gather?round=1"
    say = gather.find("Say")
    assert say is not None and say.get("language") == "zh-CN"
    assert "空巢老人探访" in (say.text or "") and "按9" in (say.text or "")
    [signal] = await signals(temporal, order_id)
    assert signal.signal_name == "call_progress"


@pytest.mark.parametrize(
    "case",
    [
        "tampered parameter",
        "wrong url",
        "missing header",
        "http, not the public https",
        "host",
        "a staff token instead of a signature",
    ],
)
async def test_a_bad_signature_is_refused_and_changes_nothing(
    app: httpx.AsyncClient,
    temporal: Client,
    database: Database,
    public_settings: Settings,
    call: tuple[int, int],
    case: str,
) -> None:
    order_id, call_id = call
    path = f"/api/twilio/calls/{call_id}/gather?round=1"
    params = voice_params("CAbad", Digits="4")
    if case == "tampered parameter":
        response = await post(app, path, params, signed_params={**params, "Digits": "1"})
    elif case == "wrong url":
        response = await post(app, path, params, signed_url=f"{PUBLIC}/api/twilio/calls/999/voice")
    elif case == "missing header":
        response = await post(app, path, params, signature=None)
    elif case == "http, not the public https":
        http_url = PUBLIC.replace("https://", "http://") + path
        response = await post(app, path, params, signed_url=http_url)
    elif case == "a staff token instead of a signature":
        # Signing in is for people: only Twilio's signature lets a webhook through.
        admin = await staff(database, public_settings)
        response = await post(app, path, params, signature=None, headers=admin)
    else:
        # Signed for the address the Host header claims: the app must not believe it.
        response = await post(
            app,
            path,
            params,
            signed_url=f"http://testserver{path}",
            headers={"X-Forwarded-Proto": "http"},
        )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "InvalidTwilioSignature"
    assert await signals(temporal, order_id) == []


async def test_the_gather_answers(app: httpx.AsyncClient, call: tuple[int, int]) -> None:
    _, call_id = call
    gather = f"/api/twilio/calls/{call_id}/gather"

    # A rating: thanks and hang up.
    doc = twiml(await post(app, f"{gather}?round=1", voice_params(Digits="2")))
    assert [child.tag for child in doc] == ["Say", "Hangup"]
    assert "满意" in (doc[0].text or "")
    # 9: a person will call.
    doc = twiml(await post(app, f"{gather}?round=1", voice_params(Digits="9")))
    assert [child.tag for child in doc] == ["Say", "Hangup"] and "工作人员" in (doc[0].text or "")
    # Invalid or nothing at the first prompt: once more, posting to round 2.
    for digits in ("7", ""):
        doc = twiml(await post(app, f"{gather}?round=1", voice_params(Digits=digits)))
        again = doc.find("Gather")
        assert again is not None and again.get("action", "").endswith("round=2")
    # ... and at the second, a polite end.
    doc = twiml(await post(app, f"{gather}?round=2", voice_params(Digits="")))
    assert [child.tag for child in doc] == ["Say", "Hangup"] and "再见" in (doc[0].text or "")
    # There is no third round.
    response = await post(app, f"{gather}?round=3", voice_params(Digits=""))
    assert response.status_code == 422


@pytest.mark.parametrize("reviewed", ["satisfied", "very_satisfied"])
async def test_a_confirming_call_keeps_each_keys_meaning_whatever_was_reviewed(
    app: httpx.AsyncClient,
    temporal: Client,
    database: Database,
    call: tuple[int, int],
    reviewed: str,
) -> None:
    order_id, call_id = call

    def confirming(session: Session) -> None:
        placed = session.get(FollowUpCall, call_id)
        assert placed is not None
        placed.confirm_rating = reviewed  # the call asks the resident to confirm their review

    await database.run(confirming)
    gather = f"/api/twilio/calls/{call_id}/gather"
    grade = {"very_satisfied": "非常满意", "satisfied": "满意"}[reviewed]

    doc = twiml(await post(app, f"/api/twilio/calls/{call_id}/voice", voice_params("CAc")))
    greeting = "".join(doc.itertext())
    assert f"您评价为{grade}，确认请按1；如需更改，请按2；" in greeting
    # 1 confirms the resident's own rating.
    doc = twiml(await post(app, f"{gather}?round=1", voice_params("CAc", Digits="1")))
    assert [child.tag for child in doc] == ["Say", "Hangup"]
    assert f"感谢您的评价：{grade}。" in (doc[0].text or "")
    # 2 opens the usual four grades, whose 2 is 满意 after either review.
    doc = twiml(await post(app, f"{gather}?round=1", voice_params("CAd", Digits="2")))
    menu = doc.find("Gather")
    assert menu is not None and menu.get("action", "").endswith("round=1&menu=1")
    assert "非常满意请按1，满意请按2，一般请按3，不满意请按4" in "".join(menu.itertext())
    doc = twiml(await post(app, f"{gather}?round=1&menu=1", voice_params("CAd", Digits="2")))
    assert "感谢您的评价：满意。" in (doc[0].text or "")
    doc = twiml(await post(app, f"{gather}?round=1&menu=1", voice_params("CAe", Digits="4")))
    assert "很抱歉" in (doc[0].text or "")
    # 3 means nothing on the confirming prompt: it plays once more.
    doc = twiml(await post(app, f"{gather}?round=1", voice_params("CAf", Digits="3")))
    again = doc.find("Gather")
    assert again is not None and again.get("action", "").endswith("round=2")

    # The workflow is told what each key meant, not left to guess from the digit.
    told = [
        (payload["event"], payload["digits"], payload["meaning"])
        for signal in await signals(temporal, order_id)
        for payload in [json.loads(signal.input.payloads[0].data)]
        if payload["event"].startswith("gather")
    ]
    assert told == [
        ("gather-1", "1", reviewed),
        ("gather-1", "2", "menu"),
        ("gather-menu-1", "2", "satisfied"),
        ("gather-menu-1", "4", "dissatisfied"),
        ("gather-1", "3", ""),
    ]


async def test_a_machine_is_hung_up_on_without_a_message(
    app: httpx.AsyncClient, temporal: Client, call: tuple[int, int]
) -> None:
    order_id, call_id = call
    params = voice_params("CAmachine", AnsweredBy="machine_start")
    doc = twiml(await post(app, f"/api/twilio/calls/{call_id}/voice", params))
    assert [child.tag for child in doc] == ["Hangup"]
    assert len(await signals(temporal, order_id)) == 1


async def test_status_callbacks_reach_the_workflow_and_unknown_calls_are_404(
    app: httpx.AsyncClient, temporal: Client, call: tuple[int, int]
) -> None:
    order_id, call_id = call
    params = voice_params("CAstatus", CallStatus="busy")
    response = await post(app, f"/api/twilio/calls/{call_id}/status", params)
    assert response.status_code == 204
    assert len(await signals(temporal, order_id)) == 1
    response = await post(app, "/api/twilio/calls/999999/status", params)
    assert response.status_code == 404


def _sms_row(session: Session) -> int:
    row = SmsMessage(
        key=f"test:{uuid.uuid4()}",
        notice="accepted",
        recipient_kind="resident",
        to_number="+8613800138000",
        body="【志愿服务】测试",
        state="sent",
        message_sid="SM" + uuid.uuid4().hex,
        delivery_status="queued",
    )
    session.add(row)
    session.flush()
    return row.id


def _delivery(session: Session, sms_id: int) -> tuple[str | None, int | None]:
    row = session.get(SmsMessage, sms_id)
    assert row is not None
    return row.delivery_status, row.error_code


async def test_sms_status_moves_forward_only(app: httpx.AsyncClient, database: Database) -> None:
    sms_id = await database.run(_sms_row)
    path = f"/api/twilio/sms/{sms_id}/status"
    sid = {"MessageSid": "SMx", "AccountSid": "AC" + "7" * 32}

    assert (await post(app, path, {**sid, "MessageStatus": "delivered"})).status_code == 204
    # A late "sent" (callbacks can arrive out of order) does not undo "delivered".
    assert (await post(app, path, {**sid, "MessageStatus": "sent"})).status_code == 204
    assert await database.run(_delivery, sms_id) == ("delivered", None)
    # A forged one is refused and changes nothing.
    forged = await post(
        app, path, {**sid, "MessageStatus": "failed", "ErrorCode": "30008"}, signature="forged"
    )
    assert forged.status_code == 403
    assert await database.run(_delivery, sms_id) == ("delivered", None)


INBOUND = [
    ("/api/twilio/inbound/voice", {"CallSid": "CAin", "From": "+8613900000001"}),
    ("/api/twilio/inbound/voice/keys?step=main&round=1", {"CallSid": "CAin", "Digits": "0"}),
    ("/api/twilio/inbound/voice/recorded", {"CallSid": "CAin", "RecordingSid": "RE1"}),
    ("/api/twilio/inbound/sms", {"MessageSid": "SMin", "From": "+8613900000001", "Body": "1"}),
]


@pytest.mark.parametrize(("path", "params"), INBOUND, ids=[p for p, _ in INBOUND])
@pytest.mark.parametrize("case", ["tampered", "wrong url", "missing header", "other host"])
async def test_what_people_send_the_centers_number_is_refused_unsigned_and_changes_nothing(
    app: httpx.AsyncClient, database: Database, path: str, params: dict[str, str], case: str
) -> None:
    params = {**params, "AccountSid": "AC" + "7" * 32, "To": "+15005550006"}
    params.setdefault("From", "+8613900000001")
    if case == "tampered":
        response = await post(app, path, params, signed_params={**params, "From": "+8613900000002"})
    elif case == "wrong url":
        response = await post(app, path, params, signed_url=f"{PUBLIC}/api/twilio/inbound/other")
    elif case == "missing header":
        response = await post(app, path, params, signature=None)
    else:
        response = await post(app, path, params, signed_url=f"http://testserver{path}")
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "InvalidTwilioSignature"

    def left(session: Session) -> tuple[int, int]:
        count = select(func.count())
        calls = session.scalar(count.select_from(CallRequest).where(CallRequest.call_sid == "CAin"))
        texts = session.scalar(
            count.select_from(InboundSms).where(InboundSms.message_sid == "SMin")
        )
        return int(calls or 0), int(texts or 0)

    assert await database.run(left) == (0, 0)


async def test_a_signed_reply_is_applied_once_however_often_it_is_delivered(
    app: httpx.AsyncClient, database: Database
) -> None:
    path = "/api/twilio/inbound/sms"
    params = {
        "MessageSid": "SMtwice",
        "AccountSid": "AC" + "7" * 32,
        "From": "+8613900000003",
        "To": "+15005550006",
        "Body": "你好",
    }
    first = twiml(await post(app, path, params))
    again = twiml(await post(app, path, params))
    assert ET.tostring(first) == ET.tostring(again)

    def kept(session: Session) -> int:
        found = select(func.count()).select_from(InboundSms)
        return int(session.scalar(found.where(InboundSms.message_sid == "SMtwice")) or 0)

    assert await database.run(kept) == 1
