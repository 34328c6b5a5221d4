"""SMS replies run the loop from a keypad phone: a volunteer takes an offer with 1 and reports
it done with 完成 and the hours, the resident rates it with a digit; each reply is applied
once however often Twilio delivers it and answered in the TwiML; strangers change nothing.

The real app and worker on the dev server and PostgreSQL; Twilio's side is the simulator
for what we send, and requests signed with the real SDK's validator for what we receive.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from api.database import Database
from core.models import InboundSms, Order, OrderEvent, OrderNote, SmsOptOut
from tests.integration.test_http_lifecycle import ok, submission
from tests.phones import AUTH_TOKEN
from tests.signin import People

PUBLIC = "http://testserver"
PATH = "/api/twilio/inbound/sms"


@pytest.fixture
def people(people_with_sms: People) -> People:
    return people_with_sms


async def texted(
    people: People, phone: str, body: str, *, sid: str | None = None, signed: bool = True
) -> httpx.Response:
    """Twilio delivering an SMS from ``phone`` (national digits) to the center's number."""
    params = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "7" * 32,
        "From": "+86" + phone,
        "To": "+15005550006",
        "Body": body,
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + PATH, params)
    headers = {"X-Twilio-Signature": signature if signed else "bad"}
    return await people.anonymous.post(PATH, data=params, headers=headers)


def said(response: httpx.Response) -> str:
    """The reply SMS in the TwiML answer ("" for none)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    messages = ET.fromstring(response.text).findall("Message")
    assert len(messages) <= 1
    return (messages[0].text or "") if messages else ""


async def enlisted(people: People, township: str) -> tuple[int, str]:
    """A volunteer registered by an admin, and their phone (national digits)."""
    phone = f"137{uuid.uuid4().int % 10**8:08d}"
    admin = await people.admin()
    body = {"name": "吴志强", "phone": phone, "township": township, "skills": []}
    return int((await ok(await admin.post("/api/volunteers", json=body), 201))["id"]), phone


def new_phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


async def dispatched(
    people: People, township: str, volunteer_id: int, phone: str
) -> dict[str, Any]:
    """An order of the resident at ``phone``, dispatched to the volunteer."""
    resident, admin = await people.resident(phone), await people.admin()
    order = await ok(await resident.post("/api/orders", json=submission(township)), 201)
    return dict(
        await ok(
            await admin.post(
                f"/api/orders/{order['id']}/dispatch", json={"volunteer_id": volunteer_id}
            )
        )
    )


async def status_of(people: People, order_id: str) -> dict[str, Any]:
    admin = await people.admin()
    return dict(await ok(await admin.get(f"/api/orders/{order_id}")))


async def test_the_whole_loop_by_keypad_replies_each_applied_once(
    people: People, township: str, database: Database
) -> None:
    volunteer_id, phone = await enlisted(people, township)
    resident_phone = new_phone()
    order = await dispatched(people, township, volunteer_id, resident_phone)
    spoken = f"{order['number'][:4]} {order['number'][4:]}"

    sid = "SM" + uuid.uuid4().hex
    first = said(await texted(people, phone, "1", sid=sid))
    assert first.startswith("【县新时代文明实践中心】已接单：")
    assert spoken in first and order["item_name"] in first
    assert (await status_of(people, order["id"]))["status"] == "accepted"
    # Twilio delivers it again: the same answer, nothing applied twice.
    assert said(await texted(people, phone, "1", sid=sid)) == first

    assert "小时数" in said(await texted(people, phone, "完成"))  # hours are asked for
    assert (await status_of(people, order["id"]))["status"] == "accepted"
    done = said(await texted(people, phone, "完成 2.5"))
    assert "已办结" in done and "2.5小时" in done
    after = await status_of(people, order["id"])
    assert (after["status"], after["hours"]) == ("completed", 2.5)

    rated = said(await texted(people, resident_phone, "4 来得太晚"))
    assert "工作人员会尽快与您联系" in rated
    after = await status_of(people, order["id"])
    assert (after["status"], after["rating"], after["review_channel"]) == (
        "reviewed",
        "dissatisfied",
        "sms",
    )

    def story(session: Any) -> tuple[list[str], list[str], int]:
        oid = session.scalar(select(Order.id).where(Order.public_id == order["id"]))
        events = list(
            session.scalars(
                select(OrderEvent.event).where(OrderEvent.order_id == oid).order_by(OrderEvent.seq)
            )
        )
        notes = list(
            session.scalars(
                select(OrderNote.body).where(OrderNote.order_id == oid).order_by(OrderNote.id)
            )
        )
        replies = session.scalar(
            select(func.count()).select_from(InboundSms).where(InboundSms.message_sid == sid)
        )
        return events, notes, replies

    events, notes, replies = await database.run(story)
    assert events.count("accepted") == 1 and events.count("completed") == 1
    assert "短信办结" in notes and "来得太晚" in notes
    assert replies == 1


async def test_a_decline_keeps_its_reason_and_several_offers_need_their_code(
    people: People, township: str
) -> None:
    volunteer_id, phone = await enlisted(people, township)
    first = await dispatched(people, township, volunteer_id, new_phone())
    second = await dispatched(people, township, volunteer_id, new_phone())

    listed = said(await texted(people, phone, "1"))
    assert listed.count("（") == 2 and "请带上代码回复" in listed
    assert (await status_of(people, first["id"]))["status"] == "dispatched"
    assert (await status_of(people, second["id"]))["status"] == "dispatched"

    codes: dict[str, str | None] = {o["id"]: None for o in (first, second)}
    # The answer lists each order with its code; reply with the second's.
    for line in listed.split("；"):
        for oid in codes:
            number = (await status_of(people, oid))["number"]
            if f"{number[:4]} {number[4:]}" in line:
                codes[oid] = line.split("：")[-1].split(" ")[0]
    assert all(codes.values())
    assert "已谢绝" in said(await texted(people, phone, f"2 {codes[second['id']]} 今天在县城"))
    declined = await status_of(people, second["id"])
    assert declined["status"] == "pending"
    # Only one offer is left: a bare 1 takes it.
    assert "已接单" in said(await texted(people, phone, "1"))
    assert (await status_of(people, first["id"]))["status"] == "accepted"
    assert "没有" in said(await texted(people, phone, "1 Z9"))


async def test_a_stranger_gets_one_answer_a_day_and_stop_is_kept(
    people: People, database: Database
) -> None:
    stranger = new_phone()
    assert "服务热线" in said(await texted(people, stranger, "1"))
    assert said(await texted(people, stranger, "接")) == ""

    assert "已退订" in said(await texted(people, stranger, "退订"))

    def opted(session: Any) -> int:
        return int(
            session.scalar(
                select(func.count())
                .select_from(SmsOptOut)
                .where(SmsOptOut.phone == "+86" + stranger)
            )
        )

    assert await database.run(opted) == 1
    assert "已恢复" in said(await texted(people, stranger, "订阅"))
    assert await database.run(opted) == 0

    def senders(session: Any) -> list[str]:
        return list(session.scalars(select(InboundSms.sender)))

    # A stranger's number is kept in no form we could read back.
    assert not any(stranger in s for s in await database.run(senders))


async def test_an_unsigned_reply_is_refused_and_changes_nothing(
    people: People, township: str, database: Database
) -> None:
    volunteer_id, phone = await enlisted(people, township)
    order = await dispatched(people, township, volunteer_id, new_phone())
    refused = await texted(people, phone, "1", signed=False)
    assert refused.status_code == 403
    assert (await status_of(people, order["id"]))["status"] == "dispatched"

    def count(session: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(InboundSms)))

    before = await database.run(count)
    await texted(people, phone, "1", signed=False)
    assert await database.run(count) == before
