"""代居民下单 (/call-center/orders/new) in a real browser: an order taken for a caller.

A resident who ordered online before rings the hotline: the agent finds them by the number
they give, reuses the address of their last order, picks the service from the resident's
own tiles and sends the order as a phone order, all in the pages. An admin reaches the same
page from the console without signing in again.
"""

from __future__ import annotations

import asyncio

import httpx
from playwright.async_api import Browser, expect

from api.database import Database
from core.settings import Settings
from core.vocab import Role
from tests.integration.test_http_lifecycle import order_placed
from tests.polling import eventually
from tests.signin import People, staff_username
from tests.web.conftest import DESKTOP, TABLET, inspect, new_context
from tests.web.test_call_center import sign_in
from tests.web.test_console import sign_in as console_sign_in
from twilio_sim import SimControl

DESK = (DESKTOP, TABLET)
CALLER = "13800138010"


async def test_an_agent_takes_a_phone_order_for_a_caller_found_by_number(
    browser: Browser,
    live: tuple[str, Settings],
    database: Database,
    township: str,
    sim: SimControl,
) -> None:
    url, settings = live
    async with httpx.AsyncClient(base_url=url) as http:
        people = People(http, database, settings)
        earlier = await order_placed(
            people, township, CALLER, address="龙井社区3组12号", resident_name="龙秀英"
        )
        agent = await staff_username(database, Role.AGENT, [township])

        context = await new_context(browser, DESKTOP)
        page = await context.new_page()
        await sign_in(page, url, agent)
        await page.click("nav.desk-nav a[href='/call-center/orders/new']")
        await expect(page.locator("#desk")).to_be_visible()  # still signed in
        await expect(page.locator("#order-form")).to_be_hidden()
        await inspect(page, "call-center-order-start", sizes=DESK)

        # A number that cannot be called is refused in words beside the field.
        await page.fill("#caller-phone", "12345")
        await page.click("#look-up")
        await expect(page.locator("#caller-phone-error")).to_be_visible()
        await expect(page.locator("#caller-phone")).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#order-form")).to_be_hidden()
        await inspect(page, "call-center-order-bad-number", sizes=DESK)

        # The caller gives their number with spaces, as people read it out.
        await page.fill("#caller-phone", "138 0013 8010")
        await page.click("#look-up")
        await expect(page.locator("#caller-found")).to_have_text("老用户：龙秀英，以前求助过 1 次")
        await expect(page.locator("#earlier-rows tr")).to_have_count(1)
        await expect(page.locator("#reuse")).to_contain_text("龙井社区3组12号")
        await page.click("#reuse")
        await expect(page.locator("#township")).to_have_value(township)
        await expect(page.locator("#address")).to_have_value("龙井社区3组12号")
        await expect(page.locator("#resident_name")).to_have_value("龙秀英")
        await inspect(page, "call-center-order-known-caller", sizes=DESK)

        # The same tiles and search as the resident's form.
        await page.fill("#service-search", "买药")
        await page.press("#service-search", "Enter")
        await expect(page.locator("#picked")).to_contain_text("代购代办")
        await page.fill("#reason", "腿脚不便，要代买降压药")
        # How the resident came in is never assumed.
        await page.click("#submit")
        await expect(page.locator("#channel-error")).to_be_visible()
        await inspect(page, "call-center-order-no-channel", sizes=DESK)
        await page.check("input[name=channel][value=hotline]")
        await page.click("#submit")
        await expect(page.locator("#placed")).to_be_visible()
        number = (await page.locator("#placed-number").text_content() or "").replace(" ", "")
        assert len(number) == 8, number
        await inspect(page, "call-center-order-placed", sizes=DESK)

        # The order is the caller's, by phone, with the address reused.
        admin = await people.admin()
        found = (await admin.get("/api/orders", params={"q": number})).json()["items"]
        [placed] = found
        assert placed["id"] != earlier
        assert (placed["channel"], placed["township"], placed["item_code"]) == (
            "hotline",
            township,
            "care.errands",
        )
        contact = (await admin.get(f"/api/orders/{placed['id']}/contact")).json()
        assert (contact["resident_phone"], contact["address"], contact["resident_name"]) == (
            "+86" + CALLER,
            "龙井社区3组12号",
            "龙秀英",
        )

        # The caller gets the order's number and the link to their own order by SMS.
        async def texted() -> list[str]:
            messages = await asyncio.to_thread(sim.messages)
            return [m["body"] for m in messages if m["to"] == "+86" + CALLER]

        [sms] = await eventually(texted, lambda bodies: len(bodies) == 1, what="the caller's SMS")
        assert sms.startswith("【县新时代文明实践中心】您的求助“代购代办”已受理")
        assert f"单号{number[:4]} {number[4:]}" in sms
        assert f"/orders/{placed['id']}?t=" in sms

        # The next caller is new to us: the form starts empty.
        await page.click("#next-caller")
        await page.fill("#caller-phone", "13800138011")
        await page.click("#look-up")
        await expect(page.locator("#caller-found")).to_contain_text("新来电")
        await expect(page.locator("#caller-known")).to_be_hidden()
        await expect(page.locator("#address")).to_have_value("")
        await expect(page.locator("input[name=item_code]:checked")).to_have_count(0)
        await inspect(page, "call-center-order-new-caller", sizes=DESK)
        await context.close()

        # An admin goes there from the console's navigation, still signed in.
        username = await staff_username(database, Role.ADMIN, [township])
        context = await new_context(browser, DESKTOP)
        desk = await context.new_page()
        await console_sign_in(desk, url + "/console/", username)
        await desk.click("nav.desk-nav a[href='/call-center/orders/new']")
        await expect(desk.locator("#caller-form")).to_be_visible()
        await expect(desk.locator("#sign-in")).to_be_hidden()
        await context.close()
