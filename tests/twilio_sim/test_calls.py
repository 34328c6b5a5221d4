"""Calls through the real twilio SDK, played out against a webhook app by the simulator."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.twilio_sim.conftest import ACCOUNT_SID
from tests.twilio_sim.webhook_app import Received, Recorder
from twilio_sim import SimControl

RESIDENT = "+8613800000001"
CENTER = "+15005550006"
ALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


def place_call(twilio: Client, hook: str, case: str = "main", **kwargs: Any) -> str:
    params: dict[str, Any] = {
        "to": RESIDENT,
        "from_": CENTER,
        "url": f"{hook}/voice/{case}/twiml",
        "method": "POST",
        "status_callback": f"{hook}/voice/{case}/status",
        "status_callback_method": "POST",
        "status_callback_event": ALL_EVENTS,
        "timeout": 30,
    }
    params.update(kwargs)
    call = twilio.calls.create(**params)
    sid: str | None = call.sid
    assert sid is not None
    return sid


def statuses(recorder: Recorder, case: str = "main") -> list[str]:
    return [r.params["CallStatus"] for r in recorder.to(f"/voice/{case}/status")]


def assert_all_signed(requests: list[Received]) -> None:
    assert requests, "the application received no webhook at all"
    for r in requests:
        assert r.signature_valid, f"X-Twilio-Signature does not validate for {r.method} {r.url}"
    # And validation is not vacuous: another account's token must not validate them.
    other = RequestValidator("some-other-token")
    for r in requests:
        params = {} if r.method == "GET" else r.params
        assert not other.validate(r.url, params, r.signature)


def test_create_returns_a_twilio_call_resource(sim: SimControl, twilio: Client, hook: str) -> None:
    call = twilio.calls.create(to=RESIDENT, from_=CENTER, url=f"{hook}/voice/main/twiml")
    assert re.fullmatch(r"CA[0-9a-f]{32}", call.sid or "")
    assert call.account_sid == ACCOUNT_SID
    assert call.to == RESIDENT
    assert call._from == CENTER
    assert call.status == "queued"
    assert call.direction == "outbound-api"
    assert call.api_version == "2010-04-01"
    assert call.date_created is not None  # the SDK parsed the RFC 2822 date
    assert call.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{call.sid}.json"
    sim.wait()
    fetched = twilio.calls(call.sid).fetch()
    assert fetched.status == "completed"
    assert fetched.duration is not None and int(fetched.duration) > 0
    assert fetched.start_time is not None and fetched.end_time is not None
    assert [c.sid for c in twilio.calls.list()] == [call.sid]


def test_answer_presses_the_digit_at_the_gather_action_and_everything_is_signed(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    sid = place_call(twilio, hook)  # no script: the default is "answer:1"
    sim.wait()

    [voice] = recorder.to("/voice/main/twiml")
    assert voice.method == "POST"
    assert voice.params["CallSid"] == sid
    assert voice.params["AccountSid"] == ACCOUNT_SID
    assert voice.params["CallStatus"] == "in-progress"
    assert voice.params["Direction"] == "outbound-api"
    assert voice.params["ApiVersion"] == "2010-04-01"
    assert (voice.params["From"], voice.params["To"]) == (CENTER, RESIDENT)
    assert "AnsweredBy" not in voice.params  # no MachineDetection asked for

    # The relative action "gather" resolved against the document's URL.
    [gather] = recorder.to("/voice/main/gather")
    assert gather.params["Digits"] == "1"
    assert gather.params["CallSid"] == sid

    # StatusCallbackEvent was a repeated form field: every event was understood.
    callbacks = recorder.to("/voice/main/status")
    assert statuses(recorder) == ["initiated", "ringing", "in-progress", "completed"]
    assert [c.params["SequenceNumber"] for c in callbacks] == ["0", "1", "2", "3"]
    assert all(c.params["CallbackSource"] == "call-progress-events" for c in callbacks)
    assert int(callbacks[-1].params["CallDuration"]) > 0
    assert "Timestamp" in callbacks[-1].params

    assert_all_signed(recorder.snapshot())

    call = sim.call(sid)
    assert call["status"] == "completed"
    assert call["pressed"] == ["1"]
    heard = [(h["text"], h["language"]) for h in call["heard"]]
    assert heard == [
        ("您好，这里是志愿服务中心。", "zh-CN"),
        ("满意请按1，不满意请按2。", "zh-CN"),
        ("谢谢，您按了1。", "zh-CN"),
    ]
    assert call["errors"] == []


def test_a_sequence_of_digits_answers_successive_gathers(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    sim.script(RESIDENT, ["answer:7,2"])
    sid = place_call(twilio, hook)
    sim.wait()
    assert [r.params["Digits"] for r in recorder.to("/voice/main/gather")] == ["7"]
    assert [r.params["Digits"] for r in recorder.to("/voice/main/second")] == ["2"]
    call = sim.call(sid)
    assert call["pressed"] == ["7", "2"]
    assert call["heard"][-1]["text"] == "第二题收到2。"


def test_no_input_times_out_and_falls_through_to_the_next_verb(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    sim.script(RESIDENT, ["answer:"])
    sid = place_call(twilio, hook)
    sim.wait()
    assert recorder.to("/voice/main/gather") == []
    call = sim.call(sid)
    assert call["pressed"] == []
    assert call["heard"][-1]["text"] == "没有收到您的按键，再见。"
    assert statuses(recorder)[-1] == "completed"


@pytest.mark.parametrize("outcome", ["no-answer", "busy", "failed"])
def test_unanswered_calls_never_fetch_twiml(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder, outcome: str
) -> None:
    sim.script(RESIDENT, [outcome])
    sid = place_call(twilio, hook, machine_detection="Enable")
    sim.wait()
    assert recorder.to("/voice/main/twiml") == []
    assert statuses(recorder) == ["initiated", "ringing", outcome]
    final = recorder.to("/voice/main/status")[-1]
    assert final.params["CallDuration"] == "0"
    assert "AnsweredBy" not in final.params
    assert_all_signed(recorder.snapshot())
    assert twilio.calls(sid).fetch().status == outcome
    assert sim.call(sid)["heard"] == []


def test_only_the_completed_event_is_sent_by_default(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    sim.script(RESIDENT, ["busy"])
    twilio.calls.create(
        to=RESIDENT,
        from_=CENTER,
        url=f"{hook}/voice/main/twiml",
        status_callback=f"{hook}/voice/main/status",
    )
    sim.wait()
    assert statuses(recorder) == ["busy"]


@pytest.mark.parametrize(
    ("detection", "answered_by"),
    [("Enable", "machine_start"), ("DetectMessageEnd", "machine_end_beep")],
)
def test_a_machine_answers_listens_and_presses_nothing(
    sim: SimControl,
    twilio: Client,
    hook: str,
    recorder: Recorder,
    detection: str,
    answered_by: str,
) -> None:
    sim.script(RESIDENT, ["machine"])
    sid = place_call(twilio, hook, machine_detection=detection)
    sim.wait()
    [voice] = recorder.to("/voice/main/twiml")
    assert voice.params["AnsweredBy"] == answered_by
    assert recorder.to("/voice/main/gather") == []
    callbacks = recorder.to("/voice/main/status")
    assert statuses(recorder) == ["initiated", "ringing", "in-progress", "completed"]
    assert callbacks[-1].params["AnsweredBy"] == answered_by
    call = sim.call(sid)
    assert call["answered_by"] == answered_by
    assert call["pressed"] == []
    assert twilio.calls(sid).fetch().answered_by == answered_by


def test_a_person_is_answered_by_human_when_detection_is_on(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    place_call(twilio, hook, machine_detection="Enable")
    sim.wait()
    assert recorder.to("/voice/main/twiml")[0].params["AnsweredBy"] == "human"
    assert recorder.to("/voice/main/gather")[0].params["AnsweredBy"] == "human"


def test_hangup_listens_to_the_prompt_then_hangs_up_without_pressing(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    sim.script(RESIDENT, ["hangup"])
    sid = place_call(twilio, hook)
    sim.wait()
    assert len(recorder.to("/voice/main/twiml")) == 1
    assert recorder.to("/voice/main/gather") == []
    assert statuses(recorder)[-1] == "completed"
    call = sim.call(sid)
    assert call["hung_up_by_resident"] is True
    assert call["pressed"] == []
    assert [h["text"] for h in call["heard"]] == [
        "您好，这里是志愿服务中心。",
        "满意请按1，不满意请按2。",
    ]


def test_scripts_are_consumed_one_per_call_then_the_default_applies(
    sim: SimControl, twilio: Client, hook: str
) -> None:
    sim.script(RESIDENT, ["no-answer", "answer:2"])
    sids = [place_call(twilio, hook) for _ in range(3)]
    sim.wait()
    calls = {c["sid"]: c for c in sim.calls()}
    assert [calls[s]["status"] for s in sids] == ["no-answer", "completed", "completed"]
    assert [calls[s]["pressed"] for s in sids] == [[], ["2"], ["1"]]


def test_duplicate_callbacks_per_script_deliver_every_status_twice(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    sim.script(RESIDENT, ["answer:1"], duplicate_callbacks=True)
    place_call(twilio, hook)
    sim.wait()
    callbacks = recorder.to("/voice/main/status")
    assert [c.params["CallStatus"] for c in callbacks] == [
        "initiated",
        "initiated",
        "ringing",
        "ringing",
        "in-progress",
        "in-progress",
        "completed",
        "completed",
    ]
    # A duplicate is the same delivery again: same sequence number, same timestamp.
    assert callbacks[6].params == callbacks[7].params
    # The TwiML conversation itself is not duplicated.
    assert len(recorder.to("/voice/main/gather")) == 1


def test_get_method_and_relative_redirects(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    sid = place_call(twilio, hook, case="redirect", method="GET", status_callback_method="GET")
    sim.wait()
    [first] = recorder.to("/voice/redirect/twiml")
    assert first.method == "GET"
    assert first.params["CallSid"] == sid  # in the query string, covered by the signature
    [redirected] = recorder.to("/voice/main/twiml")
    assert redirected.method == "POST"
    assert [r.method for r in recorder.to("/voice/redirect/status")] == ["GET"] * 4
    assert_all_signed(recorder.snapshot())
    assert sim.call(sid)["heard"][0]["text"] == "请稍候。"


def test_a_redirect_loop_is_cut_off(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    sid = place_call(twilio, hook, case="loop")
    sim.wait()
    assert len(recorder.to("/voice/loop/twiml")) == 10
    call = sim.call(sid)
    assert call["status"] == "completed"
    assert [e["code"] for e in call["errors"]] == [11205]


def test_a_broken_twiml_document_is_an_error_on_the_call(
    sim: SimControl, twilio: Client, hook: str
) -> None:
    sid = place_call(twilio, hook, case="broken")
    call = sim.call(sid)
    assert call["status"] == "completed"
    assert [e["code"] for e in call["errors"]] == [12100]


def test_a_failed_delivery_is_retried(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    sid = twilio.calls.create(
        to=RESIDENT,
        from_=CENTER,
        url=f"{hook}/voice/main/twiml",
        status_callback=f"{hook}/flaky/status",
    ).sid
    sim.wait()
    assert len(recorder.to("/flaky/status")) == 2  # 503, then accepted
    [webhook] = [w for w in sim.call(sid or "")["webhooks"] if w["kind"] == "status"]
    assert (webhook["attempts"], webhook["status_code"]) == (2, 204)


def test_update_ends_a_call_or_refuses_a_bad_status(
    sim: SimControl, twilio: Client, hook: str
) -> None:
    sid = place_call(twilio, hook)
    sim.wait()
    assert twilio.calls(sid).update(status="completed").status == "completed"
    with pytest.raises(TwilioRestException) as info:
        twilio.calls(sid).update(url=f"{hook}/voice/main/twiml")
    assert (info.value.status, info.value.code) == (400, 21220)


def test_the_page_shows_what_each_resident_heard_and_pressed(
    sim: SimControl, twilio: Client, hook: str, sim_base_url: str
) -> None:
    sim.script(RESIDENT, ["answer:2"])
    place_call(twilio, hook)
    sim.wait()
    page = httpx.get(sim_base_url + "/")
    assert page.status_code == 200
    assert "满意请按1，不满意请按2。" in page.text
    assert "谢谢，您按了2。" in page.text
    assert RESIDENT in page.text


@pytest.fixture
def sim_base_url(sim: SimControl) -> str:
    return str(sim.http.base_url).rstrip("/")


def test_concurrent_calls_each_follow_their_own_script(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    phones = [f"+86138000001{n:02d}" for n in range(20)]
    for n, phone in enumerate(phones):
        sim.script(phone, [f"answer:{n % 3}"] if n % 4 else ["busy"])

    def place(phone: str) -> str:
        sid: str | None = twilio.calls.create(
            to=phone, from_=CENTER, url=f"{hook}/voice/many/twiml"
        ).sid
        assert sid is not None
        return sid

    with ThreadPoolExecutor(max_workers=8) as pool:
        sids = list(pool.map(place, phones))
    calls = {c["sid"]: c for c in sim.calls()}
    for n, sid in enumerate(sids):
        call = calls[sid]
        assert call["to"] == phones[n]
        if n % 4:
            assert (call["status"], call["pressed"]) == ("completed", [str(n % 3)])
        else:
            assert (call["status"], call["pressed"]) == ("busy", [])
    assert len(recorder.to("/voice/many/gather")) == 15


def test_inline_twiml_is_played_without_fetching(
    sim: SimControl, twilio: Client, hook: str, recorder: Recorder
) -> None:
    sid = twilio.calls.create(
        to=RESIDENT,
        from_=CENTER,
        twiml='<Response><Say language="zh-CN">您的服务单已派出。</Say><Pause/></Response>',
        status_callback=f"{hook}/voice/inline/status",
    ).sid
    call = sim.call(sid or "")
    assert [h["text"] for h in call["heard"]] == ["您的服务单已派出。"]
    assert [w["kind"] for w in call["webhooks"]] == ["status"]
    assert statuses(recorder, "inline") == ["completed"]
