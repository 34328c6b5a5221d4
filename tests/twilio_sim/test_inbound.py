"""Residents calling and texting our number: the IVR's TwiML (<Gather>, <Record>, <Dial>),
recordings through the real twilio SDK, and SMS answered with TwiML <Message>."""

from __future__ import annotations

import io
import re
import wave

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.twilio_sim.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.twilio_sim.test_calls import assert_all_signed
from tests.twilio_sim.webhook_app import Recorder
from twilio_sim import SimControl, ThreadedServer, create_app

RESIDENT = "+8613800000001"
OUR_NUMBER = "+15005550006"


@pytest.fixture
def ivr(sim: SimControl, hook: str) -> str:
    sim.number(OUR_NUMBER, voice_url=f"{hook}/ivr/voice", sms_url=f"{hook}/sms/inbound")
    return hook


def said(call: dict[str, object]) -> list[str]:
    heard = call["heard"]
    assert isinstance(heard, list)
    return [h["text"] for h in heard]


def test_an_inbound_call_fetches_the_voice_url_ringing_and_presses_through_two_gathers(
    sim: SimControl, twilio: Client, ivr: str, recorder: Recorder
) -> None:
    sid = sim.inbound_call(RESIDENT, OUR_NUMBER, "answer:1,3")
    sim.wait()

    [voice] = recorder.to("/ivr/voice")
    assert voice.params["CallSid"] == sid
    assert voice.params["AccountSid"] == ACCOUNT_SID
    assert voice.params["CallStatus"] == "ringing"
    assert voice.params["Direction"] == "inbound"
    assert voice.params["ApiVersion"] == "2010-04-01"
    assert (voice.params["From"], voice.params["To"]) == (RESIDENT, OUR_NUMBER)
    assert (voice.params["Caller"], voice.params["Called"]) == (RESIDENT, OUR_NUMBER)
    [menu] = recorder.to("/ivr/menu")
    assert (menu.params["Digits"], menu.params["CallStatus"]) == ("1", "in-progress")
    [township] = recorder.to("/ivr/township")
    assert township.params["Digits"] == "3"
    assert_all_signed(recorder.snapshot())

    call = sim.call(sid)
    assert (call["direction"], call["status"], call["pressed"]) == (
        "inbound",
        "completed",
        ["1", "3"],
    )
    assert said(call)[-1] == "已记下乡镇3。"
    resource = twilio.calls(sid).fetch()
    assert (resource.direction, resource.to, resource._from) == ("inbound", OUR_NUMBER, RESIDENT)
    assert int(resource.duration or 0) > 0


def test_a_record_posts_the_recording_to_its_action_and_plays_the_answer(
    sim: SimControl, twilio: Client, ivr: str, recorder: Recorder, sim_server: ThreadedServer
) -> None:
    sid = sim.inbound_call(RESIDENT, OUR_NUMBER, "answer:2", recording_seconds=12)
    sim.wait()

    [recorded] = recorder.to("/ivr/recorded")
    [recording] = sim.recordings()
    re_sid = recording["sid"]
    assert re.fullmatch(r"RE[0-9a-f]{32}", re_sid)
    assert recorded.params["RecordingSid"] == re_sid
    assert recorded.params["RecordingDuration"] == "12"
    assert recorded.params["Digits"] == "#"  # the finishOnKey
    assert recorded.params["RecordingUrl"] == (
        f"{sim_server.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{re_sid}"
    )
    [status] = recorder.to("/ivr/recording-status")
    assert (status.params["RecordingSid"], status.params["RecordingStatus"]) == (
        re_sid,
        "completed",
    )
    assert_all_signed(recorder.snapshot())
    call = sim.call(sid)
    assert call["recordings"] == [re_sid]
    assert said(call)[-1] == "已收到12秒留言。"
    assert "没有听到您的留言，再见。" not in said(call)  # verbs after <Record> are unreachable
    assert (recording["call_sid"], recording["duration"], recording["status"]) == (
        sid,
        12,
        "completed",
    )


def test_a_recording_longer_than_max_length_is_cut_off(
    sim: SimControl, ivr: str, recorder: Recorder
) -> None:
    sim.inbound_call(RESIDENT, OUR_NUMBER, "answer:2", recording_seconds=90)
    sim.wait()
    [recorded] = recorder.to("/ivr/recorded")
    assert (recorded.params["RecordingDuration"], recorded.params["Digits"]) == ("60", "")


def test_silence_at_a_record_requests_no_action_and_goes_on_with_the_next_verb(
    sim: SimControl, ivr: str, recorder: Recorder
) -> None:
    """Twilio documents that an empty recording does not request the action URL."""
    sid = sim.inbound_call(RESIDENT, OUR_NUMBER, "answer:2", recording_seconds=0)
    sim.wait()
    assert recorder.to("/ivr/recorded") == []
    assert sim.recordings() == []
    assert said(sim.call(sid))[-1] == "没有听到您的留言，再见。"


def test_a_caller_hanging_up_after_speaking_still_delivers_the_recording(
    sim: SimControl, ivr: str, recorder: Recorder
) -> None:
    sid = sim.inbound_call(
        RESIDENT, OUR_NUMBER, "answer:2", recording_seconds=8, record_finish="hangup"
    )
    sim.wait()
    [recorded] = recorder.to("/ivr/recorded")
    assert (recorded.params["Digits"], recorded.params["RecordingDuration"]) == ("hangup", "8")
    call = sim.call(sid)
    assert call["hung_up_by_resident"] is True
    assert "已收到8秒留言。" not in said(call)  # nobody is left to hear the answer


def test_a_dial_with_an_action_reports_the_dialed_call(
    sim: SimControl, ivr: str, recorder: Recorder
) -> None:
    sid = sim.inbound_call(RESIDENT, OUR_NUMBER, "answer:0")
    sim.wait()
    call = sim.call(sid)
    [dialed] = call["dialed"]
    assert (dialed["number"], dialed["caller_id"], dialed["status"]) == (
        "+8609121234567",
        OUR_NUMBER,
        "completed",
    )
    [action] = recorder.to("/ivr/dialed")
    assert action.params["DialCallStatus"] == "completed"
    assert action.params["DialCallSid"] == dialed["sid"]
    assert action.params["DialCallDuration"] == "30"
    assert said(call)[-1] == "转接completed。"
    assert call["status"] == "completed"


def test_a_dial_without_an_action_goes_on_with_the_next_verb(
    sim: SimControl, ivr: str, recorder: Recorder
) -> None:
    sid = sim.inbound_call(RESIDENT, OUR_NUMBER, "answer:5", dial_outcome="no-answer")
    sim.wait()
    call = sim.call(sid)
    assert [(d["number"], d["status"]) for d in call["dialed"]] == [("+8612349", "no-answer")]
    assert said(call)[-1] == "转接已结束。"
    assert call["status"] == "completed"
    assert call["errors"] == []


def test_recordings_are_fetched_downloaded_and_deleted_with_the_real_sdk(
    sim: SimControl, twilio: Client, ivr: str, sim_server: ThreadedServer
) -> None:
    sid = sim.inbound_call(RESIDENT, OUR_NUMBER, "answer:2", recording_seconds=3)
    sim.wait()
    [re_sid] = sim.call(sid)["recordings"]

    recording = twilio.recordings(re_sid).fetch()
    assert (recording.sid, recording.call_sid, recording.duration) == (re_sid, sid, "3")
    assert (recording.status, recording.source, recording.channels) == (
        "completed",
        "RecordVerb",
        1,
    )
    assert recording.date_created is not None
    assert [r.sid for r in twilio.recordings.list()] == [re_sid]
    assert [r.sid for r in twilio.recordings.list(call_sid=sid)] == [re_sid]
    assert twilio.recordings.list(call_sid="CA" + "0" * 32) == []

    media = f"{sim_server.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{re_sid}"
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    for url in (media, media + ".wav"):
        response = httpx.get(url, auth=auth)
        assert response.headers["content-type"] == "audio/x-wav"
        with wave.open(io.BytesIO(response.content)) as audio:
            assert audio.getnframes() / audio.getframerate() == 3
    mp3 = httpx.get(media + ".mp3", auth=auth)
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert mp3.content[:2] == b"\xff\xfb"  # an MPEG-1 Layer III frame
    assert httpx.get(media + ".wav").status_code == 401

    assert twilio.recordings(re_sid).delete() is True
    with pytest.raises(TwilioRestException) as info:
        twilio.recordings(re_sid).fetch()
    assert (info.value.status, info.value.code) == (404, 20404)
    assert httpx.get(media + ".wav", auth=auth).status_code == 404


def test_an_inbound_sms_is_posted_signed_and_its_twiml_message_goes_back(
    sim: SimControl, twilio: Client, ivr: str, recorder: Recorder
) -> None:
    result = sim.inbound_message(RESIDENT, OUR_NUMBER, "完成 2小时")
    assert result["replies"] == ["收到：完成 2小时"]
    [delivery] = recorder.to("/sms/inbound")
    assert delivery.params["MessageSid"] == delivery.params["SmsSid"] == result["sid"]
    assert delivery.params["AccountSid"] == ACCOUNT_SID
    assert (delivery.params["From"], delivery.params["To"]) == (RESIDENT, OUR_NUMBER)
    assert delivery.params["Body"] == "完成 2小时"
    assert (delivery.params["NumMedia"], delivery.params["ApiVersion"]) == ("0", "2010-04-01")
    assert_all_signed(recorder.snapshot())

    messages = {m["sid"]: m for m in sim.messages()}
    inbound = messages[result["sid"]]
    assert (inbound["direction"], inbound["status"]) == ("inbound", "received")
    [reply_sid] = result["reply_sids"]
    reply = messages[reply_sid]
    assert (reply["direction"], reply["from"], reply["to"], reply["body"]) == (
        "outbound-reply",
        OUR_NUMBER,
        RESIDENT,
        "收到：完成 2小时",
    )
    assert (reply["reply_to"], reply["status"]) == (result["sid"], "delivered")
    assert inbound["replies"] == [reply_sid]
    assert twilio.messages(result["sid"]).fetch().direction == "inbound"


def test_a_duplicate_delivery_carries_the_same_message_sid(
    sim: SimControl, ivr: str, recorder: Recorder
) -> None:
    result = sim.inbound_message(RESIDENT, OUR_NUMBER, "1", duplicate=True)
    deliveries = recorder.to("/sms/inbound")
    assert [d.params["MessageSid"] for d in deliveries] == [result["sid"]] * 2
    assert result["deliveries"] == 2
    # The application answered the redelivery with nothing: one reply only.
    assert result["replies"] == ["收到：1"]


def test_inbound_traffic_to_an_unconfigured_number_is_refused(sim: SimControl) -> None:
    response = sim.http.post("/sim/inbound-calls", json={"from": RESIDENT, "to": "+15005550999"})
    assert response.status_code == 400
    assert "Voice URL" in response.json()["message"]
    response = sim.http.post(
        "/sim/inbound-messages", json={"from": RESIDENT, "to": "+15005550999", "body": "x"}
    )
    assert response.status_code == 400
    assert sim.calls() == [] and sim.messages() == []


def test_an_inbound_caller_cannot_be_busy(sim: SimControl, ivr: str) -> None:
    response = sim.http.post(
        "/sim/inbound-calls", json={"from": RESIDENT, "to": OUR_NUMBER, "behaviour": "busy"}
    )
    assert response.status_code == 422
    assert sim.calls() == []


def test_app_wide_voice_and_sms_urls_serve_any_number(hook: str, recorder: Recorder) -> None:
    recorder.clear()
    app = create_app(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        voice_url=f"{hook}/ivr/voice",
        sms_url=f"{hook}/sms/inbound",
    )
    with ThreadedServer(app) as server:
        control = SimControl(server.base_url)
        sid = control.inbound_call(RESIDENT, "+15005550010", "answer:1,1")
        assert control.inbound_message(RESIDENT, "+15005550010", "hi")["replies"] == ["收到：hi"]
        assert control.call(sid)["pressed"] == ["1", "1"]
        control.close()
    assert [r.params["To"] for r in recorder.to("/ivr/voice")] == ["+15005550010"]


def test_the_page_shows_inbound_calls_and_messages(
    sim: SimControl, ivr: str, sim_server: ThreadedServer
) -> None:
    sim.inbound_call(RESIDENT, OUR_NUMBER, "answer:0")
    sim.inbound_message(RESIDENT, OUR_NUMBER, "<求助>")
    sim.wait()
    page = httpx.get(sim_server.base_url + "/").text
    assert page.count("⇠ inbound") == 2  # the call and the SMS
    assert f"{RESIDENT} → {OUR_NUMBER}" in page
    assert "⇢ outbound-reply" in page and f"{OUR_NUMBER} → {RESIDENT}" in page
    assert "☎ dialed +8609121234567: completed" in page
    assert "收到：&lt;求助&gt;" in page  # escaped


def test_numbers_are_configuration_a_reset_keeps(sim: SimControl, ivr: str) -> None:
    sim.reset()
    [number] = sim.numbers()["numbers"]
    assert (number["phone"], number["voice_url"]) == (OUR_NUMBER, f"{ivr}/ivr/voice")
    sim.forget_number(OUR_NUMBER)
    assert sim.numbers()["numbers"] == []


def test_an_sms_answer_that_is_not_twiml_sends_nothing_back(sim: SimControl, hook: str) -> None:
    sim.number(OUR_NUMBER, sms_url=f"{hook}/voice/broken/twiml")  # answers "this is not TwiML"
    result = sim.inbound_message(RESIDENT, OUR_NUMBER, "1")
    assert result["replies"] == []
    [inbound] = sim.messages()
    assert any("12100" in str(e.get("note")) for e in inbound["events"])
