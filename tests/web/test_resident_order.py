"""The resident's order page in a real browser against the live system: who acted, the
countdown, 催办, cancelling with a reason, the review, a corrected rating, a complaint, live
updates without a reload, and the page for an order that cannot be found."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass

import httpx
from PIL import Image
from playwright.async_api import Browser, expect

from api.database import Database
from core.settings import Settings
from core.vocab import Role
from tests import signin
from tests.polling import eventually
from tests.signin import Caller
from tests.web.conftest import inspect, new_context
from tests.web.test_resident import assert_large_text, assert_targets, ok, signed_in_tab
from twilio_sim import SimControl

CENTER = "县新时代文明实践中心"
# What changes elsewhere reaches the page at its next poll (every 4 s): room for a busy machine.
LATER = 15_000


@dataclass
class Cast:
    """Everyone the order passes through, signed in over HTTP (the pages are the resident's)."""

    resident: Caller
    admin: Caller
    agent: Caller
    volunteer: Caller
    volunteer_id: int


async def cast(
    http: httpx.AsyncClient, database: Database, settings: Settings, phone: str, township: str
) -> Cast:
    staff = Caller(http, await signin.staff(database, settings))
    # A phone of this test's own (the township's name is unique): phones are unique.
    mobile = f"137{int(township[-8:], 16) % 10**8:08d}"
    body = {"name": "王建国", "phone": mobile, "township": township, "skills": ["care"]}
    v = (await ok(await staff.post("/api/volunteers", json=body), 201))["id"]
    return Cast(
        resident=Caller(http, await signin.resident(database, settings, phone)),
        admin=staff,
        agent=Caller(http, await signin.staff(database, settings, Role.AGENT)),
        volunteer=Caller(http, await signin.volunteer(database, settings, v)),
        volunteer_id=v,
    )


def photo() -> bytes:
    """A photo of the work as a volunteer's phone sends it."""
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 60)).save(out, format="PNG")
    return out.getvalue()


async def placed(people: Cast, township: str) -> str:
    body = {
        "item_code": "care.elderly_visit",
        "reason": "老人独居，想有人陪着说说话",
        "township": township,
        "address": "龙井社区3组12号",
        "resident_name": "龙秀英",
    }
    return str((await ok(await people.resident.post("/api/orders", json=body), 201))["id"])


async def test_the_resident_follows_hurries_rates_sees_a_correction_and_complains(
    browser: Browser,
    live: tuple[str, Settings],
    database: Database,
    township: str,
    sim: SimControl,
) -> None:
    live_url, settings = live
    phone = "13800138010"
    async with httpx.AsyncClient(base_url=live_url) as http:
        people = await cast(http, database, settings, phone, township)
        order_id = await placed(people, township)
        await ok(
            await people.admin.post(
                f"/api/orders/{order_id}/dispatch", json={"volunteer_id": people.volunteer_id}
            )
        )
        context, page = await signed_in_tab(browser, database, settings, phone)
        await page.goto(f"{live_url}/orders/{order_id}")
        await expect(page.locator("#item")).to_have_text("空巢老人探访")
        await expect(page.locator("#status")).to_have_text("已派单，等志愿者接单")
        # The number a resident reads out on the phone, in two groups.
        number = (await ok(await people.admin.get(f"/api/orders/{order_id}")))["number"]
        await expect(page.locator("#number")).to_have_text(f"{number[:4]} {number[4:]}")
        # Each step says who acted: the center by name, the volunteer by display name only.
        dispatched = page.locator("#timeline li[data-event=dispatched]")
        await expect(dispatched).to_contain_text(CENTER)
        await expect(dispatched).to_contain_text("派单给王志愿者")
        await expect(page.locator("#timeline")).not_to_contain_text(re.compile(r"1\d{10}"))
        await expect(page.locator("#cancel-box")).to_be_visible()  # not accepted yet
        await assert_large_text(page)
        await assert_targets(page, "main button:visible, main a:visible")
        await inspect(page, "resident-order-dispatched")

        # 催办: recorded on the timeline; a second one within the hour is refused in words.
        await page.click("#hurry")
        await expect(page.locator("#notice")).to_contain_text("已催办")
        await expect(page.locator("#timeline li[data-event=hurried]")).to_contain_text("您催办了")
        await page.click("#hurry")
        await expect(page.locator("#error")).to_have_text(re.compile("您刚催办过"))
        await expect(page.locator("#error")).not_to_contain_text("Hurry")
        await inspect(page, "resident-order-hurried")

        # The page follows the order by itself (polling), no reload.
        await page.evaluate("() => { window.notReloaded = true; }")
        await ok(await people.volunteer.post(f"/api/orders/{order_id}/accept"))
        await expect(page.locator("#status")).to_have_text("志愿者已接单，正在办理", timeout=LATER)
        await expect(page.locator("#volunteer")).to_have_text("王志愿者")
        # Never the volunteer's phone: the center's hotline instead.
        await expect(page.locator("[data-fact=volunteer] a.tel")).to_have_attribute(
            "href", f"tel:{settings.center_hotline}"
        )
        await expect(page.locator("#timeline li[data-event=accepted]")).to_contain_text(
            "王志愿者接单了"
        )
        await expect(page.locator("#cancel-box")).to_be_hidden()  # accepted: no cancelling
        await expect(page.locator("#countdown")).to_contain_text("还剩")
        assert await page.evaluate("() => window.notReloaded === true")
        await inspect(page, "resident-order-accepted")

        note = "陪老人聊了两个小时，打扫了院子"
        uploaded = await ok(
            await people.volunteer.post(
                f"/api/orders/{order_id}/photos",
                files={"file": ("yard.png", photo(), "image/png")},
            ),
            201,
        )
        summary = {"summary": note, "hours": 2, "photo_ids": [uploaded["photo_id"]]}
        await ok(await people.volunteer.post(f"/api/orders/{order_id}/complete", json=summary))
        await expect(page.locator("#review-form")).to_be_visible(timeout=LATER)
        await expect(page.locator("#completion-note")).to_have_text(note)
        await expect(page.locator("#hours")).to_have_text("2小时")
        # The photo comes with the resident's token (a blob URL), under the page's CSP.
        shown = page.locator("#photos img")
        await expect(shown).to_have_count(1)
        await expect(shown).to_have_attribute("src", re.compile(r"^blob:"))
        await expect(shown).to_have_js_property("naturalWidth", 320)
        await expect(page.locator("[data-fact=due]").first).to_be_hidden()
        await expect(page.locator("#hurry-box")).to_be_hidden()
        await expect(page.locator("#steps li.current")).to_have_text(re.compile("评价"))
        # The four grades are large targets (关怀模式).
        await assert_targets(page, "#review-form .choices label, #review-submit", at_least=5)
        await assert_large_text(page)
        await inspect(page, "resident-order-completed")
        await page.check("input[name=rating][value=satisfied]")
        await page.click("#review-submit")
        await expect(page.locator("#notice")).to_contain_text("谢谢您的评价")
        await expect(page.locator("#rating")).to_have_text("满意")
        await expect(page.locator("#status")).to_have_text("您已评价，等待中心回访")
        await inspect(page, "resident-order-reviewed-online")

        # The follow-up (回访): on the phone the resident says 非常满意 where they had rated
        # 满意 online; the agent records a correction and the page shows both values.
        order = await eventually(
            lambda: people.agent.get(f"/api/orders/{order_id}"),
            lambda r: r.status_code == 200 and r.json()["follow_up"] is not None,
            what="a follow-up task",
        )
        task = order.json()["follow_up"]["id"]
        corrected = {"method": "phone", "outcome": "rating_corrected", "rating": "very_satisfied"}
        await ok(await people.agent.post(f"/api/follow-ups/{task}/result", json=corrected))

        await expect(page.locator("#rating")).to_have_text(
            "您评价“满意”，回访时改为“非常满意”", timeout=LATER
        )
        await expect(page.locator("#status")).to_have_text("已回访，办结")
        followed = page.locator("#timeline li[data-event=followed_up]")
        await expect(followed).to_contain_text("回访时评价由“满意”改为“非常满意”")
        await expect(followed).to_contain_text(CENTER)
        await expect(page.locator("#steps li.done")).to_have_count(6)
        await inspect(page, "resident-order-corrected")

        # A complaint after closing: the order no longer reads as settled.
        await page.click("#complaint-open")
        await page.click("#complaint-submit")
        await expect(page.locator("#text-error")).to_contain_text("请写一下")
        await inspect(page, "resident-order-complaint-form")
        await page.fill("#text", "志愿者说好再来一次，一直没来")
        await page.click("#complaint-submit")
        await expect(page.locator("#complaint-pending")).to_be_visible()
        await expect(page.locator("#status")).to_have_text("已办结，投诉处理中")
        await expect(page.locator("#status")).not_to_contain_text("回访")
        await expect(page.locator("#complaint-box")).to_be_hidden()
        await inspect(page, "resident-order-complaint-open")
        complaints = await ok(
            await people.admin.get("/api/complaints", params={"township": township})
        )
        assert [c["order_id"] for c in complaints["items"]] == [order_id]
        # The complaint stays on the page in the resident's words, then with its resolution,
        # which is texted to them too, once.
        made = page.locator("#complaint-list li")
        await expect(made).to_have_count(1)
        await expect(made).to_contain_text("志愿者说好再来一次，一直没来")
        await expect(made).to_contain_text("中心正在处理")
        [complaint] = complaints["items"]
        resolve = f"/api/complaints/{complaint['id']}/resolve"
        notes = {"notes": "已联系志愿者，明天上午上门补做"}
        await ok(await people.admin.post(resolve, json=notes))
        assert (await people.admin.post(resolve, json=notes)).status_code == 409
        await expect(made).to_contain_text(
            "中心处理结果：已联系志愿者，明天上午上门补做", timeout=LATER
        )
        await expect(made).to_have_attribute("data-status", "resolved")
        await inspect(page, "resident-order-complaint-resolved")
        texts = [
            m["body"] for m in await asyncio.to_thread(sim.messages) if m["to"] == "+86" + phone
        ]
        resolved = [t for t in texts if "投诉" in t]
        assert resolved == [
            f"【{CENTER}】您对求助单{number[:4]} {number[4:]}的投诉，中心已处理："
            f"已联系志愿者，明天上午上门补做。有问题请拨打{settings.center_hotline}。"
        ], texts
        await context.close()


async def test_a_resident_cancels_before_acceptance_and_sees_the_reason_and_no_deadline(
    browser: Browser, live: tuple[str, Settings], database: Database, township: str
) -> None:
    live_url, settings = live
    phone = "13800138011"
    async with httpx.AsyncClient(base_url=live_url) as http:
        people = await cast(http, database, settings, phone, township)
        order_id = await placed(people, township)
    context, page = await signed_in_tab(browser, database, settings, phone)
    await page.goto(f"{live_url}/orders/{order_id}")
    await expect(page.locator("#countdown")).to_contain_text("还剩")
    await page.click("#cancel-open")
    await expect(page.locator("#cancel-form")).to_be_visible()
    await page.click("#cancel-submit")  # no reason yet
    await expect(page.locator("#cancel_reason-error")).to_contain_text("请选一个原因")
    await inspect(page, "resident-order-cancel-form")
    await page.check("input[name=cancel-pick][value='不需要了']")
    await page.fill("#cancel_reason", "家人已经帮忙办了")
    await page.click("#cancel-submit")
    await expect(page.locator("#status")).to_have_text("已取消")
    await expect(page.locator("#cancel-reason")).to_have_text("不需要了；家人已经帮忙办了")
    await expect(page.locator("[data-fact=due]").first).to_be_hidden()
    await expect(page.locator("#countdown")).to_be_hidden()
    await expect(page.locator("#steps")).to_be_hidden()
    for box in ("#hurry-box", "#cancel-box", "#complaint-box", "#review-form"):
        await expect(page.locator(box)).to_be_hidden()
    await expect(page.locator("#timeline li[data-event=cancelled]")).to_contain_text(
        "您取消了求助：不需要了"
    )
    await inspect(page, "resident-order-cancelled")
    await context.close()


async def test_an_order_that_cannot_be_found_gets_a_page_in_chinese_never_json(
    browser: Browser, live: tuple[str, Settings], database: Database, township: str
) -> None:
    live_url, settings = live
    page = await (await new_context(browser)).new_page()
    answer = await page.goto(live_url + "/orders/abc")
    assert answer is not None and answer.status == 404
    assert "text/html" in answer.headers["content-type"]
    await expect(page.locator("h1")).to_have_text("没有找到这张求助单")
    await expect(page.locator("body")).not_to_contain_text("detail")
    await inspect(page, "resident-not-found")
    await page.context.close()

    # Without a sign-in (and no SMS link) the order page asks for one first.
    page = await (await new_context(browser)).new_page()
    await page.goto(live_url + "/orders/AAAAAAAAAAAAAAAA")
    await expect(page.locator("#sign-in")).to_be_visible()
    await expect(page.locator("#loading")).to_be_hidden()
    await inspect(page, "resident-order-sign-in")
    await page.context.close()

    # Well-formed but unknown, or another resident's: the same words, from the API's 404.
    async with httpx.AsyncClient(base_url=live_url) as http:
        people = await cast(http, database, settings, "13800138012", township)
        someone_elses = await placed(people, township)
    context, page = await signed_in_tab(browser, database, settings, "13800138013")
    for order_id in ("AAAAAAAAAAAAAAAA", someone_elses):
        await page.goto(f"{live_url}/orders/{order_id}")
        await expect(page.locator("#missing")).to_be_visible()
        await expect(page.locator("#missing h1")).to_have_text("没有找到这张求助单")
        await expect(page.locator("#order")).to_be_hidden()
        await expect(page.locator("#error")).to_be_hidden()
    await inspect(page, "resident-order-missing")
    await context.close()
