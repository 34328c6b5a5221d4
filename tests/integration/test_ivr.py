"""The center's number answers calls: a known caller hears their orders and reorders by
keypad; anyone else says their address after the tone and an agent calls them back; 0 is a
person at any point; nothing pressed twice ends politely.

The real app and worker on the dev server and PostgreSQL; Twilio's requests are signed with
the real SDK's validator, and the confirmation SMS goes to the simulator.
"""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from api.database import Database
from core.models import CallRequest, Order
from core.settings import Settings
from tests.integration.conftest import app_client
from tests.integration.test_http_lifecycle import ok, submission
from tests.phones import AUTH_TOKEN, with_twilio
from tests.polling import eventually
from tests.signin import People
from twilio_sim import SimControl, ThreadedServer

PUBLIC = "http://testserver"
VOICE = "/api/twilio/inbound/voice"


@pytest.fixture
def people(people_with_sms: People) -> People:
    return people_with_sms


@asynccontextmanager
async def line(
    live_settings: Settings, sim_server: ThreadedServer, database: Database, **update: Any
) -> AsyncIterator[People]:
    """Callers on an app of its own, with these settings changed (no worker: nothing here
    needs one)."""
    settings = with_twilio(
        live_settings, api_base_url=sim_server.base_url, public_base_url=PUBLIC, **update
    )
    async with app_client(settings) as client:
        yield People(client, database, settings)


class Call:
    """One inbound call as Twilio plays it: fetch the Voice URL, then each action posted."""

    def __init__(self, people: People, phone: str) -> None:
        self.people = people
        self.params = {
            "CallSid": "CA" + uuid.uuid4().hex,
            "AccountSid": "AC" + "7" * 32,
            "From": "+86" + phone,
            "To": "+15005550006",
            "Direction": "inbound",
            "CallStatus": "in-progress",
        }
        self.doc = ET.Element("Response")

    async def post(self, url: str, **extra: str) -> ET.Element:
        params = {**self.params, **extra}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        r = await self.people.anonymous.post(
            path, data=params, headers={"X-Twilio-Signature": signature}
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/xml")
        self.doc = ET.fromstring(r.text)
        return self.doc

    async def ring(self) -> ET.Element:
        return await self.post(PUBLIC + VOICE)

    def heard(self) -> str:
        return "".join(s.text or "" for s in self.doc.iter("Say"))

    async def press(self, digits: str) -> ET.Element:
        gather = self.doc.find("Gather")
        assert gather is not None, ET.tostring(self.doc, encoding="unicode")
        return await self.post(gather.attrib["action"], Digits=digits)

    async def speak(self, seconds: int) -> ET.Element:
        """Say something for ``seconds`` after the tone; after silence Twilio requests no
        action and goes on to the next verb."""
        record = self.doc.find("Record")
        assert record is not None, ET.tostring(self.doc, encoding="unicode")
        assert record.attrib["maxLength"] == "60"
        if seconds == 0:
            redirect = self.doc.find("Redirect")
            assert redirect is not None and redirect.text
            return await self.post(redirect.text)
        extra = {"RecordingSid": "RE" + uuid.uuid4().hex, "RecordingDuration": str(seconds)}
        return await self.post(record.attrib["action"], **extra)

    @property
    def ended(self) -> bool:
        return self.doc.find("Hangup") is not None


def new_phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


async def tasks(database: Database, phone: str) -> list[tuple[str, str | None, int | None]]:
    def read(session: Any) -> list[tuple[str, str | None, int | None]]:
        rows = session.execute(
            select(CallRequest.kind, CallRequest.item_code, CallRequest.recording_seconds)
            .where(CallRequest.phone == "+86" + phone)
            .order_by(CallRequest.id)
        )
        return [tuple(r) for r in rows]

    return await database.run(read)


async def test_a_known_caller_hears_their_order_and_reorders_by_keypad(
    people: People, township: str, database: Database, sim: SimControl
) -> None:
    phone = new_phone()
    resident = await people.resident(phone)
    first = await ok(
        await resident.post("/api/orders", json=submission(township, address="松江村3组")), 201
    )
    call = Call(people, phone)
    await call.ring()
    said = call.heard()
    digits = "".join("零幺二三四五六七八九"[int(d)] for d in first["number"])
    assert first["item_name"] in said and f"{digits[:4]}，{digits[4:]}" in said
    assert "正在为您安排志愿者" in said and "重听请按1" in said
    await call.press("1")
    assert first["item_name"] in call.heard()  # heard again
    await call.press("")
    assert "求助请按1" in call.heard()
    await call.press("1")
    assert "代购代办请按2" in call.heard() and "其他需要请按9" in call.heard()
    await call.press("2")
    assert "使用上次的地址请按1" in call.heard()
    # The address is never read out: caller ids can be faked.
    assert "松江村" not in call.heard()
    await call.press("1")
    assert call.ended and "已为您下单" in call.heard()

    def placed(session: Any) -> list[tuple[str, str, str, str]]:
        rows = session.execute(
            select(Order.number, Order.item_code, Order.address, Order.channel)
            .where(Order.resident_phone == "+86" + phone)
            .order_by(Order.id)
        )
        return [tuple(r) for r in rows]

    orders = await database.run(placed)
    assert len(orders) == 2
    number, item, address, channel = orders[1]
    assert (item, address, channel) == ("care.errands", "松江村3组", "ivr")
    said = call.heard()
    assert "".join("零幺二三四五六七八九"[int(d)] for d in number)[:4] in said
    # Twilio retrying the last request orders nothing more.
    gather_url = f"{PUBLIC}{VOICE}/keys?step=address&round=1&item=care.errands"
    await call.post(gather_url, Digits="1")
    assert len(await database.run(placed)) == 2

    # The order's workflow texts them its number and link (as for a phone order staff took).
    async def texts() -> list[str]:
        messages = await asyncio.to_thread(sim.messages)
        return [m["body"] for m in messages if m["to"] == "+86" + phone]

    spoken = f"{number[:4]} {number[4:]}"
    await eventually(
        texts, lambda got: any(spoken in t and "已受理" in t for t in got), what="the receipt SMS"
    )


async def test_a_new_caller_says_their_address_and_an_agent_calls_back(
    people: People, township: str, database: Database
) -> None:
    phone = new_phone()
    call = Call(people, phone)
    await call.ring()
    assert "求助请按1" in call.heard() and "重听" not in call.heard()
    await call.press("1")
    await call.press("1")  # 看望老人: no address known, so the tone
    assert "提示音后说出您的地址" in call.heard()
    await call.speak(14)
    assert call.ended and "回电确认" in call.heard()
    assert await tasks(database, phone) == [("intake", "care.elderly_visit", 14)]

    def orders_for(session: Any) -> int:
        return int(
            session.scalar(
                select(func.count()).select_from(Order).where(Order.resident_phone == "+86" + phone)
            )
        )

    assert await database.run(orders_for) == 0  # nobody orders unchecked in another's name

    agent, other = await people.agent(), await people.another_agent()
    queue = await ok(await agent.get("/api/call-requests"))
    task = next(t for t in queue if t["kind"] == "intake" and t["phone"].endswith(phone[-4:]))
    assert task["phone"] == f"{phone[:3]}****{phone[-4:]}" and task["has_recording"]
    held = await ok(await agent.post(f"/api/call-requests/{task['id']}/claim"))
    assert held["phone"] == "+86" + phone and held["claimed_by_me"]
    taken = await other.post(f"/api/call-requests/{task['id']}/claim")
    assert taken.status_code == 409 and taken.json()["code"] == "CallRequestClaimed"
    order = await ok(
        await agent.post(
            "/api/orders",
            json=submission(township, resident_phone=phone, channel="hotline"),
        ),
        201,
    )
    neighbour = await ok(
        await agent.post(
            "/api/orders",
            json=submission(township, resident_phone=new_phone(), channel="hotline"),
        ),
        201,
    )
    wrong = await agent.post(
        f"/api/call-requests/{task['id']}/done",
        json={"outcome": "ordered", "order_id": neighbour["id"]},
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "NotTheCallersOrder"
    done = await ok(
        await agent.post(
            f"/api/call-requests/{task['id']}/done",
            json={"outcome": "ordered", "order_id": order["id"]},
        )
    )
    assert (done["status"], done["outcome"], done["has_recording"]) == ("done", "ordered", False)
    assert task["id"] not in [t["id"] for t in await ok(await agent.get("/api/call-requests"))]


async def test_zero_is_a_person_at_any_point_and_silence_ends_politely(
    people: People, database: Database, live_settings: Settings
) -> None:
    phone = new_phone()
    call = Call(people, phone)
    await call.ring()
    await call.press("1")
    await call.press("0")
    assert call.ended and "回电" in call.heard()
    assert await tasks(database, phone) == [("callback", None, None)]

    quiet = Call(people, new_phone())
    await quiet.ring()
    await quiet.press("")
    assert "没有听清" in quiet.heard() and "求助请按1" in quiet.heard()
    await quiet.press("7")
    assert quiet.ended and "感谢您的来电" in quiet.heard()

    silent = Call(people, new_phone())
    await silent.ring()
    await silent.press("1")
    await silent.press("9")
    await silent.speak(0)
    assert silent.ended and "没有听到" in silent.heard()


async def test_zero_puts_the_caller_through_when_a_hotline_is_set(
    live_settings: Settings, sim_server: ThreadedServer, database: Database
) -> None:
    async with line(
        live_settings, sim_server, database, hotline_forward_to="+8685612345"
    ) as people:
        call = Call(people, new_phone())
        await call.ring()
        await call.press("0")
        dialed = call.doc.find("Dial")
        assert dialed is not None and (dialed.text or "").strip() == "+8685612345"


async def test_an_unsigned_call_is_refused(people: People) -> None:
    r = await people.anonymous.post(VOICE, data={"CallSid": "CA1", "From": "+8613800138000"})
    assert r.status_code == 403


async def test_a_number_stuck_on_redial_is_turned_away_after_its_limit(
    live_settings: Settings, sim_server: ThreadedServer, database: Database
) -> None:
    phone = new_phone()
    async with line(live_settings, sim_server, database, inbound_per_number="2/hour") as people:
        for _ in range(2):
            call = Call(people, phone)
            await call.ring()
            assert "求助请按1" in call.heard()
        turned = Call(people, phone)
        await turned.ring()
        assert turned.ended and "来电次数较多" in turned.heard()
        other = Call(people, new_phone())  # another number is not held up by it
        await other.ring()
        assert "求助请按1" in other.heard()
