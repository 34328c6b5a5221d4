"""The automated follow-up call, end to end on the time-skipping server.

The real worker places calls with the real twilio SDK on the Twilio simulator; the simulated
phone calls our webhooks (served over HTTP, signed like Twilio's); they signal the workflow.
Time only moves when a test skips it (``env.sleep``), so retries and calling hours are
exercised without real waiting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.database import Database
from api.main import create_app
from core.calling_hours import CallingHours
from core.models import FollowUp, FollowUpCall, OrderEvent
from core.security import mask_link_codes
from core.settings import Settings
from core.vocab import (
    CallOutcome,
    FollowUpMethod,
    FollowUpOutcome,
    FollowUpStatus,
    OrderStatus,
    QueueReason,
    Rating,
    SettledBy,
)
from tests import signin
from tests.helpers import Harness, order_id_of
from tests.phones import LateApp, with_twilio
from tests.polling import eventually
from twilio_sim import SimControl, ThreadedServer
from worker import build_worker
from workflows.order import (
    AcceptInput,
    CallProgress,
    CompleteInput,
    DispatchInput,
    FollowUpResultInput,
    OrderView,
    OrderWorkflow,
    ReviewInput,
)

Handle = WorkflowHandle[OrderWorkflow, OrderView]
RESIDENT = "+8613800138000"  # tests.helpers.order_body's 13800138000, in E.164


@pytest.fixture
def webhooks() -> LateApp:
    return LateApp()


@pytest.fixture
def webhook_server(webhooks: LateApp) -> Iterator[ThreadedServer]:
    server = ThreadedServer(webhooks)
    yield server
    if webhooks.app is not None:
        server.stop()


@pytest.fixture
def settings(
    settings: Settings,
    env: WorkflowEnvironment,
    sim_server: ThreadedServer,
    webhook_server: ThreadedServer,
    request: pytest.FixtureRequest,
) -> Settings:
    marker = request.node.get_closest_marker("calling_hours")
    extra: dict[str, Any] = {"calling_hours": marker.args[0]} if marker else {}
    # Calls ring right after the review unless a test is about the wait: time only moves
    # here when a test skips it.
    delay = request.node.get_closest_marker("after_review")
    extra["follow_up_after_review"] = delay.args[0] if delay else timedelta(0)
    return with_twilio(
        settings,
        api_base_url=sim_server.base_url,
        public_base_url=webhook_server.base_url,
        temporal_address=env.client.service_client.config.target_host,
        **extra,
    )


@pytest.fixture
def api(settings: Settings, webhooks: LateApp, webhook_server: ThreadedServer) -> ThreadedServer:
    """Our API, where Twilio's webhooks land."""
    webhooks.app = create_app(settings, reconcile_every=timedelta(hours=1))
    return webhook_server.start()


@dataclass
class Snapshot:
    follow_up: FollowUp | None
    calls: list[FollowUpCall]
    events: list[OrderEvent]

    def named(self, name: str) -> list[OrderEvent]:
        return [e for e in self.events if e.event == name]


def _snapshot(session: Session, order_id: int) -> Snapshot:
    # One snapshot for the three reads: under READ COMMITTED a transition committing between
    # them showed its event without its call's outcome.
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    follow_up = session.scalar(select(FollowUp).where(FollowUp.order_id == order_id))
    calls = list(
        session.scalars(
            select(FollowUpCall).where(FollowUpCall.order_id == order_id).order_by("attempt")
        )
    )
    events = list(
        session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.seq)
        )
    )
    session.expunge_all()
    return Snapshot(follow_up, calls, events)


async def snapshot(system: Harness, handle: Handle) -> Snapshot:
    return await system.db.run(_snapshot, order_id_of(handle))


async def until(system: Harness, handle: Handle, what: str, check: Any) -> Snapshot:
    return await eventually(lambda: snapshot(system, handle), check, what=what)


async def to_reviewed(system: Harness, rating: Rating | None = Rating.SATISFIED) -> Handle:
    handle = await system.submit()
    volunteer = await system.volunteer()
    await handle.execute_update(OrderWorkflow.dispatch, DispatchInput(volunteer_id=volunteer))
    await handle.execute_update(OrderWorkflow.accept, AcceptInput(volunteer_id=volunteer))
    await handle.execute_update(
        OrderWorkflow.complete, CompleteInput(volunteer_id=volunteer, hours=1.5)
    )
    if rating is not None:
        await handle.execute_update(OrderWorkflow.review, ReviewInput(rating=rating))
    return handle


async def queued(system: Harness, handle: Handle) -> Snapshot:
    """The snapshot once the follow-up has reached the call-center queue."""
    return await until(
        system,
        handle,
        "the follow-up queued",
        lambda s: s.follow_up is not None and s.follow_up.status == FollowUpStatus.OPEN,
    )


def ended(snap: Snapshot) -> int:
    return len(snap.named("call_ended"))


async def closed(handle: Handle) -> OrderView:
    """The result once the order has closed by itself.

    Awaiting ``result()`` earlier would let the test server skip time while a call is still
    ringing on the simulator, so its outcome timer would fire before the phone answers.
    """
    await eventually(
        lambda: handle.query(OrderWorkflow.state),
        lambda v: v.status == OrderStatus.CLOSED,
        what="the order closed",
    )
    return await handle.result()


async def test_a_rating_pressed_on_the_call_settles_the_follow_up(
    system: Harness, api: ThreadedServer, sim: SimControl
) -> None:
    sim.script(RESIDENT, ["answer:1"])  # 1 confirms the review
    handle = await to_reviewed(system, Rating.SATISFIED)

    view = await closed(handle)
    assert (view.status, view.rating, view.follow_up_calls) == (
        OrderStatus.CLOSED,
        Rating.SATISFIED,
        1,
    )
    snap = await snapshot(system, handle)
    assert [e.event for e in snap.events][-5:] == [
        "follow_up_created",
        "call_placed",
        "call_ended",
        "followed_up",
        "closed",
    ]
    follow_up = snap.follow_up
    assert follow_up is not None
    assert (follow_up.status, follow_up.method, follow_up.outcome, follow_up.settled_by) == (
        FollowUpStatus.DONE,
        FollowUpMethod.PHONE,
        FollowUpOutcome.CONFIRMED,
        SettledBy.AUTOMATED_CALL,
    )
    assert (follow_up.rating, follow_up.call_attempts, follow_up.queued_at) == (
        "satisfied",
        1,
        None,
    )
    [call] = snap.calls
    assert (call.state, call.outcome, call.digits) == ("ended", CallOutcome.RATED, "1")
    assert call.call_sid is not None and call.call_sid.startswith("CA")
    assert snap.named("followed_up")[0].actor == "system:automated_call"

    # What the resident heard: Mandarin, the service and its date, the keypad; nobody's phone.
    [played] = sim.calls()
    assert played["to"] == RESIDENT and played["sid"] == call.call_sid
    heard = " ".join(h["text"] for h in played["heard"])
    assert "空巢老人探访" in heard  # the service, by its catalog name
    assert all(h["language"] == "zh-CN" for h in played["heard"])
    assert "按1" in heard and "按9" in heard
    assert "139" not in heard  # volunteers' numbers start with 139 in these tests
    # The service was done for the resident, who is asked to confirm their own rating.
    assert "为您提供的“空巢老人探访”服务，您评价为满意，确认请按1" in heard
    assert "如需更改，请按2" in heard and "您完成" not in heard


async def test_sms_go_out_at_dispatch_accept_and_completion_and_report_delivery(
    system: Harness, api: ThreadedServer, sim: SimControl
) -> None:
    sim.script(RESIDENT, ["answer:1"])
    handle = await to_reviewed(system)
    await closed(handle)
    sent = {m["sid"]: m for m in sim.messages()}

    admin = await signin.staff(system.db, system.settings)
    public_id = (await system.order(handle)).public_id

    async def messages() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=api.base_url, headers=admin) as http:
            answer = await http.get(f"/api/orders/{public_id}/messages")
            assert answer.status_code == 200, answer.text
            listed: list[dict[str, Any]] = answer.json()
            return listed

    # Delivery reports arrive through the signed status callback.
    listed = await eventually(
        messages,
        lambda ms: len(ms) == 3 and all(m["delivery_status"] == "delivered" for m in ms),
        what="three delivered SMS",
    )
    assert [(m["notice"], m["recipient_kind"], m["state"]) for m in listed] == [
        ("dispatched", "volunteer", "sent"),
        ("accepted", "resident", "sent"),
        ("completed", "resident", "sent"),
    ]
    assert all("*" in m["to_number"] for m in listed)  # masked for the admins' screen
    volunteer_sms, accepted_sms, completed_sms = (m["body"] for m in listed)
    assert "13800138000" not in volunteer_sms  # nobody else's number
    # The volunteer's link opens the volunteer page; staff read it with its code cut too.
    assert f"/volunteer/orders/{public_id}?t=…" in volunteer_sms
    assert "空巢老人探访" in volunteer_sms
    assert "志愿者" in accepted_sms and "评价" in completed_sms
    # Staff read the resident's link with its code cut: it would let them act as the resident.
    assert completed_sms.endswith("中心将回访。") and "?t=…" in completed_sms
    assert {mask_link_codes(m["body"]) for m in sent.values()} == {
        volunteer_sms,
        accepted_sms,
        completed_sms,
    }
    # The resident's own link opens their order, and nothing else.
    [received] = [m["body"] for m in sent.values() if "评价" in m["body"]]
    code = re.search(r"\?t=([A-Za-z0-9_.-]+)", received)
    assert code is not None
    link = {"Authorization": f"Bearer ol1.{public_id}.{code.group(1)}"}
    async with httpx.AsyncClient(base_url=api.base_url, headers=link) as http:
        mine = await http.get(f"/api/orders/{public_id}")
        assert mine.status_code == 200 and mine.json()["status"] == "closed"
        assert (await http.get("/api/me/orders")).status_code == 403
        assert (await http.get(f"/api/orders/{public_id}/messages")).status_code == 403
    forged = {"Authorization": f"Bearer ol1.{public_id}.{code.group(1)[:-2]}xx"}
    async with httpx.AsyncClient(base_url=api.base_url, headers=forged) as http:
        assert (await http.get(f"/api/orders/{public_id}")).status_code == 401


async def test_a_rating_that_differs_from_the_review_is_recorded_as_corrected(
    system: Harness, api: ThreadedServer, sim: SimControl
) -> None:
    sim.script(RESIDENT, ["answer:2,3"])  # 2: the usual menu, where 3 is 一般
    handle = await to_reviewed(system, Rating.VERY_SATISFIED)

    view = await closed(handle)
    assert (view.review_rating, view.rating) == (Rating.VERY_SATISFIED, Rating.AVERAGE)
    snap = await snapshot(system, handle)
    assert snap.follow_up is not None
    assert snap.follow_up.outcome == FollowUpOutcome.RATING_CORRECTED
    [followed] = snap.named("followed_up")
    assert (followed.data["rating"], followed.data["review_rating"]) == (
        "average",
        "very_satisfied",
    )
    [call_ended] = snap.named("call_ended")
    assert (call_ended.data["rating"], call_ended.data["review_rating"]) == (
        "average",
        "very_satisfied",
    )


async def test_an_invalid_key_repeats_the_prompt_once_and_a_valid_one_then_counts(
    env: WorkflowEnvironment, system: Harness, api: ThreadedServer, sim: SimControl
) -> None:
    sim.script(RESIDENT, ["answer:7,1"])
    handle = await to_reviewed(system, None)  # never reviewed: the call records the rating

    await env.sleep(system.settings.review_window + timedelta(minutes=1))
    view = await closed(handle)
    assert (view.review_rating, view.rating) == (None, Rating.VERY_SATISFIED)
    [played] = sim.calls()
    prompts = [h["text"] for h in played["heard"] if "按1" in h["text"]]
    assert len(prompts) == 2 and "没有收到有效的按键" in prompts[1]


async def test_unanswered_calls_retry_later_then_reach_the_call_center(
    env: WorkflowEnvironment, system: Harness, api: ThreadedServer, sim: SimControl
) -> None:
    sim.script(RESIDENT, ["no-answer", "busy", "machine"])
    handle = await to_reviewed(system)

    for n in (1, 2):
        snap = await until(system, handle, f"call {n} ended", lambda s, n=n: ended(s) == n)
        assert len(sim.calls()) == n  # the next call waits for the retry delay
        await env.sleep(timedelta(hours=4, minutes=1))

    snap = await queued(system, handle)
    assert [c.outcome for c in snap.calls] == [
        CallOutcome.NO_ANSWER,
        CallOutcome.BUSY,
        CallOutcome.MACHINE,
    ]
    placed = [e.at for e in snap.named("call_placed")]
    assert all(later - earlier >= timedelta(hours=4) for earlier, later in pairwise(placed))
    follow_up = snap.follow_up
    assert follow_up is not None
    assert (follow_up.queue_reason, follow_up.priority, follow_up.call_attempts) == (
        QueueReason.ATTEMPTS_EXHAUSTED,
        2,
        3,
    )
    # The machine heard nothing: the TwiML hung up on it.
    machine = sim.calls()[2]
    assert machine["answered_by"].startswith("machine") and machine["heard"] == []
    assert len(sim.calls()) == 3

    # Staff take it from here; the order closes on their result.
    view = await handle.execute_update(
        OrderWorkflow.record_follow_up,
        FollowUpResultInput(
            follow_up_id=follow_up.id,
            method=FollowUpMethod.HOME_VISIT,
            outcome=FollowUpOutcome.CONFIRMED,
            agent_id=5,
        ),
    )
    assert view.status == OrderStatus.CLOSED
    await handle.result()
    done = await snapshot(system, handle)
    assert done.follow_up is not None
    assert (done.follow_up.settled_by, done.follow_up.agent_id) == (SettledBy.STAFF, 5)


@pytest.mark.parametrize(
    ("keys", "reason", "priority", "call_rating"),
    [
        ("answer:2,4", QueueReason.DISSATISFIED, 0, "dissatisfied"),
        ("answer:9", QueueReason.STAFF_REQUESTED, 1, None),
    ],
    ids=["dissatisfied", "nine"],
)
async def test_dissatisfied_or_nine_goes_to_staff_at_once(
    system: Harness,
    api: ThreadedServer,
    sim: SimControl,
    keys: str,
    reason: QueueReason,
    priority: int,
    call_rating: str | None,
) -> None:
    sim.script(RESIDENT, [keys])
    handle = await to_reviewed(system)

    snap = await queued(system, handle)
    follow_up = snap.follow_up
    assert follow_up is not None
    assert (follow_up.queue_reason, follow_up.priority, follow_up.call_rating) == (
        reason,
        priority,
        call_rating,
    )
    assert len(snap.calls) == 1 and len(sim.calls()) == 1
    view = await handle.query(OrderWorkflow.state)
    assert (view.status, view.follow_up_queued) == (OrderStatus.REVIEWED, True)


async def test_no_valid_key_twice_is_a_failed_attempt_and_is_tried_again(
    env: WorkflowEnvironment, system: Harness, api: ThreadedServer, sim: SimControl
) -> None:
    sim.script(RESIDENT, ["answer:7,", "answer:1"])
    handle = await to_reviewed(system)

    snap = await until(system, handle, "call 1 ended", lambda s: ended(s) == 1)
    [first] = snap.calls
    assert first.outcome == CallOutcome.NO_INPUT
    assert "next_call_at" in snap.named("call_ended")[0].data
    await env.sleep(timedelta(hours=4, minutes=1))
    view = await closed(handle)
    assert (view.status, view.rating, view.follow_up_calls) == (
        OrderStatus.CLOSED,
        Rating.SATISFIED,  # 1 confirmed the review
        2,
    )


async def test_callbacks_twilio_repeats_are_applied_once(
    env: WorkflowEnvironment, system: Harness, api: ThreadedServer, sim: SimControl
) -> None:
    sim.script(RESIDENT, ["no-answer", "answer:2,1"], duplicate_callbacks=True)
    handle = await to_reviewed(system)

    snap = await until(system, handle, "call 1 ended", lambda s: ended(s) == 1)
    sim.calls()  # every duplicate delivered
    # A repeat arriving later still (even by hand) changes nothing either.
    [call] = snap.calls
    assert call.call_sid is not None
    await handle.signal(
        OrderWorkflow.call_progress,
        CallProgress(
            call_id=call.id,
            call_sid=call.call_sid,
            event="status:no-answer",
            call_status="no-answer",
        ),
    )
    view = await handle.query(OrderWorkflow.state)
    assert view.follow_up_calls == 1
    await env.sleep(timedelta(hours=4, minutes=1))
    view = await closed(handle)
    assert (view.status, view.follow_up_calls) == (OrderStatus.CLOSED, 2)
    snap = await snapshot(system, handle)
    assert ended(snap) == 2 and len(snap.named("call_placed")) == 2


async def test_staff_may_settle_it_between_calls_and_no_more_calls_follow(
    env: WorkflowEnvironment, system: Harness, api: ThreadedServer, sim: SimControl
) -> None:
    sim.script(RESIDENT, ["no-answer", "answer:1"])
    handle = await to_reviewed(system)
    snap = await until(system, handle, "call 1 ended", lambda s: ended(s) == 1)
    assert snap.follow_up is not None

    await handle.execute_update(
        OrderWorkflow.record_follow_up,
        FollowUpResultInput(
            follow_up_id=snap.follow_up.id,
            method=FollowUpMethod.FIELD_VISIT,
            outcome=FollowUpOutcome.CONFIRMED,
            agent_id=3,
        ),
    )
    await env.sleep(timedelta(hours=5))
    view = await handle.result()
    assert (view.status, view.follow_up_calls) == (OrderStatus.CLOSED, 1)
    assert len(sim.calls()) == 1


@pytest.mark.after_review(timedelta(hours=2))
async def test_after_a_review_the_call_waits_and_a_changed_answer_is_a_correction(
    env: WorkflowEnvironment, system: Harness, api: ThreadedServer, sim: SimControl
) -> None:
    sim.script(RESIDENT, ["answer:2,3"])  # reviewed 满意; 2 opens the usual menu, 3 is 一般
    handle = await to_reviewed(system, Rating.SATISFIED)
    snap = await until(system, handle, "the follow-up opened", lambda s: s.follow_up is not None)
    assert sim.calls() == []  # not in the same second as the review

    await env.sleep(timedelta(hours=2, minutes=1))
    view = await closed(handle)
    assert (view.review_rating, view.rating) == (Rating.SATISFIED, Rating.AVERAGE)
    snap = await snapshot(system, handle)
    [reviewed], [placed] = snap.named("reviewed"), snap.named("call_placed")
    assert placed.at - reviewed.at >= timedelta(hours=2)
    assert snap.follow_up is not None
    assert snap.follow_up.outcome == FollowUpOutcome.RATING_CORRECTED
    [call] = snap.calls
    assert call.confirm_rating == "satisfied"
    [played] = sim.calls()
    heard = " ".join(h["text"] for h in played["heard"])
    assert "您评价为满意，确认请按1" in heard
    assert "非常满意请按1，满意请按2，一般请按3，不满意请按4" in heard  # the usual menu
    assert "感谢您的评价：一般" in heard
    assert call.digits == "3"


def _window_ahead() -> CallingHours:
    """A one-hour calling window starting two to three hours from now (local time)."""
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    start = ((local.hour + 3) % 24) * 60
    return CallingHours(start_minute=start, end_minute=start + 60)


@pytest.mark.calling_hours(_window_ahead())
async def test_the_first_call_waits_for_calling_hours(
    env: WorkflowEnvironment, system: Harness, api: ThreadedServer, sim: SimControl
) -> None:
    hours = system.settings.calling_hours
    sim.script(RESIDENT, ["answer:1"])
    handle = await to_reviewed(system)
    snap = await until(system, handle, "the follow-up opened", lambda s: s.follow_up is not None)
    assert snap.follow_up is not None and snap.follow_up.status == FollowUpStatus.CALLING
    assert sim.calls() == []

    now = (await env.get_current_time()).astimezone(ZoneInfo("Asia/Shanghai"))
    start = now.replace(hour=hours.start_minute // 60, minute=0, second=0, microsecond=0)
    if start < now:
        start += timedelta(days=1)
    await env.sleep(start - now + timedelta(seconds=30))
    view = await closed(handle)
    assert view.status == OrderStatus.CLOSED
    snap = await snapshot(system, handle)
    [placed] = snap.named("call_placed")
    local = placed.at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert hours.start_minute <= local.hour * 60 + local.minute < hours.end_minute
    assert placed.at - snap.named("follow_up_created")[0].at >= timedelta(hours=1)


async def test_a_worker_without_twilio_hands_planned_calls_to_staff_and_sms_never_block(
    env: WorkflowEnvironment,
    engine: Engine,
    database: Database,
    settings: Settings,
    township: str,
    sim: SimControl,
) -> None:
    """Orders planned calls and SMS; then the account was removed from the worker."""
    bare = settings.model_copy(
        update={"twilio_account_sid": None, "twilio_auth_token": None, "twilio_from_number": None}
    )
    system = Harness(env.client, database, settings, township)
    with ThreadPoolExecutor(max_workers=bare.worker_max_concurrent_activities) as executor:
        async with build_worker(env.client, engine, bare, executor=executor):
            handle = await to_reviewed(system)
            snap = await queued(system, handle)
    follow_up = snap.follow_up
    assert follow_up is not None
    assert (follow_up.queue_reason, follow_up.priority) == (QueueReason.CALL_IMPOSSIBLE, 2)
    [queued_event] = snap.named("follow_up_queued")
    assert "Twilio" in queued_event.data["error"]
    # Every step of the loop went through although no SMS could be sent.
    assert [e.event for e in snap.events][:5] == [
        "submitted",
        "dispatched",
        "accepted",
        "completed",
        "reviewed",
    ]
    assert sim.messages() == [] and sim.calls() == []
