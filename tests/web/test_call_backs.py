"""来电回拨 in a real browser: a caller without a smartphone rings the center's number, picks
看望老人 by keypad and says their address after the tone; an agent claims the call back,
hears the message, takes the order for them on 代居民下单, and the task closes with it. The
call itself is played by the Twilio simulator against the live app, keys and recording.
"""

from __future__ import annotations

import asyncio

import httpx
from playwright.async_api import Browser, expect

from api.database import Database
from core.settings import Settings
from core.vocab import Role
from tests.phones import FROM_NUMBER
from tests.polling import eventually
from tests.signin import People, staff_username
from tests.web.conftest import DESKTOP, TABLET, inspect, new_context
from tests.web.test_call_center import sign_in
from twilio_sim import SimControl

DESK = (DESKTOP, TABLET)
CALLER = "13900139077"


async def test_an_agent_calls_back_a_keypad_caller_and_takes_their_order(
    browser: Browser,
    live: tuple[str, Settings],
    database: Database,
    township: str,
    sim: SimControl,
) -> None:
    url, settings = live
    await asyncio.to_thread(sim.number, FROM_NUMBER, voice_url=f"{url}/api/twilio/inbound/voice")
    # 1: 求助; 1: the first common need (看望老人); then twelve seconds after the tone.
    sid = await asyncio.to_thread(
        sim.inbound_call, "+86" + CALLER, FROM_NUMBER, "answer:1,1", recording_seconds=12
    )
    await asyncio.to_thread(sim.wait)
    call = await asyncio.to_thread(sim.call, sid)
    heard = "".join(h["text"] for h in call["heard"])
    assert "提示音后说出您的地址" in heard and "回电确认" in heard, heard
    [recording] = await asyncio.to_thread(sim.recordings)

    async with httpx.AsyncClient(base_url=url) as http:
        people = People(http, database, settings)
        agent = await staff_username(database, Role.AGENT, [township])
        context = await new_context(browser, DESKTOP)
        page = await context.new_page()
        await sign_in(page, url, agent)
        await page.click("nav.desk-nav a[href='/call-center/call-backs']")
        row = page.locator("#calls-rows tr", has_text="139****9077")
        await expect(row).to_contain_text("语音留言")
        await expect(row).to_contain_text("空巢老人探访")
        await inspect(page, "call-backs-queue", sizes=DESK)

        await row.get_by_role("button", name="认领：139****9077").click()
        await expect(page.locator("#c-phone")).to_have_text("139 0013 9077")
        await page.click("#play")
        await expect(page.locator("#audio")).to_be_visible()
        played = await page.evaluate("document.getElementById('audio').src")
        assert played.startswith("blob:")
        await inspect(page, "call-backs-claimed", sizes=DESK)

        await page.click("#order-for")
        await expect(page.locator("#caller-found")).to_contain_text("新来电")
        await page.fill("#service-search", "看望老人")
        await page.press("#service-search", "Enter")
        await page.fill("#reason", "独居老人，想请志愿者每周来看看")
        await page.select_option("#township", township)
        await page.fill("#address", "松江村3组")
        await page.fill("#resident_name", "吴")
        await page.check("input[name=channel][value=hotline]")
        await page.click("#submit")
        await expect(page.locator("#placed")).to_be_visible()
        number = (await page.locator("#placed-number").text_content() or "").replace(" ", "")

        admin = await people.admin()
        [placed] = (await admin.get("/api/orders", params={"q": number})).json()["items"]
        assert placed["item_code"] == "care.elderly_visit"

        # The call back is done with the order, and the message is gone from Twilio.
        agent_api = await people.agent()

        async def done() -> list[dict[str, object]]:
            listed = await agent_api.get("/api/call-requests", params={"status": "done"})
            return [t for t in listed.json() if str(t["phone"]).endswith("9077")]

        [task] = await eventually(done, lambda got: len(got) == 1, what="the call back done")
        assert (task["outcome"], task["has_recording"]) == ("ordered", False)
        left = await asyncio.to_thread(sim.recordings)
        assert recording["sid"] not in [r["sid"] for r in left]

        await page.goto(f"{url}/call-center/call-backs")
        await expect(page.locator("#calls-rows")).not_to_contain_text("139****9077")
        await inspect(page, "call-backs-empty", sizes=DESK)
        await context.close()
