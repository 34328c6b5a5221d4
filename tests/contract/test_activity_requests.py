"""The Twilio activities' own requests, against Twilio's API description (Prism).

``test_twilio_requests.py`` sends hand-written copies of the project's requests; these tests
run the real activities (``FollowUpCaller.place_follow_up_call``, ``SmsSender.send_sms``) against
``prism mock --errors`` and check every request they sent was accepted. The known deviations
listed there apply; the activities do not send ``StatusCallbackEvent`` (only the default
``completed`` event is needed), so deviation 1 does not arise.

Prism answers with the spec's example by default, the same ``CAaaa...`` sid every time; the
activities record sids under a unique constraint, so these requests ask Prism for generated
answers (``Prefer: dynamic=true``), which only changes the answer, never the validation.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select
from temporalio.testing import ActivityEnvironment

from activities.contracts import PlaceCallInput, PlaceCallResult, SmsInput, SmsResult
from activities.sms import SmsSender
from activities.voice import FollowUpCaller
from core.models import FollowUpCall, SmsMessage
from core.twilio import TwilioAccount
from core.vocab import Notice
from tests.activities.conftest import CENTER, make_world
from tests.contract.helpers import (
    CONTRACT_ACCOUNT_SID,
    CONTRACT_AUTH_TOKEN,
    RecordingHttpClient,
    assert_accepted,
    twilio_client_for,
)

PUBLIC_BASE_URL = "https://fw.example.org"
ADMINS = ["+8613700000001", "13700000002"]


class DynamicAnswers(RecordingHttpClient):
    """Asks Prism for generated answers (fresh sids), keeping every response."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "Prefer": "dynamic=true"}
        return super().request(*args, **kwargs)


def prism_client(prism_base_url: str) -> tuple[Any, DynamicAnswers]:
    http = DynamicAnswers()
    client = twilio_client_for(
        prism_base_url, CONTRACT_ACCOUNT_SID, CONTRACT_AUTH_TOKEN, http_client=http
    )
    return client, http


def test_place_call_requests_match_twilios_spec(
    prism_base_url: str, engine: Engine, township: str
) -> None:
    world = make_world(engine, township)
    client, http = prism_client(prism_base_url)
    caller = FollowUpCaller(engine, TwilioAccount(client, CENTER, PUBLIC_BASE_URL, "86"))
    inp = PlaceCallInput(order_id=world.order_id, follow_up_id=world.follow_up_id, attempt=1)
    result: PlaceCallResult = ActivityEnvironment().run(caller.place_follow_up_call, inp)
    assert_accepted(http)
    assert len(http.responses) == 1
    assert result.call_sid is not None and result.call_sid.startswith("CA")
    with engine.connect() as conn:
        state = conn.scalar(select(FollowUpCall.state).where(FollowUpCall.id == result.call_id))
    assert state == "placed"


@pytest.mark.parametrize("notice", list(Notice))
def test_send_sms_requests_match_twilios_spec(
    notice: Notice, prism_base_url: str, engine: Engine, township: str
) -> None:
    world = make_world(engine, township)
    client, http = prism_client(prism_base_url)
    sender = SmsSender(
        engine,
        TwilioAccount(client, CENTER, PUBLIC_BASE_URL, "86"),
        escalation_to=ADMINS,
        timezone="Asia/Shanghai",
    )
    inp = SmsInput(
        order_id=world.order_id,
        notice=notice,
        seq=3,
        volunteer_id=world.volunteer_id,
        unit_id=world.unit_id,
        leader_id=world.leader_id,
        escalation_level=1,
    )
    result: SmsResult = ActivityEnvironment().run(sender.send_sms, inp)
    expected = len(ADMINS) if notice is Notice.ESCALATED else 1
    assert_accepted(http)
    assert len(http.responses) == expected
    assert result == SmsResult(sent=expected, skipped=0, refused=0)
    with engine.connect() as conn:
        states = conn.scalars(
            select(SmsMessage.state).where(SmsMessage.order_id == world.order_id)
        ).all()
    assert states == ["sent"] * expected
