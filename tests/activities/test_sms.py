"""The SMS activity: the real twilio SDK against the simulator, each message at most once."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, delete, insert, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from twilio.rest import Client

from activities.contracts import SMS_IMPOSSIBLE, SmsInput, SmsResult
from activities.sms import MAX_SEGMENTS_BY_NOTICE, Facts, SmsSender, compose, segments
from api.sign_in_sms import code_text
from core.db import utcnow
from core.models import SmsMessage, SmsOptOut
from core.order_numbers import spoken
from core.security import link_code, mask_link_codes, read_token, volunteer_link_code
from core.settings import DEFAULT_SMS_SIGNATURE, Settings
from core.sms_replies import offer_code
from core.twilio import TwilioAccount
from core.twilio_errors import TWILIO_OUTCOME_UNKNOWN, TWILIO_UNAVAILABLE
from core.vocab import Notice
from core.webhooks import sms_status_url
from tests.activities.conftest import (
    CENTER,
    DEADLINE_TEXT,
    ITEM_NAME,
    LEADER_NAME,
    RESIDENT_NAME,
    VOLUNTEER_NAME,
    Dropper,
    Gate,
    Recorded,
    World,
    sim_message,
    webhook_kinds,
)
from twilio_sim import SimControl, Simulator

ADMIN_A = "+8613700000001"
ADMIN_B = "+8613700000002"
SEQ = 7
LINK_SECRET = "sms-link-test-secret"


def sender(
    engine: Engine,
    client: Client | None,
    base: str,
    *,
    admins: Sequence[str] = (ADMIN_A, ADMIN_B),
) -> SmsSender:
    return SmsSender(
        engine,
        TwilioAccount(client, CENTER, base, "86"),
        escalation_to=admins,
        timezone="Asia/Shanghai",
        order_link=lambda public_id: link_code(
            public_id, secret=LINK_SECRET, ttl=timedelta(days=14), now=datetime.now(UTC)
        ),
        volunteer_link=lambda public_id, volunteer_id: volunteer_link_code(
            public_id,
            volunteer_id,
            secret=LINK_SECRET,
            ttl=timedelta(days=14),
            now=datetime.now(UTC),
        ),
    )


def notify(activity: SmsSender, world: World, notice: Notice, **ids: Any) -> SmsResult:
    inp = SmsInput(order_id=world.order_id, notice=notice, seq=SEQ, **ids)
    result: SmsResult = ActivityEnvironment().run(activity.send_sms, inp)
    return result


def ids_for(world: World, notice: Notice) -> dict[str, Any]:
    """What the workflow passes with each notice."""
    return {
        Notice.RECEIVED: {},
        Notice.DISPATCHED: {"volunteer_id": world.volunteer_id},
        Notice.WITHDRAWN: {"volunteer_id": world.volunteer_id},
        Notice.TEAM_DISPATCHED: {"unit_id": world.unit_id, "leader_id": world.leader_id},
        Notice.ACCEPTED: {"volunteer_id": world.volunteer_id},
        Notice.COMPLETED: {"volunteer_id": world.volunteer_id},
        Notice.ESCALATED: {"escalation_level": 2},
    }[notice]


def rows(engine: Engine, world: World) -> list[Any]:
    table = SmsMessage.__table__
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(table).where(table.c.order_id == world.order_id).order_by(table.c.id)
            )
        )


@dataclass(frozen=True)
class Expected:
    recipients: str  # which World numbers: volunteer, leader, resident, admins
    kind: str
    says: tuple[str, ...]
    one_segment: bool


def expectations(world: World, base: str) -> dict[Notice, Expected]:
    link = f"{base}/orders/{world.public_id}"
    # A volunteer's link opens the volunteer page, with the code that acts as them there.
    volunteer_link = f"{base}/volunteer/orders/{world.public_id}?t="
    ref = spoken(world.number)
    place = world.township + world.village
    code = offer_code(world.order_id)
    return {
        # A caller who ordered by phone: the number to quote and their own order's link.
        Notice.RECEIVED: Expected(
            "resident", "resident", (ITEM_NAME, ref, "已受理", link + "?t="), False
        ),
        Notice.DISPATCHED: Expected(
            "volunteer",
            "volunteer",
            (ref, ITEM_NAME, place, DEADLINE_TEXT, volunteer_link, f"回复“1 {code}”接单"),
            False,
        ),
        Notice.TEAM_DISPATCHED: Expected(
            "leader", "leader", (world.unit_name, ref, ITEM_NAME, place, volunteer_link), False
        ),
        Notice.ACCEPTED: Expected(
            "resident", "resident", (ITEM_NAME, ref, "志愿者", "接单", DEADLINE_TEXT), True
        ),
        Notice.COMPLETED: Expected(
            "resident",
            "resident",
            (ITEM_NAME, ref, "已完成", "回复1非常满意", "4不满意", link + "?t=", "回访"),
            False,
        ),
        Notice.ESCALATED: Expected(
            "admins", "admin", (ref, ITEM_NAME, world.township, "2级"), True
        ),
        Notice.WITHDRAWN: Expected("volunteer", "volunteer", (ref, ITEM_NAME, "改派"), True),
    }


@pytest.mark.parametrize("notice", list(Notice))
def test_each_notice_reaches_the_right_person_with_the_right_text(
    notice: Notice,
    engine: Engine,
    world: World,
    twilio: Client,
    sim: SimControl,
    simulator: Simulator,
    public_base_url: str,
) -> None:
    expected = expectations(world, public_base_url)[notice]
    numbers = {
        "volunteer": [world.volunteer_e164],
        "leader": [world.leader_e164],
        "resident": [world.resident_e164],
        "admins": [ADMIN_A, ADMIN_B],
    }[expected.recipients]

    activity = sender(engine, twilio, public_base_url)
    result = notify(activity, world, notice, **ids_for(world, notice))

    assert result == SmsResult(sent=len(numbers), skipped=0, refused=0)
    messages = sim.messages()
    assert sorted(m["to"] for m in messages) == sorted(numbers)
    recorded = {r.message_sid: r for r in rows(engine, world)}
    for message in messages:
        body = message["body"]
        assert body.startswith(DEFAULT_SMS_SIGNATURE)
        for fragment in expected.says:
            assert fragment in body, f"{notice}: {fragment!r} missing from {body!r}"
        # Nobody's phone number and no other person's name, ever.
        for phone in (world.resident_phone, world.volunteer_phone, world.leader_phone):
            assert phone not in body
        for digits in (ADMIN_A, ADMIN_B):
            assert digits[1:] not in body
        assert RESIDENT_NAME not in body
        assert VOLUNTEER_NAME not in body and LEADER_NAME not in body
        most = 1 if expected.one_segment else MAX_SEGMENTS_BY_NOTICE.get(notice, 2)
        assert segments(body) <= most
        assert int(message["resource"]["num_segments"]) == segments(body)

        row = recorded[message["sid"]]
        assert (row.state, row.notice, row.recipient_kind) == ("sent", notice.value, expected.kind)
        # What we keep of the text has its link's code cut: the code acts as the recipient.
        assert row.to_number == message["to"] and row.body == mask_link_codes(body)
        assert "?t=" not in body or ("?t=…" in row.body and "?t=…" not in body)
        assert row.sent_at is not None and row.delivery_status == "queued"
        # The key names the recipient by id or role, never by number.
        key = f"order-{world.order_id}:{notice.value}:{SEQ}:{expected.kind}"
        if row.recipient_id is not None:
            assert row.key == f"{key}:{row.recipient_id}"
        elif expected.kind == "resident":
            assert row.key == key
        else:
            assert row.key.startswith(key + ":")
        assert message["to"][-8:] not in row.key
        status_url = sms_status_url(public_base_url, row.id)
        assert sim_message(simulator, message["sid"]).status_callback == status_url
        assert sim_message(simulator, message["sid"]).from_ == CENTER
        assert webhook_kinds(message) == [("message-status", "POST", status_url, 204)] * 2


def test_a_number_that_replied_stop_gets_no_notices_until_it_replies_start(
    engine: Engine, world: World, twilio: Client, sim: SimControl, public_base_url: str
) -> None:
    with engine.begin() as conn:
        conn.execute(insert(SmsOptOut).values(phone=world.resident_e164, opted_out_at=utcnow()))
    activity = sender(engine, twilio, public_base_url)
    quiet = notify(activity, world, Notice.ACCEPTED, **ids_for(world, Notice.ACCEPTED))
    assert quiet == SmsResult(sent=0, skipped=1, refused=0)
    assert sim.messages() == []
    with engine.begin() as conn:
        conn.execute(delete(SmsOptOut).where(SmsOptOut.phone == world.resident_e164))
    later = SmsInput(order_id=world.order_id, notice=Notice.ACCEPTED, seq=SEQ + 1)
    assert ActivityEnvironment().run(activity.send_sms, later).sent == 1


def test_recipient_ids_are_the_people_the_notice_is_for(
    engine: Engine, world: World, twilio: Client, sim: SimControl, public_base_url: str
) -> None:
    activity = sender(engine, twilio, public_base_url)
    for notice in (Notice.DISPATCHED, Notice.TEAM_DISPATCHED, Notice.ACCEPTED):
        notify(activity, world, notice, **ids_for(world, notice))
    found = {r.notice: (r.recipient_kind, r.recipient_id) for r in rows(engine, world)}
    assert found == {
        "dispatched": ("volunteer", world.volunteer_id),
        "team_dispatched": ("leader", world.leader_id),
        "accepted": ("resident", None),
    }


def test_the_team_leader_is_found_from_the_unit_when_not_given(
    engine: Engine, world: World, twilio: Client, sim: SimControl, public_base_url: str
) -> None:
    result = notify(
        sender(engine, twilio, public_base_url),
        world,
        Notice.TEAM_DISPATCHED,
        unit_id=world.unit_id,
    )
    assert result.sent == 1
    assert [m["to"] for m in sim.messages()] == [world.leader_e164]


def test_a_retry_sends_nothing_twice(
    engine: Engine, world: World, twilio: Client, sim: SimControl, public_base_url: str
) -> None:
    activity = sender(engine, twilio, public_base_url)
    assert notify(activity, world, Notice.ESCALATED, escalation_level=1).sent == 2
    again = notify(activity, world, Notice.ESCALATED, escalation_level=1)
    assert again == SmsResult(sent=0, skipped=2, refused=0)
    assert sorted(m["to"] for m in sim.messages()) == [ADMIN_A, ADMIN_B]
    # Another event's notice is another message.
    later = SmsInput(order_id=world.order_id, notice=Notice.ESCALATED, seq=SEQ + 1)
    assert ActivityEnvironment().run(activity.send_sms, later).sent == 2
    assert len(sim.messages()) == 4


def test_one_refused_recipient_does_not_stop_the_others(
    engine: Engine,
    world: World,
    recorded_twilio: Recorded,
    sim: SimControl,
    public_base_url: str,
) -> None:
    # +0...: E.164-shaped, but Twilio refuses it (21211); "12" cannot be a number at all.
    admins = ["+0123456789", "12", ADMIN_B]
    activity = sender(engine, recorded_twilio.client, public_base_url, admins=admins)
    result = notify(activity, world, Notice.ESCALATED, escalation_level=1)
    assert result == SmsResult(sent=1, skipped=0, refused=2)
    # Twilio was asked twice: the unusable number never left.
    assert [r.status_code for r in recorded_twilio.http.responses] == [400, 201]
    [sid] = [m["sid"] for m in sim.messages()]
    assert [m["to"] for m in sim.messages()] == [ADMIN_B]
    found = {r.to_number: (r.state, r.error_code, r.message_sid) for r in rows(engine, world)}
    assert found == {"+0123456789": ("refused", 21211, None), ADMIN_B: ("sent", None, sid)}
    # A retry asks Twilio for nothing: the refusal is recorded, the other message sent.
    assert notify(activity, world, Notice.ESCALATED, escalation_level=1) == SmsResult(
        sent=0, skipped=2, refused=1
    )
    assert len(recorded_twilio.http.responses) == 2
    assert len(sim.messages()) == 1


def test_twilio_unavailable_is_retried_and_what_was_sent_is_not_sent_again(
    engine: Engine,
    world: World,
    gate: Gate,
    gated_twilio: Client,
    sim: SimControl,
    public_base_url: str,
) -> None:
    activity = sender(engine, gated_twilio, public_base_url)
    gate.failing.add(ADMIN_B)
    with pytest.raises(ApplicationError) as unavailable:
        notify(activity, world, Notice.ESCALATED, escalation_level=1)
    assert unavailable.value.type == TWILIO_UNAVAILABLE and not unavailable.value.non_retryable
    assert [m["to"] for m in sim.messages()] == [ADMIN_A]
    assert {r.to_number: (r.state, r.error_code) for r in rows(engine, world)} == {
        ADMIN_A: ("sent", None),
        ADMIN_B: ("retry", 20503),
    }

    gate.failing.clear()
    assert notify(activity, world, Notice.ESCALATED, escalation_level=1) == SmsResult(
        sent=1, skipped=1, refused=0
    )
    assert sorted(m["to"] for m in sim.messages()) == [ADMIN_A, ADMIN_B]
    assert {(r.state, r.error_code) for r in rows(engine, world)} == {("sent", None)}
    assert gate.refused_requests == [ADMIN_B]


def test_twilio_down_is_retryable_and_the_retry_goes_out_with_a_working_link(
    engine: Engine,
    world: World,
    down_twilio: Client,
    twilio: Client,
    sim: SimControl,
    public_base_url: str,
) -> None:
    with pytest.raises(ApplicationError) as down:
        notify(sender(engine, down_twilio, public_base_url), world, Notice.COMPLETED)
    assert down.value.type == TWILIO_UNAVAILABLE and not down.value.non_retryable
    [row] = rows(engine, world)
    assert row.state == "retry" and "?t=…" in row.body
    assert notify(sender(engine, twilio, public_base_url), world, Notice.COMPLETED).sent == 1
    [message] = sim.messages()
    assert message["to"] == world.resident_e164
    # Its link is signed afresh (what was recorded has the code cut) and opens the order.
    code = re.search(r"\?t=([A-Za-z0-9_.-]+)", message["body"])
    assert code is not None
    opened = read_token(f"ol1.{world.public_id}.{code.group(1)}", secret=LINK_SECRET)
    assert opened.order == world.public_id
    [row] = rows(engine, world)
    assert row.state == "sent" and row.body == mask_link_codes(message["body"])
    assert code.group(1) not in row.body


@pytest.mark.parametrize("notice", [Notice.ACCEPTED, Notice.ESCALATED])
def test_a_message_recorded_under_a_key_with_the_number_is_not_sent_again(
    notice: Notice,
    engine: Engine,
    world: World,
    twilio: Client,
    sim: SimControl,
    public_base_url: str,
) -> None:
    # Keys once ended with the number: a retry after the upgrade still finds the message.
    numbers = [world.resident_e164] if notice is Notice.ACCEPTED else [ADMIN_A, ADMIN_B]
    kind = "resident" if notice is Notice.ACCEPTED else "admin"
    with engine.begin() as conn:
        for number in numbers:
            conn.execute(
                insert(SmsMessage).values(
                    key=f"order-{world.order_id}:{notice.value}:{SEQ}:{kind}:{number}",
                    order_id=world.order_id,
                    notice=notice.value,
                    recipient_kind=kind,
                    to_number=number,
                    body="earlier",
                    state="sent",
                )
            )
    result = notify(
        sender(engine, twilio, public_base_url), world, notice, **ids_for(world, notice)
    )
    assert result == SmsResult(sent=0, skipped=len(numbers), refused=0)
    assert sim.messages() == []
    assert len(rows(engine, world)) == len(numbers)


def test_a_message_whose_answer_was_lost_is_not_sent_again(
    engine: Engine,
    world: World,
    dropping_twilio: Client,
    dropper: Dropper,
    twilio: Client,
    sim: SimControl,
    public_base_url: str,
) -> None:
    with pytest.raises(ApplicationError) as lost:
        notify(sender(engine, dropping_twilio, public_base_url), world, Notice.COMPLETED)
    assert lost.value.type == TWILIO_OUTCOME_UNKNOWN and not lost.value.non_retryable
    assert lost.value.__cause__ is None  # the SDK's exception is not passed on
    assert [r["To"] for r in dropper.received] == [[world.resident_e164]]
    [row] = rows(engine, world)
    assert (row.state, row.message_sid) == ("sending", None)
    # It may have gone out: the retry skips it.
    result = notify(sender(engine, twilio, public_base_url), world, Notice.COMPLETED)
    assert result == SmsResult(sent=0, skipped=1, refused=0)
    assert sim.messages() == []


def test_without_a_twilio_account_no_sms_is_possible(
    engine: Engine, world: World, sim: SimControl, public_base_url: str
) -> None:
    with pytest.raises(ApplicationError) as off:
        notify(sender(engine, None, public_base_url), world, Notice.ACCEPTED)
    assert off.value.type == SMS_IMPOSSIBLE and off.value.non_retryable
    assert rows(engine, world) == []


def test_nobody_to_send_to_is_skipped(
    engine: Engine, world: World, twilio: Client, sim: SimControl, public_base_url: str
) -> None:
    activity = sender(engine, twilio, public_base_url, admins=[])
    assert notify(activity, world, Notice.DISPATCHED) == SmsResult(sent=0, skipped=1, refused=0)
    assert notify(activity, world, Notice.ESCALATED) == SmsResult(sent=0, skipped=0, refused=0)
    assert sim.messages() == []


# ---- the texts ----------------------------------------------------------------------------------


def facts(**changes: Any) -> Facts:
    base = {
        "ref": "2612 0457",
        "item": ITEM_NAME,
        "township": "蓼皋街道",
        "village": "龙井社区",
        "deadline": datetime(2025, 12, 2, 18, 0, tzinfo=UTC),
        "link": "https://fw.songtao.gov.cn/orders/dutseswrHSRK1YYX",
        "unit": "红枫志愿服务队",
        "level": 1,
    }
    return Facts(**{**base, **changes})


def test_texts_fit_one_segment_where_there_is_no_link() -> None:
    for notice in (Notice.ACCEPTED, Notice.ESCALATED, Notice.WITHDRAWN):
        body = compose(notice, facts())
        assert len(body) <= 70, body


@pytest.mark.parametrize("notice", list(Notice))
def test_long_names_are_shortened_to_two_segments_at_most(notice: Notice) -> None:
    long = facts(
        item="农用实用技术培训" * 6,
        township="乌罗镇" * 10,
        village="潮水村" * 10,
        unit="县农业农村局科技志愿服务队" * 4,
        answer_by=datetime(2025, 12, 1, 11, 0, tzinfo=UTC),
        # Each link carries the code that opens the order for its recipient: a resident's
        # (the whole of it on a short domain), a volunteer's with their id (on a longer one).
        link="https://fw.songtao.gov.cn/orders/dutseswrHSRK1YYX?t=tq3frx.YKXpB8XrhK6t5err6t_tsw"
        if notice in (Notice.RECEIVED, Notice.COMPLETED)
        else "https://fw.songtao.gov.cn/volunteer/orders/dutseswrHSRK1YYX?t=9ix.tq3frx.YKXpB8XrhK6",
    )
    body = compose(notice, long)
    assert segments(body) <= MAX_SEGMENTS_BY_NOTICE.get(notice, 2), body
    if notice in (Notice.ACCEPTED, Notice.ESCALATED, Notice.WITHDRAWN):
        assert segments(body) == 1, body  # a little shortening buys the single segment
    assert body.startswith(DEFAULT_SMS_SIGNATURE)
    if notice in (Notice.RECEIVED, Notice.DISPATCHED, Notice.TEAM_DISPATCHED, Notice.COMPLETED):
        assert long.link in body  # names are shortened, never the link
    # Short names are left as they are.
    assert ITEM_NAME in compose(notice, facts())


def test_a_dispatch_text_says_when_to_answer_by_when_it_knows() -> None:
    lapses = datetime(2025, 12, 8, 11, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    for notice in (Notice.DISPATCHED, Notice.TEAM_DISPATCHED):
        assert "请于12月8日11:00前答复，" in compose(notice, facts(answer_by=lapses))
        assert "前答复" not in compose(notice, facts())


def test_segments_count_ucs2_units() -> None:
    assert segments("志" * 70) == 1
    assert segments("志" * 71) == 2
    assert segments("志" * 134) == 2
    assert segments("志" * 135) == 3


def test_every_text_signs_with_the_one_signature_in_the_settings(settings: Settings) -> None:
    # The sign-in code (sent by the API) and the order notices (sent by the worker) alike.
    assert settings.sms_signature == DEFAULT_SMS_SIGNATURE == "【县新时代文明实践中心】"
    other = settings.model_copy(update={"sms_signature": "【松桃志愿】"})
    assert code_text(other, "123456").startswith("【松桃志愿】您的登录验证码")
    for notice in Notice:
        body = compose(notice, facts(), other.sms_signature)
        assert body.startswith("【松桃志愿】") and body.count("【") == 1, body
    with pytest.raises(ValidationError):
        Settings(environment="test", sms_signature="志愿服务")  # carriers want 【…】
