"""The follow-up call activity: the real twilio SDK against the simulator, at most one call."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sqlalchemy import Engine, insert, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.rest import Client

from activities.contracts import (
    CALL_IMPOSSIBLE,
    PlaceCallInput,
    PlaceCallResult,
    SmsInput,
    SmsResult,
)
from activities.sms import SmsSender
from activities.voice import RING_SECONDS, FollowUpCaller
from api.database import Database
from core.db import utcnow
from core.models import FollowUpCall, Township
from core.phones import mask_for_log
from core.twilio import TwilioAccount
from core.twilio_errors import (
    TWILIO_OUTCOME_UNKNOWN,
    TWILIO_UNAVAILABLE,
    Verdict,
    classify,
)
from core.vocab import Notice
from core.webhooks import call_status_url, call_voice_url
from tests.activities.conftest import (
    CENTER,
    Dropper,
    Gate,
    Hooks,
    Recorded,
    World,
    make_world,
    sim_call,
    webhook_kinds,
)
from twilio_sim import SimControl, Simulator


def caller(
    engine: Engine,
    client: Client | None,
    base: str,
    *,
    from_number: str | None = CENTER,
) -> FollowUpCaller:
    return FollowUpCaller(engine, TwilioAccount(client, from_number, base, "86"))


def place(activity: FollowUpCaller, world: World, attempt: int = 1) -> PlaceCallResult:
    inp = PlaceCallInput(order_id=world.order_id, follow_up_id=world.follow_up_id, attempt=attempt)
    result: PlaceCallResult = ActivityEnvironment().run(activity.place_follow_up_call, inp)
    return result


def row(engine: Engine, world: World, attempt: int = 1) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            select(FollowUpCall.__table__).where(
                FollowUpCall.order_id == world.order_id, FollowUpCall.attempt == attempt
            )
        ).one_or_none()


def test_places_the_call_once_with_our_webhook_urls(
    engine: Engine,
    world: World,
    twilio: Client,
    sim: SimControl,
    simulator: Simulator,
    hooks: Hooks,
    public_base_url: str,
) -> None:
    result = place(caller(engine, twilio, public_base_url), world)

    assert result.call_sid is not None and result.call_sid.startswith("CA")
    voice_url = call_voice_url(public_base_url, result.call_id)
    status_url = call_status_url(public_base_url, result.call_id)
    # Exactly the request Twilio was sent.
    call = sim_call(simulator, result.call_sid)
    assert (call.to, call.from_) == (world.resident_e164, CENTER)
    assert (call.url, call.method) == (voice_url, "POST")
    assert (call.status_callback, call.status_callback_method) == (status_url, "POST")
    assert call.status_callback_events == ["completed"]  # the default: only how it ended
    assert call.machine_detection == "Enable"
    assert call.timeout == RING_SECONDS
    # And the call played out against those URLs: TwiML fetched, the ending reported.
    [inspected] = sim.calls()
    assert inspected["sid"] == result.call_sid
    assert webhook_kinds(inspected) == [
        ("voice", "POST", voice_url, 200),
        ("status", "POST", status_url, 204),
    ]
    [fetched] = hooks.to(f"/api/twilio/calls/{result.call_id}/voice")
    assert fetched["CallSid"] == result.call_sid
    assert fetched["AnsweredBy"] == "human"  # machine detection ran
    [ended] = hooks.to(f"/api/twilio/calls/{result.call_id}/status")
    assert ended["CallStatus"] == "completed"

    recorded = row(engine, world)
    assert recorded.id == result.call_id
    assert recorded.state == "placed"
    assert recorded.call_sid == result.call_sid
    assert recorded.to_number == world.resident_e164
    assert recorded.follow_up_id == world.follow_up_id
    assert recorded.placed_at is not None and recorded.created_at <= recorded.placed_at
    assert recorded.call_status == "queued"


def test_a_retry_after_success_returns_the_same_call_and_places_nothing(
    engine: Engine, world: World, twilio: Client, sim: SimControl, public_base_url: str
) -> None:
    activity = caller(engine, twilio, public_base_url)
    first = place(activity, world)
    again = place(activity, world)
    assert again == first
    assert [c["sid"] for c in sim.calls()] == [first.call_sid]
    # The next attempt of the follow-up is another call.
    second = place(activity, world, attempt=2)
    assert second.call_id != first.call_id and second.call_sid not in (None, first.call_sid)
    assert len(sim.calls()) == 2


def test_a_placing_row_left_behind_is_never_placed_again(
    engine: Engine, world: World, twilio: Client, sim: SimControl, public_base_url: str
) -> None:
    """An attempt died after recording its intent: the call may exist, so none is placed."""
    with engine.begin() as conn:
        call_id = conn.execute(
            insert(FollowUpCall)
            .values(
                order_id=world.order_id,
                follow_up_id=world.follow_up_id,
                attempt=1,
                state="placing",
                to_number=world.resident_e164,
                created_at=utcnow(),
            )
            .returning(FollowUpCall.id)
        ).scalar_one()
    result = place(caller(engine, twilio, public_base_url), world)
    assert result == PlaceCallResult(call_id=call_id, call_sid=None)
    assert sim.calls() == []
    assert row(engine, world).state == "placing"


def test_an_answer_lost_after_the_request_leaves_the_row_placing_and_is_not_retried(
    engine: Engine,
    world: World,
    dropping_twilio: Client,
    dropper: Dropper,
    twilio: Client,
    sim: SimControl,
    public_base_url: str,
) -> None:
    """Twilio got the request but the connection closed before its answer: ambiguous."""
    with pytest.raises(ApplicationError) as lost:
        place(caller(engine, dropping_twilio, public_base_url), world)
    assert lost.value.type == TWILIO_OUTCOME_UNKNOWN and not lost.value.non_retryable
    assert lost.value.__cause__ is None  # the SDK's exception is not passed on
    assert len(dropper.received) == 1
    assert dropper.received[0]["To"] == [world.resident_e164]
    recorded = row(engine, world)
    assert (recorded.state, recorded.call_sid) == ("placing", None)
    # Twilio is fine again, but the call may exist: it is not asked for a second one.
    result = place(caller(engine, twilio, public_base_url), world)
    assert result == PlaceCallResult(call_id=recorded.id, call_sid=None)
    assert sim.calls() == []
    assert len(dropper.received) == 1


def test_twilio_refusing_the_number_is_final(
    engine: Engine,
    township: str,
    recorded_twilio: Recorded,
    sim: SimControl,
    public_base_url: str,
) -> None:
    # E.164-shaped for us, but no country starts with 0: Twilio answers 21211.
    world = make_world(engine, township, resident_phone="+0123456789")
    activity = caller(engine, recorded_twilio.client, public_base_url)
    with pytest.raises(ApplicationError) as refused:
        place(activity, world)
    assert refused.value.type == CALL_IMPOSSIBLE
    assert refused.value.non_retryable
    assert "21211" in refused.value.message
    # Twilio's message quotes the number: neither it nor the SDK's exception is passed on.
    assert "0123456789" not in refused.value.message
    assert refused.value.__cause__ is None
    assert [r.status_code for r in recorded_twilio.http.responses] == [400]
    recorded = row(engine, world)
    assert (recorded.state, recorded.error_code, recorded.call_sid) == ("refused", 21211, None)
    # A retry does not ask Twilio again, and fails the same way.
    with pytest.raises(ApplicationError) as again:
        place(activity, world)
    assert again.value.type == CALL_IMPOSSIBLE and again.value.non_retryable
    assert "21211" in again.value.message
    assert len(recorded_twilio.http.responses) == 1
    assert sim.calls() == []


def test_an_invalid_caller_id_is_refused_too(
    engine: Engine, world: World, twilio: Client, sim: SimControl, public_base_url: str
) -> None:
    with pytest.raises(ApplicationError) as refused:
        place(caller(engine, twilio, public_base_url, from_number="12345"), world)
    assert refused.value.type == CALL_IMPOSSIBLE and refused.value.non_retryable
    assert "21212" in refused.value.message
    assert row(engine, world).state == "refused"


def test_twilio_down_is_retried_and_the_next_attempt_places_the_call(
    engine: Engine,
    world: World,
    down_twilio: Client,
    twilio: Client,
    sim: SimControl,
    public_base_url: str,
) -> None:
    with pytest.raises(ApplicationError) as down:
        place(caller(engine, down_twilio, public_base_url), world)
    assert down.value.type == TWILIO_UNAVAILABLE
    assert not down.value.non_retryable
    first = row(engine, world)
    assert (first.state, first.call_sid) == ("retry", None)

    result = place(caller(engine, twilio, public_base_url), world)
    assert result.call_id == first.id  # the same intent, so the same webhook URLs
    assert result.call_sid is not None
    [call] = sim.calls()
    assert call["sid"] == result.call_sid
    assert call["url"] == call_voice_url(public_base_url, first.id)
    placed = row(engine, world)
    assert (placed.state, placed.call_sid) == ("placed", result.call_sid)


def test_twilio_unavailable_503_is_retried(
    engine: Engine,
    world: World,
    gate: Gate,
    gated_twilio: Client,
    sim: SimControl,
    public_base_url: str,
) -> None:
    activity = caller(engine, gated_twilio, public_base_url)
    gate.failing.add(world.resident_e164)
    with pytest.raises(ApplicationError) as unavailable:
        place(activity, world)
    assert unavailable.value.type == TWILIO_UNAVAILABLE and not unavailable.value.non_retryable
    assert row(engine, world).state == "retry"
    assert sim.calls() == []

    gate.failing.clear()
    result = place(activity, world)
    assert result.call_sid is not None
    assert [c["sid"] for c in sim.calls()] == [result.call_sid]
    assert gate.refused_requests == [world.resident_e164]


def test_without_a_twilio_account_no_call_is_possible(
    engine: Engine, world: World, twilio: Client, sim: SimControl, public_base_url: str
) -> None:
    for activity in (
        caller(engine, None, public_base_url),
        caller(engine, twilio, public_base_url, from_number=None),
    ):
        with pytest.raises(ApplicationError) as off:
            place(activity, world)
        assert off.value.type == CALL_IMPOSSIBLE and off.value.non_retryable
    assert row(engine, world) is None
    assert sim.calls() == []


def test_an_undiallable_number_is_impossible_and_not_revealed(
    engine: Engine, township: str, twilio: Client, sim: SimControl, public_base_url: str
) -> None:
    world = make_world(engine, township, resident_phone="+12345")
    with pytest.raises(ApplicationError) as bad:
        place(caller(engine, twilio, public_base_url), world)
    assert bad.value.type == CALL_IMPOSSIBLE and bad.value.non_retryable
    assert "12345" not in bad.value.message
    assert "E.164" in bad.value.message
    assert row(engine, world) is None
    assert sim.calls() == []


# ---- how failures are classified --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "verdict"),
    [
        (400, 21211, Verdict.REFUSED),
        (401, 20003, Verdict.REFUSED),
        (404, 20404, Verdict.REFUSED),
        (408, 408, Verdict.NOT_CREATED),
        (429, 20429, Verdict.NOT_CREATED),
        (503, 20503, Verdict.NOT_CREATED),
        (500, 20500, Verdict.AMBIGUOUS),
        (502, 502, Verdict.AMBIGUOUS),
        (504, 504, Verdict.AMBIGUOUS),
    ],
)
def test_http_errors_are_classified_by_status(status: int, code: int, verdict: Verdict) -> None:
    rest = classify(TwilioRestException(status, "/Calls.json", "The 'To' number +86139...", code))
    assert (rest.verdict, rest.code, rest.status) == (verdict, code, status)
    assert "+86" not in rest.summary
    service = classify(TwilioServiceException("about:blank", "Problem", status, code))
    assert (service.verdict, service.code) == (verdict, code)


def test_transport_errors_are_classified_by_how_far_the_request_got() -> None:
    assert classify(requests.exceptions.ConnectTimeout()).verdict is Verdict.NOT_CREATED
    assert classify(requests.exceptions.ReadTimeout()).verdict is Verdict.AMBIGUOUS
    assert classify(requests.exceptions.ConnectionError()).verdict is Verdict.AMBIGUOUS
    assert classify(RuntimeError("anything else")).verdict is Verdict.AMBIGUOUS


def test_masked_numbers_keep_only_the_last_two_digits() -> None:
    assert mask_for_log("+8613912345678") == "***78"
    assert mask_for_log(None) == "(none)"


def test_calls_and_sms_work_on_either_database(
    each_database: Database,
    township: str,
    twilio: Client,
    sim: SimControl,
    public_base_url: str,
) -> None:
    """``make run`` uses SQLite: the intent rows' insert-or-ignore and RETURNING work there."""
    engine = each_database.engine
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(insert(Township).values(name=township, name_en="Test", position=1))
    world = make_world(engine, township)
    activity = caller(engine, twilio, public_base_url)
    first = place(activity, world)
    assert place(activity, world) == first
    assert [c["sid"] for c in sim.calls()] == [first.call_sid]
    sms = SmsSender(
        engine,
        TwilioAccount(twilio, CENTER, public_base_url, "86"),
        escalation_to=[],
        timezone="Asia/Shanghai",
    )
    inp = SmsInput(order_id=world.order_id, notice=Notice.ACCEPTED, seq=1)
    assert ActivityEnvironment().run(sms.send_sms, inp) == SmsResult(sent=1)
    assert ActivityEnvironment().run(sms.send_sms, inp) == SmsResult(sent=0, skipped=1)
    assert [m["to"] for m in sim.messages()] == [world.resident_e164]
