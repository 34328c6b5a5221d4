"""The resident's pages in a real browser (Debian's Chromium) against the live system:
signing in, 我的求助, the service menu and the request form, arriving by the SMS link."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, Page, expect

from api.database import Database
from core.settings import Settings
from tests import signin
from tests.polling import eventually
from tests.signin import Caller
from tests.web.conftest import PHONE, inspect, new_context
from twilio_sim import SimControl

TOKEN_KEY = "fourorders.resident.token"


async def sign_in(page: Page, sim: SimControl, typed: str, *, then: str = "#home") -> None:
    """The resident signs in on the page with the code our SMS brought them (after a typo).

    Enter after the number asks for the code, as the button does."""
    await page.fill("#phone", typed)
    await page.press("#phone", "Enter")
    await expect(page.locator("#code-sent")).to_be_visible()
    texts = await asyncio.to_thread(sim.messages)
    [body] = [m["body"] for m in texts if m["to"] == "+86" + typed.replace(" ", "")][-1:]
    code = re.search(r"验证码是(\d{6})", body)
    assert code is not None, body
    wrong = f"{(int(code.group(1)) + 1) % 10**6:06d}"
    await page.fill("#code", wrong)
    await page.click("#sign-in-submit")
    await expect(page.locator("#code-error")).to_have_text(re.compile("验证码不对"))
    await expect(page.locator("#code")).to_be_focused()
    await page.fill("#code", code.group(1))
    await page.click("#sign-in-submit")
    await expect(page.locator(then)).to_be_visible()


async def signed_in_tab(
    browser: Browser, database: Database, settings: Settings, phone: str
) -> tuple[BrowserContext, Page]:
    """A phone's tab already signed in as the resident (the sign-in itself is tested above)."""
    headers = await signin.resident(database, settings, phone)
    token = headers["Authorization"].removeprefix("Bearer ")
    context = await new_context(browser)
    await context.add_init_script(f"sessionStorage.setItem({TOKEN_KEY!r}, {token!r})")
    return context, await context.new_page()


async def fill_order(page: Page, township: str) -> None:
    await page.check("input[name=item_code][value='care.errands']")
    await page.fill("#reason", "老人腿脚不便，需要代买降压药")
    await page.select_option("#township", township)
    await page.fill("#address", "龙井社区3组12号")
    await page.fill("#resident_name", "龙秀英")


async def admin(http: httpx.AsyncClient, database: Database, settings: Settings) -> Caller:
    return Caller(http, await signin.staff(database, settings))


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def test_a_resident_signs_in_orders_help_and_rates_it_from_the_sms_link(
    page: Page,
    browser: Browser,
    live: tuple[str, Settings],
    sim: SimControl,
    database: Database,
    township: str,
) -> None:
    live_url, settings = live
    # A phone of this test's own: other tests' orders must not show in its 我的求助.
    mobile = f"138{uuid.uuid4().int % 10**8:08d}"
    typed = f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    async with httpx.AsyncClient(base_url=live_url) as http:
        staff = await admin(http, database, settings)
        village = await ok(
            await staff.post("/api/villages", json={"township": township, "name": "龙井社区"}), 201
        )

    await page.goto(live_url + "/")
    await expect(page.locator("#home")).to_be_hidden()  # sign in first
    await inspect(page, "resident-sign-in")
    # The server refuses what is not a phone number, in plain Chinese, next to the field.
    await page.fill("#phone", "123456")
    await page.click("#send-code")
    await expect(page.locator("#phone-error")).to_have_text(re.compile("请填写正确的11位手机号"))
    await expect(page.locator("#phone")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#error")).to_be_hidden()
    await inspect(page, "resident-sign-in-bad-phone")
    await sign_in(page, sim, typed)
    await expect(page.locator("#phone-error")).to_be_hidden()
    await expect(page.locator("#mine-empty")).to_be_visible()
    await inspect(page, "resident-home-empty")

    await page.click("#new-order")
    await page.wait_for_url("**/orders/new")
    await expect(page.locator("#order-form")).to_be_visible()  # still signed in
    # The commonest needs come first, as tiles; the rest follows by category.
    first = page.locator("#common .tile").first
    await expect(first).to_contain_text("空巢老人探访")
    await expect(page.locator("#common .tile")).to_have_count(8)
    await expect(page.locator("#by-category input[value='theory.policy']")).to_have_count(1)
    await expect(page.locator("#by-category input[value='care.errands']")).to_have_count(0)
    await inspect(page, "resident-form")
    # Enter searches (it does not submit the form, nor ignore "#1" silently).
    await page.fill("#service-search", "#1")
    await page.press("#service-search", "Enter")
    await expect(page.locator("#search-result")).to_contain_text("没有找到“#1”")
    await expect(page.locator("#service-menu .tile:visible")).to_have_count(0)
    assert page.url.endswith("/orders/new")
    await inspect(page, "resident-form-search-none")
    # The rest of the menu, folded away, opens when the search finds something there.
    await expect(page.locator("#more")).not_to_have_attribute("open", "")
    await page.fill("#service-search", "邻居吵架")
    await page.press("#service-search", "Enter")
    await expect(page.locator("#more")).to_have_attribute("open", "")
    await expect(page.locator("input[value='legal.mediation']")).to_be_checked()
    # People's own words find the service; Enter picks the only match.
    await page.fill("#service-search", "帮我买药")
    await page.press("#service-search", "Enter")
    await expect(page.locator("input[value='care.errands']")).to_be_checked()
    await expect(page.locator("#picked")).to_contain_text("代购代办")
    await expect(page.locator("#service-menu .tile:visible")).to_have_count(1)
    await inspect(page, "resident-form-search-found")
    await page.fill("#service-search", "")
    await expect(page.locator("#service-menu .tile:visible")).not_to_have_count(1)

    await fill_order(page, township)
    await page.select_option("#village_id", str(village["id"]))
    # A double click must still make one order.
    await page.click("#submit", click_count=2)
    await page.wait_for_url(re.compile(r"/orders/[A-Za-z0-9_-]{16}$"))
    order_id = page.url.rsplit("/", 1)[1]
    assert len(order_id) == 16
    await expect(page.locator("#status")).to_have_attribute("data-status", "pending")
    await expect(page.locator("#status")).to_have_text("等待中心派单")
    submitted = page.locator("#timeline li[data-event=submitted]")
    await expect(submitted).to_contain_text("您提交了求助")
    await expect(submitted.locator("time")).to_contain_text("北京时间")
    await expect(page.locator("#countdown")).to_contain_text(re.compile(r"还剩 7[12]小时"))
    await expect(page.locator("#steps li.current")).to_have_text(re.compile("派单"))
    await inspect(page, "resident-order-pending")

    # 我的求助 lists it, with its service and status, and leads back to it.
    await page.click("a.back")
    await expect(page.locator("#mine li")).to_have_count(1)
    await expect(page.locator("#mine li")).to_contain_text("代购代办")
    await expect(page.locator("#mine li .status")).to_have_text("等待中心派单")
    await inspect(page, "resident-home-list")
    await page.click("#mine a")
    await page.wait_for_url(f"**/orders/{order_id}")

    async with httpx.AsyncClient(base_url=live_url) as http:
        staff = await admin(http, database, settings)
        listed = await ok(await staff.get("/api/orders", params={"township": township}))
        assert [o["id"] for o in listed["items"]] == [order_id]
        assert listed["items"][0]["village_id"] == village["id"]
        body = {"name": "吴", "phone": "13712345678", "township": township, "skills": ["care"]}
        v = (await ok(await staff.post("/api/volunteers", json=body), 201))["id"]
        volunteer = Caller(http, await signin.volunteer(database, settings, v))
        for caller, step, payload in (
            (staff, "dispatch", {"volunteer_id": v}),
            (volunteer, "accept", None),
            (volunteer, "complete", {"summary": "药已送到", "hours": 1}),
        ):
            await ok(await caller.post(f"/api/orders/{order_id}/{step}", json=payload))

    # The completion SMS brings the resident's own link: it opens their order with no sign-in.
    # (It is sent in the background after the command answers.)
    async def completion_texts() -> list[str]:
        texts = await asyncio.to_thread(sim.messages)
        return [m["body"] for m in texts if m["to"] == "+86" + mobile and "评价" in m["body"]]

    [done] = await eventually(completion_texts, bool, what="the completion SMS")
    link = re.search(r"(http://\S+/orders/\S+\?t=\S+?) ", done)
    assert link is not None and order_id in link.group(1), done
    fresh = await new_context(browser)
    from_sms = await fresh.new_page()
    await from_sms.goto(link.group(1))
    await expect(from_sms.locator("#review-form")).to_be_visible()
    await expect(from_sms.locator("#volunteer")).to_have_text("吴志愿者")
    await expect(from_sms.locator("[data-fact=due]").first).to_be_hidden()  # done: no deadline
    await from_sms.click("#review-submit")  # nothing picked yet
    await expect(from_sms.locator("#rating-error")).to_contain_text("请选择")
    await inspect(from_sms, "resident-order-review-missing")
    await from_sms.check("input[name=rating][value=satisfied]")
    await from_sms.fill("#comment", "志愿者很耐心")
    await from_sms.click("#review-submit")
    await expect(from_sms.locator("#rating")).to_have_text("满意")
    await expect(from_sms.locator("#review-form")).to_be_hidden()
    await expect(from_sms.locator("#notice")).to_contain_text("谢谢您的评价")
    assert "?t=" not in from_sms.url  # the code leaves the address bar
    await inspect(from_sms, "resident-order-reviewed")
    # The link opens this one order, not the list: the home page asks to sign in.
    await from_sms.goto(live_url + "/")
    await expect(from_sms.locator("#sign-in")).to_be_visible()
    await fresh.close()

    # Signing out ends the sign-in: the home page asks for the phone again.
    await page.goto(live_url + "/")
    await page.click("#sign-out")
    await expect(page.locator("#sign-in")).to_be_visible()
    assert await page.evaluate(f"() => sessionStorage.getItem({TOKEN_KEY!r})") is None

    async with httpx.AsyncClient(base_url=live_url) as http:
        order = await ok(
            await (await admin(http, database, settings)).get(f"/api/orders/{order_id}")
        )
    assert order["review_rating"] == "satisfied"
    assert next(e for e in order["timeline"] if e["event"] == "reviewed")["note"] == "志愿者很耐心"


async def test_the_form_explains_what_is_missing_next_to_each_field_and_submits_nothing(
    browser: Browser, live: tuple[str, Settings], database: Database, township: str
) -> None:
    live_url, settings = live
    context, page = await signed_in_tab(browser, database, settings, "13800138001")
    await page.goto(live_url + "/orders/new")
    await expect(page.locator("#township option")).not_to_have_count(1)
    await page.click("#submit")
    # Each missing field says so beside it, in words; the first one takes the focus.
    await expect(page.locator("#item_code-error")).to_have_text(re.compile("请先选一项服务"))
    await expect(page.locator("#reason-error")).to_have_text(re.compile("需要什么帮助"))
    await expect(page.locator("#address-error")).to_be_visible()
    await expect(page.locator("#resident_name-error")).to_be_visible()
    await expect(page.locator("#village_id-error")).to_be_hidden()  # optional
    await expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("input[name=item_code]").first).to_be_focused()
    await inspect(page, "resident-form-missing")
    await fill_order(page, township)
    await expect(page.locator("#reason-error")).to_be_hidden()
    await page.fill("#reason", "")
    await page.click("#submit")
    await expect(page.locator("#reason-error")).to_be_visible()
    await expect(page.locator("#item_code-error")).to_be_hidden()
    assert "/orders/new" in page.url
    await context.close()
    async with httpx.AsyncClient(base_url=live_url) as http:
        listed = await ok(
            await (await admin(http, database, settings)).get(
                "/api/orders", params={"township": township}
            )
        )
    assert listed["total"] == 0


async def test_care_mode_large_text_line_spacing_and_targets(
    browser: Browser, live: tuple[str, Settings], database: Database, township: str
) -> None:
    """关怀模式 by default (MIIT 适老化): body text at least 18 px, line height at least 1.3,
    every tap target at least 44×44 px, measured in the browser at a phone's width."""
    live_url, settings = live
    context, page = await signed_in_tab(browser, database, settings, "13800138002")
    assert page.viewport_size == PHONE
    await page.goto(live_url + "/orders/new")
    await expect(page.locator("#common .tile")).to_have_count(8)
    await page.select_option("#township", township)
    await assert_large_text(page)
    await assert_targets(
        page,
        "main .tile:visible, main button:visible, main a:visible, main select:visible,"
        " main summary, main input:not([type=radio]):visible, main textarea:visible,"
        " .bar a, .foot a",
        at_least=18,
    )
    # The same page in English: the menu's own English names, and no axe complaint either.
    await page.goto(live_url + "/orders/new?lang=en")
    await expect(page.locator("#common .tile").nth(1)).to_have_text("Errands and paperwork")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await inspect(page, "resident-form-en")
    await context.close()


async def assert_large_text(page: Page) -> None:
    """Every visible text block: at least 18 px, lines at least 1.3 times the text size."""
    text = await page.evaluate(
        """() => [...document.querySelectorAll("body, main p, main label, main li, main dd,"
                + " main dt, .tile span")]
            .filter((e) => e.offsetParent !== null)
            .map((e) => { const s = getComputedStyle(e);
                return [e.tagName + "." + e.className, parseFloat(s.fontSize),
                        parseFloat(s.lineHeight) / parseFloat(s.fontSize)]; })"""
    )
    assert len(text) > 5
    small = [t for t in text if t[1] < 18]
    assert not small, small
    tight = [t for t in text if t[2] < 1.3]
    assert not tight, tight


async def assert_targets(page: Page, selector: str, *, at_least: int = 1) -> None:
    """Every element ``selector`` finds is a tap target of at least 44×44 px."""
    targets = page.locator(selector)
    count = await targets.count()
    assert count >= at_least, (selector, count)
    for i in range(count):
        box = await targets.nth(i).bounding_box()
        assert box is not None
        name = await targets.nth(i).evaluate("(e) => e.id || e.className || e.textContent")
        assert box["width"] >= 44 and box["height"] >= 44, (name, box)
