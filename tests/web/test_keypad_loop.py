"""The whole loop on phones with keys, through the live stack and the Twilio simulator: a
resident calls the center's number and orders by keypad, the admin dispatches, the volunteer
accepts and reports it done by SMS reply, the resident rates it by SMS reply, the follow-up
call confirms the rating, and the order closes. No browser: every step is a phone's.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.database import Database
from core.settings import Settings
from tests.integration.test_http_lifecycle import ok, submission
from tests.phones import FROM_NUMBER
from tests.polling import eventually
from tests.signin import People
from twilio_sim import SimControl

# Numbers of this test's own: the database is shared by the session's tests.
RESIDENT = f"139{uuid.uuid4().int % 10**8:08d}"
VOLUNTEER = f"137{uuid.uuid4().int % 10**8:08d}"


@pytest.fixture
def live_settings(live_settings: Settings) -> Settings:
    # The call after a review waits FOLLOW_UP_AFTER_REVIEW (hours); here it rings at once.
    return live_settings.model_copy(update={"follow_up_after_review": timedelta(0)})


async def test_order_follow_and_rate_by_keypad_and_sms_reply(
    live: tuple[str, Settings], database: Database, township: str, sim: SimControl
) -> None:
    url, settings = live
    await asyncio.to_thread(
        sim.number,
        FROM_NUMBER,
        voice_url=f"{url}/api/twilio/inbound/voice",
        sms_url=f"{url}/api/twilio/inbound/sms",
    )
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        people = People(http, database, settings)
        admin = await people.admin()
        # They ordered once on the web (so the center knows their address), then it closed.
        resident = await people.resident(RESIDENT)
        body = submission(township, address="松江村3组")
        first = await ok(await resident.post("/api/orders", json=body), 201)
        await ok(
            await resident.post(f"/api/orders/{first['id']}/cancel", json={"reason": "不用了"})
        )
        volunteer = {"name": "吴志强", "phone": VOLUNTEER, "township": township, "skills": []}
        volunteer_id = (await ok(await admin.post("/api/volunteers", json=volunteer), 201))["id"]

        # 求助 (1), 代购代办 (2), to the last address (1).
        sid = await asyncio.to_thread(
            sim.inbound_call, "+86" + RESIDENT, FROM_NUMBER, "answer:1,2,1"
        )
        await asyncio.to_thread(sim.wait)
        heard = "".join(h["text"] for h in (await asyncio.to_thread(sim.call, sid))["heard"])
        assert "已为您下单" in heard, heard

        async def keypad_order() -> list[Any]:
            found = await ok(await admin.get("/api/orders", params={"q": RESIDENT}))
            return [o for o in found["items"] if o["channel"] == "ivr"]

        [order] = await eventually(keypad_order, lambda got: len(got) == 1, what="the order")
        assert order["item_code"] == "care.errands"
        await ok(
            await admin.post(
                f"/api/orders/{order['id']}/dispatch", json={"volunteer_id": volunteer_id}
            )
        )

        async def text(phone: str, body: str) -> list[str]:
            sent = await asyncio.to_thread(sim.inbound_message, "+86" + phone, FROM_NUMBER, body)
            return list(sent["replies"])

        async def status() -> dict[str, Any]:
            return dict(await ok(await admin.get(f"/api/orders/{order['id']}")))

        assert any("已接单" in r for r in await text(VOLUNTEER, "1"))
        assert any("已办结" in r for r in await text(VOLUNTEER, "完成 1.5"))
        assert (await status())["hours"] == 1.5
        assert any("非常满意" in r for r in await text(RESIDENT, "1"))
        # The follow-up call asks them to confirm; the simulator's phones press 1.
        closed = await eventually(status, lambda o: o["status"] == "closed", what="the close")
        assert (closed["review_channel"], closed["verified_rating"]) == ("sms", "very_satisfied")
