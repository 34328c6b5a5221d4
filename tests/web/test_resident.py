"""The resident's pages in a real browser (Debian's Chromium) against the live system."""

from __future__ import annotations

import asyncio
import re

import httpx
from playwright.async_api import Browser, Page, expect

from api.database import Database
from core.settings import Settings
from tests import signin
from tests.polling import eventually
from tests.signin import Caller
from tests.web.conftest import inspect, new_context
from twilio_sim import SimControl


async def sign_in(page: Page, sim: SimControl, typed: str) -> None:
    """The resident signs in on the page with the code our SMS brought them."""
    await page.fill("#phone", typed)
    await page.click("#send-code")
    await expect(page.locator("#code-sent")).to_be_visible()
    texts = await asyncio.to_thread(sim.messages)
    [body] = [m["body"] for m in texts if m["to"] == "+86" + typed.replace(" ", "")][-1:]
    code = re.search(r"验证码是(\d{6})", body)
    assert code is not None, body
    await page.fill("#code", code.group(1))
    await page.click("#sign-in-submit")
    await expect(page.locator("#order-form")).to_be_visible()


async def fill_order(page: Page, township: str) -> None:
    await page.select_option("#item_code", "care.errands")
    await page.fill("#reason", "老人腿脚不便，需要代买降压药")
    await page.select_option("#township", township)
    await page.fill("#address", "龙井社区3组12号")
    await page.fill("#resident_name", "龙秀英")


async def test_a_resident_signs_in_orders_help_and_rates_it_from_the_sms_link(
    page: Page,
    browser: Browser,
    live: tuple[str, Settings],
    sim: SimControl,
    database: Database,
    township: str,
) -> None:
    live_url, settings = live
    await page.goto(live_url + "/")
    await expect(page.locator("#order-form")).to_be_hidden()  # sign in first
    await inspect(page, "resident-sign-in")
    await sign_in(page, sim, "138 0013 8000")
    await expect(page.locator("#item_code option[value='care.errands']")).to_have_count(1)
    await fill_order(page, township)
    # A double click must still make one order.
    await page.click("#submit", click_count=2)
    await page.wait_for_url("**/orders/*")
    order_id = page.url.rsplit("/", 1)[1]
    assert len(order_id) == 16
    await expect(page.locator("#status")).to_have_attribute("data-status", "pending")
    await expect(page.locator("#timeline li[data-event=submitted]")).to_have_count(1)
    await inspect(page, "resident-order-pending")

    async with httpx.AsyncClient(base_url=live_url) as http:
        admin = Caller(http, await signin.staff(database, settings))
        listed = (await admin.get("/api/orders", params={"township": township})).json()
        assert [o["id"] for o in listed["items"]] == [order_id]
        body = {"name": "吴", "phone": "13712345678", "township": township, "skills": ["care"]}
        v = (await admin.post("/api/volunteers", json=body)).json()["id"]
        volunteer = Caller(http, await signin.volunteer(database, settings, v))
        for caller, step, payload in (
            (admin, "dispatch", {"volunteer_id": v}),
            (volunteer, "accept", None),
            (volunteer, "complete", {"summary": "药已送到", "hours": 1}),
        ):
            answer = await caller.post(f"/api/orders/{order_id}/{step}", json=payload)
            assert answer.status_code == 200, answer.text

    # The completion SMS brings the resident's own link: it opens their order with no sign-in.
    # (It is sent in the background after the command answers.)
    async def completion_texts() -> list[str]:
        texts = await asyncio.to_thread(sim.messages)
        return [m["body"] for m in texts if m["to"] == "+8613800138000" and "评价" in m["body"]]

    [done] = await eventually(completion_texts, bool, what="the completion SMS")
    link = re.search(r"(http://\S+/orders/\S+\?t=\S+?) ", done)
    assert link is not None and order_id in link.group(1), done
    fresh = await new_context(browser)
    from_sms = await fresh.new_page()
    await from_sms.goto(link.group(1))
    await expect(from_sms.locator("#review-form")).to_be_visible()
    await from_sms.click("#review-submit")  # nothing picked yet
    await expect(from_sms.locator("#error")).to_contain_text("请选择")
    await from_sms.check("input[name=rating][value=satisfied]")
    await from_sms.fill("#comment", "志愿者很耐心")
    await from_sms.click("#review-submit")
    await expect(from_sms.locator("#rating")).to_have_text("满意")
    await expect(from_sms.locator("#review-form")).to_be_hidden()
    assert "?t=" not in from_sms.url  # the code leaves the address bar
    await inspect(from_sms, "resident-order-reviewed")
    await fresh.close()

    async with httpx.AsyncClient(base_url=live_url) as http:
        admin = Caller(http, await signin.staff(database, settings))
        order = (await admin.get(f"/api/orders/{order_id}")).json()
    assert order["review_rating"] == "satisfied"
    assert next(e for e in order["timeline"] if e["event"] == "reviewed")["note"] == "志愿者很耐心"


async def test_the_form_explains_what_is_missing_and_submits_nothing(
    page: Page, live: tuple[str, Settings], sim: SimControl, database: Database, township: str
) -> None:
    live_url, settings = live
    await page.goto(live_url + "/")
    await page.fill("#phone", "12")
    await page.click("#send-code")
    await expect(page.locator("#error")).not_to_be_empty()
    await sign_in(page, sim, "13800138001")
    await expect(page.locator("#township option")).not_to_have_count(1)
    await fill_order(page, township)
    await page.fill("#reason", "")
    await page.click("#submit")
    await expect(page.locator("#error")).to_contain_text("需要什么帮助")
    assert "/orders/" not in page.url
    async with httpx.AsyncClient(base_url=live_url) as http:
        admin = Caller(http, await signin.staff(database, settings))
        listed = (await admin.get("/api/orders", params={"township": township})).json()
    assert listed["total"] == 0
