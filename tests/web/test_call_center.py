"""The call-center workbench (/call-center/) in a real browser against the live system.

Two residents' orders reach the queue the way they do in production: the automated follow-up
call rings the simulator, where one resident presses 4 (dissatisfied) and the other 9 (asks
for a person). Agents sign in on the page with a username and password.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from api.database import Database
from core.settings import Settings
from core.vocab import Role
from tests.integration.test_call_center_http import queued_task, reviewed_order
from tests.signin import STAFF_PASSWORD, People, staff_username
from tests.web.conftest import DESKTOP, TABLET, inspect, new_context
from twilio_sim import SimControl

DESK = (DESKTOP, TABLET)


@pytest.fixture
def live_settings(live_settings: Settings) -> Settings:
    # The call after an online review waits FOLLOW_UP_AFTER_REVIEW (hours); here it rings at once.
    return live_settings.model_copy(update={"follow_up_after_review": timedelta(0)})


# The two residents (as typed, and in E.164 as the simulator knows them).
UNHAPPY, WANTS_A_PERSON = "13800138000", "13800138001"


async def sign_in(page: Page, url: str, username: str) -> None:
    await page.goto(url + "/call-center/")
    await expect(page.locator("#sign-in")).to_be_visible()
    await page.fill("#username", username)
    await page.fill("#password", STAFF_PASSWORD)
    await page.click("#sign-in-submit")
    await expect(page.locator("#desk")).to_be_visible()
    await expect(page.locator("#who-name")).to_have_text(username)


async def test_an_agent_claims_a_follow_up_calls_and_records_a_complaint(
    browser: Browser,
    live: tuple[str, Settings],
    sim: SimControl,
    database: Database,
    township: str,
) -> None:
    url, settings = live
    # Reviewed 满意 online: on the confirming call 2 opens the four grades, where 4 is 不满意.
    await asyncio.to_thread(sim.script, "+86" + UNHAPPY, ["answer:2,4"])
    await asyncio.to_thread(sim.script, "+86" + WANTS_A_PERSON, ["answer:9"])
    async with httpx.AsyncClient(base_url=url) as http:
        people = People(http, database, settings)
        admin, agent_api = await people.admin(), await people.agent()
        unhappy = await reviewed_order(people, township, "satisfied", UNHAPPY, "就是来得晚了点")
        wants = await reviewed_order(people, township, "very_satisfied", WANTS_A_PERSON)
        complained = await (await people.resident(WANTS_A_PERSON)).post(
            f"/api/orders/{wants}/complaint", json={"text": "理发师迟到了"}
        )
        assert complained.status_code == 201, complained.text
        unhappy_task = (await queued_task(agent_api, township, unhappy))["id"]
        wants_task = (await queued_task(agent_api, township, wants))["id"]
        first = await staff_username(database, Role.AGENT, [township])
        second = await staff_username(database, Role.AGENT, [township])

        context = await new_context(browser, DESKTOP)
        page = await context.new_page()
        await page.goto(url + "/call-center/")
        await inspect(page, "call-center-sign-in", sizes=DESK)
        await sign_in(page, url, first)

        # The queue, most urgent first, each with why it reached a person.
        rows = page.locator("#queue-rows tr")
        await expect(rows).to_have_count(2)
        await expect(rows.nth(0)).to_have_attribute("data-id", str(unhappy_task))
        await expect(rows.nth(0).locator("[data-reason]")).to_have_text("居民不满意")
        await expect(rows.nth(1).locator("[data-reason]")).to_have_text("要求人工")
        await expect(page.locator("#task-body")).to_be_hidden()
        # Before a claim, nothing of the resident's contact is on the page.
        for secret in ("+86" + UNHAPPY, UNHAPPY[-4:], "龙秀英", "龙井社区"):
            assert secret not in await page.content()
        await inspect(page, "call-center-queue", sizes=DESK)

        await page.click(f"button[data-claim='{unhappy_task}']")
        await expect(page.locator("#task-body")).to_be_visible()
        lease = page.locator("#lease")
        await expect(lease).to_have_text(re.compile(r"^还剩 (29|30):\d\d$"))
        ticked = await lease.text_content()
        await expect(lease).not_to_have_text(ticked or "")  # it counts down, second by second
        await expect(page.locator("#c-phone")).to_have_text("+86" + UNHAPPY)
        await expect(page.locator("#c-name")).to_have_text("龙秀英")
        script = page.locator("#script")
        await expect(script).to_contain_text("吴志愿者为您提供了")  # as the resident knows them
        await expect(script).to_contain_text("空巢老人探访")
        # What they said last (4 on the call) leads; the older online review is recalled,
        # never read back for them to confirm.
        await expect(script).to_contain_text("您在回访电话里选了“不满意”，之前在网上评的是“满意”")
        await expect(script).not_to_contain_text("请问是这样吗")
        await expect(page.locator("#r-rating")).to_have_text("满意")
        await expect(page.locator("#r-comment")).to_have_text("就是来得晚了点")
        await expect(page.locator("#r-call")).to_have_text("不满意")
        await expect(page.locator("#t-complaint")).to_be_hidden()
        # The order's story: from the request to the review.
        await expect(page.locator("#t-timeline li[data-event=submitted]")).to_have_count(1)
        await expect(page.locator("#t-timeline li[data-event=reviewed]")).to_have_count(1)
        # Nothing chosen for the agent: neither how they reached the resident nor the outcome.
        await expect(page.locator("#result-form input:checked")).to_have_count(0)
        await expect(page.locator("#call-rows tr")).to_have_count(1)
        await expect(page.locator("#call-rows")).to_contain_text("4（不满意）")
        await expect(rows.nth(0)).to_have_attribute("aria-current", "true")
        await inspect(page, "call-center-claimed", sizes=DESK)

        # A second agent sees the task taken and cannot claim it, on the page or by the API.
        other_context = await new_context(browser, DESKTOP)
        other = await other_context.new_page()
        await other.clock.install()  # runs as usual until the test holds it
        await sign_in(other, url, second)
        taken = other.locator(f"#queue-rows tr[data-id='{unhappy_task}']")
        await expect(taken).to_contain_text("其他话务员处理中")
        await expect(taken.locator("button")).to_have_count(0)
        await expect(other.locator(f"button[data-claim='{wants_task}']")).to_be_visible()
        assert "+86" + UNHAPPY not in await other.content()
        await inspect(other, "call-center-taken-by-another", sizes=DESK)
        third = await people.another_agent()
        refused = await third.post(f"/api/follow-ups/{unhappy_task}/claim")
        assert (refused.status_code, refused.json()["code"]) == (409, "ClaimedByOther")

        # A claim button gone stale (the page's clock held, so its queue has not refreshed
        # since) is refused in plain words, and the row then says who has it.
        await other.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))
        assert (await third.post(f"/api/follow-ups/{wants_task}/claim")).status_code == 200
        await other.click(f"button[data-claim='{wants_task}']")
        await expect(other.locator("#error")).to_have_text("这条回访已被其他话务员领取。")
        stale = other.locator(f"#queue-rows tr[data-id='{wants_task}']")
        await expect(stale).to_contain_text("其他话务员处理中")
        await expect(other.locator("#task-body")).to_be_hidden()
        await other.clock.resume()  # axe itself needs timers
        await inspect(other, "call-center-claim-refused", sizes=DESK)
        assert (await third.post(f"/api/follow-ups/{wants_task}/release")).status_code == 200

        # The form refuses a result until the agent says how and what.
        await page.click("#submit-result")
        await expect(page.locator("#method-error")).to_have_text("请选择回访方式。")
        await expect(page.locator("#outcome-error")).to_have_text("请选择回访结论。")
        await inspect(page, "call-center-nothing-chosen", sizes=DESK)
        # A complaint needs what the resident said.
        await page.check("input[name=method][value=phone]")
        await page.check("input[name=outcome][value=complaint]")
        await page.click("#submit-result")
        await expect(page.locator("#error")).to_have_text("请写明居民投诉的内容。")
        await expect(page.locator("#notes")).to_have_attribute("aria-invalid", "true")
        await inspect(page, "call-center-complaint-incomplete", sizes=DESK)
        await page.fill("#notes", "志愿者迟到两小时，药也买错了")
        await page.click("#submit-result")
        await expect(page.locator("#task-notice")).to_contain_text("投诉已转给中心管理员处理")
        await expect(page.locator("#task-body")).to_be_hidden()
        assert "+86" + UNHAPPY not in await page.content()  # the contact left with the task
        await expect(rows).to_have_count(1)
        # The agent's own handled list has it now.
        handled = page.locator(f"#handled-rows tr[data-id='{unhappy_task}']")
        await expect(handled).to_contain_text("居民投诉")
        await expect(handled).to_contain_text("电话")
        await inspect(page, "call-center-recorded", sizes=DESK)

        complaints = (await admin.get("/api/complaints", params={"township": township})).json()
        [complaint] = [c for c in complaints["items"] if c["order_id"] == unhappy]
        assert (complaint["source"], complaint["note"]) == (
            "follow_up",
            "志愿者迟到两小时，药也买错了",
        )
        order = (await admin.get(f"/api/orders/{unhappy}")).json()
        assert (order["status"], order["follow_up"]["outcome"]) == ("closed", "complaint")

        # The other agent's queue follows without a reload; a claim given back returns.
        await expect(other.locator(f"#queue-rows tr[data-id='{unhappy_task}']")).to_have_count(0)
        await page.click(f"button[data-claim='{wants_task}']")
        await expect(page.locator("#script")).to_contain_text("人工服务")
        # The complaint the resident filed online is there before the call.
        await expect(page.locator("#t-complaint")).to_contain_text("居民在网上投诉：“理发师迟到了”")
        await expect(page.locator("#script")).to_contain_text("转给中心处理")
        await expect(page.locator("#script")).to_contain_text("“非常满意”，请问是这样吗？")
        await inspect(page, "call-center-open-complaint", sizes=DESK)
        await expect(page.locator("#call-rows")).to_contain_text("9（要求人工）")
        await page.click("#release")
        await expect(page.locator("#task-notice")).to_contain_text("已退回队列")
        await expect(page.locator(f"button[data-claim='{wants_task}']")).to_be_visible()
        await inspect(page, "call-center-released", sizes=DESK)

        # Signing out ends the sign-in: the form is back.
        await page.click("#sign-out")
        await expect(page.locator("#sign-in")).to_be_visible()
        await expect(page.locator("#desk")).to_be_hidden()
        await context.close()
        await other_context.close()
