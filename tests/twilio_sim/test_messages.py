"""SMS through the real twilio SDK: the resource, then signed status callbacks."""

from __future__ import annotations

import re

import pytest
from twilio.rest import Client

from tests.twilio_sim.conftest import ACCOUNT_SID
from tests.twilio_sim.webhook_app import Recorder
from twilio_sim import SimControl

RESIDENT = "+8613800000001"
CENTER = "+15005550006"
BODY = "志愿服务提醒：您的服务单已派给志愿者吴志强，请保持电话畅通。"


def test_message_is_created_queued_then_sent_and_delivered(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    message = twilio.messages.create(
        to=RESIDENT, from_=CENTER, body=BODY, status_callback=f"{hook}/sms/status"
    )
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid or "")
    assert message.status == "queued"
    assert message.account_sid == ACCOUNT_SID
    assert message.body == BODY
    assert message.num_segments == "1"  # 31 Chinese characters fit one UCS-2 segment
    assert message.direction == "outbound-api"
    assert message.date_created is not None
    sim.wait()
    callbacks = recorder.to("/sms/status")
    assert [c.params["MessageStatus"] for c in callbacks] == ["sent", "delivered"]
    assert all(c.params["MessageSid"] == message.sid for c in callbacks)
    assert all(c.params["SmsStatus"] == c.params["MessageStatus"] for c in callbacks)
    assert all(c.signature_valid for c in callbacks)
    fetched = twilio.messages(message.sid).fetch()
    assert fetched.status == "delivered"
    assert fetched.date_sent is not None
    assert [m["sid"] for m in sim.messages()] == [message.sid]


@pytest.mark.parametrize(
    ("outcome", "statuses", "code"),
    [
        ("undelivered:30005", ["sent", "undelivered"], "30005"),
        ("undelivered", ["sent", "undelivered"], "30003"),
        ("failed", ["failed"], "30008"),
    ],
)
def test_scripted_delivery_failures(
    sim: SimControl,
    twilio: Client,
    hook: str,
    recorder: Recorder,
    outcome: str,
    statuses: list[str],
    code: str,
) -> None:
    sim.script(RESIDENT, messages=[outcome])
    sid = twilio.messages.create(
        to=RESIDENT, from_=CENTER, body=BODY, status_callback=f"{hook}/sms/status"
    ).sid
    sim.wait()
    callbacks = recorder.to("/sms/status")
    assert [c.params["MessageStatus"] for c in callbacks] == statuses
    assert callbacks[-1].params["ErrorCode"] == code
    fetched = twilio.messages(sid).fetch()
    assert (fetched.status, fetched.error_code) == (statuses[-1], int(code))


def test_duplicate_message_callbacks(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    sim.script(RESIDENT, messages=["delivered"], duplicate_callbacks=True)
    twilio.messages.create(
        to=RESIDENT, from_=CENTER, body=BODY, status_callback=f"{hook}/sms/status"
    )
    sim.wait()
    statuses = [c.params["MessageStatus"] for c in recorder.to("/sms/status")]
    assert statuses == ["sent", "sent", "delivered", "delivered"]


def test_messaging_service_sender_is_accepted_first(sim: SimControl, twilio: Client) -> None:
    service = "MG" + "1" * 32
    message = twilio.messages.create(to=RESIDENT, messaging_service_sid=service, body="hi")
    assert (message.status, message.messaging_service_sid) == ("accepted", service)
    assert message.num_segments == "1"
    sim.wait()
    assert twilio.messages(message.sid).fetch().status == "delivered"


def test_long_messages_count_segments(sim: SimControl, twilio: Client) -> None:
    assert twilio.messages.create(to=RESIDENT, from_=CENTER, body="a" * 161).num_segments == "2"
    assert twilio.messages.create(to=RESIDENT, from_=CENTER, body="志" * 71).num_segments == "2"
