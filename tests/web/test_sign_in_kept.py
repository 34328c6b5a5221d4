"""Signing in and out in a real browser (Debian's Chromium) against the live system.

The resident's sign-in outlives the tab (an HttpOnly refresh cookie): a new page, or a browser
opened again, is still signed in, and a form filled before or while the sign-in lapses is kept.
Every app signs out alike, and the sign-in then ends on the server too. What the sign-in form
says about codes, and about a server that does not answer, is put in the reader's terms.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from api.database import Database
from core.settings import Settings
from core.vocab import Role
from tests.signin import STAFF_PASSWORD, People, staff_username
from tests.web.conftest import DESKTOP, PHONE, inspect, new_context
from tests.web.test_resident import fill_order
from twilio_sim import SimControl

COOKIE = "fourorders_refresh"


def new_mobile() -> str:
    return f"137{uuid.uuid4().int % 10**8:08d}"


async def code_for(sim: SimControl, mobile: str) -> str:
    texts = await asyncio.to_thread(sim.messages)
    [body] = [m["body"] for m in texts if m["to"] == "+86" + mobile][-1:]
    code = re.search(r"验证码是(\d{6})", body)
    assert code is not None, body
    return code.group(1)


async def sms_sign_in(page: Page, sim: SimControl, mobile: str) -> None:
    await page.fill("#phone", mobile)
    await page.click("#send-code")
    await expect(page.locator("#code-sent")).to_be_visible()
    await page.fill("#code", await code_for(sim, mobile))
    await page.click("#sign-in-submit")
    await expect(page.locator("#sign-in")).to_be_hidden()


async def kept_cookie(context: BrowserContext) -> dict[str, object]:
    [cookie] = [c for c in await context.cookies() if c["name"] == COOKIE]
    return dict(cookie)


async def refreshed_by_cookie(url: str, value: object) -> int:
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.post("/api/auth/refresh", headers={"Cookie": f"{COOKIE}={value}"})
        return response.status_code


async def form_values(page: Page) -> list[str]:
    return [await page.input_value(f"#{name}") for name in ("reason", "address", "resident_name")]


async def test_a_resident_browses_first_signs_in_at_submit_and_stays_signed_in(
    browser: Browser, live: tuple[str, Settings], sim: SimControl, township: str
) -> None:
    url, _ = live
    mobile = new_mobile()
    context = await new_context(browser)
    page = await context.new_page()

    # No sign-in to look through the services: the home page leads there, the form is open.
    await page.goto(url + "/")
    await page.click("#browse a")
    await page.wait_for_url("**/orders/new")
    await expect(page.locator("#order-form")).to_be_visible()
    await expect(page.locator("#sign-in")).to_be_hidden()
    await page.fill("#service-search", "扫地")
    await expect(page.locator("#service-menu .tile:visible")).not_to_have_count(0)
    await page.fill("#service-search", "")
    await fill_order(page, township)
    await inspect(page, "resident-form-before-sign-in")

    # 提交求助 asks for the sign-in below the form, which stays as it was filled.
    await page.click("#submit")
    await expect(page.locator("#sign-in")).to_be_visible()
    await expect(page.locator("#phone")).to_be_focused()
    assert await form_values(page) == ["老人腿脚不便，需要代买降压药", "龙井社区3组12号", "龙秀英"]
    await inspect(page, "resident-form-sign-in-at-submit")

    # A server that fails, or cannot be reached, is not the reader's network's fault.
    await page.fill("#phone", mobile)
    await page.route(
        "**/api/auth/sms-code", lambda route: route.fulfill(status=502, body="Bad Gateway")
    )
    await page.click("#send-code")
    await expect(page.locator("#error")).to_contain_text("服务暂时出了故障")
    await expect(page.locator("#error")).not_to_contain_text("网络")
    await page.unroute("**/api/auth/sms-code")
    await page.route("**/api/auth/sms-code", lambda route: route.abort("connectionrefused"))
    await page.click("#send-code")
    await expect(page.locator("#error")).to_contain_text("暂时连不上服务")
    await expect(page.locator("#error")).not_to_contain_text("网络")
    await context.set_offline(True)
    await page.click("#send-code")
    await expect(page.locator("#error")).to_contain_text("没有连上网络")
    await context.set_offline(False)
    await page.unroute("**/api/auth/sms-code")
    await inspect(page, "resident-sign-in-offline")

    # The code button rests, counting down, once the code is on its way.
    await page.click("#send-code")
    await expect(page.locator("#code-sent")).to_be_visible()
    await expect(page.locator("#send-code")).to_be_disabled()
    await expect(page.locator("#send-code")).to_have_text(re.compile(r"^\d{1,2}秒后可重新获取$"))
    await expect(page.locator("#error")).to_be_hidden()
    await inspect(page, "resident-sign-in-code-sent")
    # A wrong code while the code still works: check the digits, not "get a new one".
    code = await code_for(sim, mobile)
    await page.fill("#code", f"{(int(code) + 1) % 10**6:06d}")
    await page.click("#sign-in-submit")
    await expect(page.locator("#code-error")).to_contain_text("验证码不对，请核对")
    await expect(page.locator("#code-error")).not_to_contain_text("重新获取")
    await page.fill("#code", code)
    await page.click("#sign-in-submit")
    # Signed in, the order goes in as filled.
    await page.wait_for_url(re.compile(r"/orders/[A-Za-z0-9_-]{16}$"))
    await expect(page.locator("#reason")).to_have_text("老人腿脚不便，需要代买降压药")
    await expect(page.locator("#address")).to_contain_text("龙井社区3组12号")

    # The sign-in lives in a cookie no script can read, sent only to the refresh route.
    cookie = await kept_cookie(context)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/api/auth/refresh"
    assert COOKIE not in await page.evaluate("() => document.cookie")

    # A new page of the same browser is signed in without a code ...
    other = await context.new_page()
    await other.goto(url + "/")
    await expect(other.locator("#home")).to_be_visible()
    await expect(other.locator("#mine li")).to_have_count(1)
    await expect(other.locator("#sign-in")).to_be_hidden()
    await inspect(other, "resident-home-new-tab")
    # ... and so is the browser opened again (its cookies kept on disk).
    state = await context.storage_state()
    await context.close()
    reopened = await browser.new_context(
        storage_state=state,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport=DESKTOP,  # type: ignore[arg-type]
    )
    again = await reopened.new_page()
    await again.goto(url + "/")
    await expect(again.locator("#mine li")).to_have_count(1)
    await reopened.close()


async def test_a_sign_in_that_lapses_at_submit_keeps_the_filled_form(
    browser: Browser, live: tuple[str, Settings], sim: SimControl, township: str
) -> None:
    url, _ = live
    context = await new_context(browser)
    page = await context.new_page()
    await page.goto(url + "/")
    await sms_sign_in(page, sim, new_mobile())
    await page.click("#new-order")
    await page.wait_for_url("**/orders/new")
    await fill_order(page, township)
    # The sign-in runs out meanwhile: the access token is stale, the cookie gone.
    await page.evaluate("() => sessionStorage.setItem('fourorders.resident.token', 'expired')")
    await context.clear_cookies()
    await page.click("#submit")
    await expect(page.locator("#sign-in")).to_be_visible()
    assert await form_values(page) == ["老人腿脚不便，需要代买降压药", "龙井社区3组12号", "龙秀英"]
    # Even a reload keeps it, the service picked included.
    await page.reload()
    await expect(page.locator("input[value='care.errands']")).to_be_checked()
    assert await form_values(page) == ["老人腿脚不便，需要代买降压药", "龙井社区3组12号", "龙秀英"]
    await expect(page.locator("#township")).to_have_value(township)
    await page.click("#submit")
    await sms_sign_in(page, sim, new_mobile())
    await page.wait_for_url(re.compile(r"/orders/[A-Za-z0-9_-]{16}$"))
    await expect(page.locator("#reason")).to_have_text("老人腿脚不便，需要代买降压药")
    # Made, the draft is gone: a new form starts empty.
    await page.goto(url + "/orders/new")
    await expect(page.locator("#order-form")).to_be_visible()
    assert await form_values(page) == ["", "", ""]
    await context.close()


@pytest.mark.parametrize("app", ["resident", "volunteer", "call-center", "console"])
async def test_every_app_signs_out_and_the_sign_in_ends_on_the_server(
    app: str,
    browser: Browser,
    live: tuple[str, Settings],
    sim: SimControl,
    database: Database,
    township: str,
) -> None:
    url, settings = live
    desk = app in ("call-center", "console")
    context = await new_context(browser, DESKTOP if desk else PHONE)
    page = await context.new_page()
    await page.goto(url + ("/" if app == "resident" else f"/{app}/"))
    if desk:
        role = Role.AGENT if app == "call-center" else Role.ADMIN
        await page.fill("#username", await staff_username(database, role, [township]))
        await page.fill("#password", STAFF_PASSWORD)
        await page.click("#sign-in-submit")
        await expect(page.locator("#desk")).to_be_visible()
    else:
        mobile = new_mobile()
        if app == "volunteer":
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                admin = await People(http, database, settings).admin()
                body = {"name": "吴志强", "phone": mobile, "township": township, "skills": ["care"]}
                assert (await admin.post("/api/volunteers", json=body)).status_code == 201
        await sms_sign_in(page, sim, mobile)
    key = f"fourorders.{app}.refresh"
    if app == "resident":
        held = (await kept_cookie(context))["value"]
    else:
        held = await page.evaluate(f"() => sessionStorage.getItem({key!r})")
        assert held

    await expect(page.locator("#sign-out")).to_be_visible()
    await page.click("#sign-out")
    await expect(page.locator("#sign-in")).to_be_visible()
    assert await page.evaluate(f"() => sessionStorage.getItem('fourorders.{app}.token')") is None
    # The sign-in is over on the server, not only in this tab.
    if app == "resident":
        assert await refreshed_by_cookie(url, held) == 401
        assert not [c for c in await context.cookies() if c["name"] == COOKIE]
        fresh = await context.new_page()
        await fresh.goto(url + "/")
        await expect(fresh.locator("#sign-in")).to_be_visible()
    else:
        async with httpx.AsyncClient(base_url=url) as http:
            again = await http.post("/api/auth/refresh", json={"refresh_token": held})
        assert again.status_code == 401, again.text
    await context.close()
