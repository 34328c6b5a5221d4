"""The whole loop across the four apps in Chromium: each person on their own page.

The resident orders on their phone, a township's admin dispatches from the ranked candidates
in the console, the volunteer answers the dispatch SMS, accepts and completes on their phone,
the resident rates it there, the call-center agent claims the follow-up (the lease ticking)
and records a complaint, and the admin resolves it. The admin never sees another township's
order.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from api.database import Database
from core.settings import Settings
from core.vocab import Role
from tests.integration.test_dispatch_http import phone
from tests.integration.test_http_lifecycle import ok, order_placed
from tests.polling import eventually
from tests.signin import People
from tests.web.conftest import DESKTOP, inspect, new_context
from tests.web.test_console import look, staff_account
from tests.web.test_console import sign_in as staff_sign_in
from tests.web.test_resident import fill_order
from tests.web.test_resident import sign_in as resident_sign_in
from tests.web.test_volunteer import texts_to
from twilio_sim import SimControl

SLOW = 15_000


@pytest.fixture
def live_settings(live_settings: Settings) -> Settings:
    # No robot call, and at once: the follow-up goes straight to a call-center agent.
    return live_settings.model_copy(
        update={"follow_up_max_calls": 0, "follow_up_after_review": timedelta(0)}
    )


async def desk_page(browser: Browser) -> Page:
    return await (await new_context(browser, DESKTOP)).new_page()


async def test_an_order_goes_round_the_loop_through_all_four_apps(
    browser: Browser,
    live: tuple[str, Settings],
    sim: SimControl,
    database: Database,
    township: str,
) -> None:
    url, settings = live
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        people = People(http, database, settings)
        county = await people.admin()
        mobile = phone()
        body = {"name": "吴志强", "phone": mobile, "township": township, "skills": ["care"]}
        helper = (await ok(await county.post("/api/volunteers", json=body), 201))["id"]
        elsewhere = await order_placed(people, "蓼皋街道")

        # 1. The resident orders on their phone.
        resident = await (await new_context(browser)).new_page()
        await resident.goto(url + "/orders/new")
        await fill_order(resident, township)
        await resident.click("#submit")  # signing in is asked here, then the order goes in
        await resident_sign_in(resident, sim, "138 0013 8000", then="#status")
        await resident.wait_for_url(re.compile(r"/orders/[A-Za-z0-9_-]{16}$"))
        order_id = resident.url.rsplit("/", 1)[1]

        # 2. The township's admin sees it arrive and dispatches from the ranked candidates.
        admin = await desk_page(browser)
        await staff_sign_in(
            admin, url + "/console/", await staff_account(database, Role.ADMIN, [township])
        )
        await expect(admin.locator(f"#list-pending li[data-id='{order_id}']")).to_be_visible(
            timeout=SLOW
        )
        await expect(admin.locator(f"#board li[data-id='{elsewhere}']")).to_have_count(0)
        await admin.click(f"#list-pending li[data-id='{order_id}'] a")
        candidate = admin.locator(f"#candidates-body tr[data-id='{helper}']")
        await expect(candidate).to_be_visible(timeout=SLOW)
        await candidate.get_by_role("button").click()
        await expect(admin.locator("#status")).to_have_attribute("data-status", "dispatched")
        await look(admin, "loop-admin-dispatched")

        # 3. The volunteer answers the dispatch SMS, accepts and completes on their phone.
        [sms] = await eventually(
            lambda: texts_to(sim, mobile, order_id), bool, what="the dispatch SMS"
        )
        link = re.search(r"(http://\S+/volunteer/orders/\S+\?t=[^\s，。]+)", sms)
        assert link is not None, sms
        volunteer = await (await new_context(browser)).new_page()
        await volunteer.goto(link.group(1))
        await volunteer.click("#accept")
        await expect(volunteer.locator("#status")).to_have_attribute("data-status", "accepted")
        await expect(admin.locator("#status")).to_have_attribute(
            "data-status", "accepted", timeout=SLOW
        )
        await volunteer.click("#check-in")
        await volunteer.click("#check-out")
        await expect(volunteer.locator("#hours")).to_have_value("0.5")
        await volunteer.fill("#summary-text", "降压药已买好送到家")
        await volunteer.click("#complete")
        await expect(volunteer.locator("#status")).to_have_attribute("data-status", "completed")
        await inspect(volunteer, "loop-volunteer-completed")

        # The resident rates it on their own page (not happy).
        await expect(resident.locator("#review-form")).to_be_visible(timeout=SLOW)
        await resident.check("input[name=rating][value=average]")
        await resident.click("#review-submit")
        await expect(resident.locator("#rating")).to_have_text("一般")

        # 4. The agent claims the follow-up (the lease ticking) and records a complaint.
        agent = await desk_page(browser)
        agent_name = await staff_account(database, Role.AGENT, [township])
        await staff_sign_in(agent, url + "/call-center/", agent_name)
        claim = agent.locator(f"#queue-rows tr:has-text('{township}') button[data-claim]")
        await expect(claim).to_be_visible(timeout=SLOW)
        await claim.click()
        await expect(agent.locator("#lease")).to_have_text(re.compile(r"^还剩 \d+:\d\d$"))
        # The script names the volunteer as residents know them (surname + 志愿者), not in full.
        await expect(agent.locator("#script")).to_contain_text("吴志愿者")
        await inspect(agent, "loop-agent-claimed", sizes=(DESKTOP,))
        await agent.check("input[name=method][value=phone]")
        await agent.check("input[name=outcome][value=complaint]")
        await agent.fill("#notes", "志愿者迟到两小时")
        await agent.click("#submit-result")
        await expect(agent.locator("#task-notice")).to_contain_text("投诉")

        # 5. The admin resolves it.
        await admin.click("a[href='/console/complaints']")
        # Listed by the order's number, linked to the order's page.
        order_link = admin.locator(f"a[href='/console/orders/{order_id}']")
        complaint = admin.locator("#complaints-body tr", has=order_link)
        await expect(complaint).to_contain_text("迟到", timeout=SLOW)
        await complaint.get_by_role("button").click()
        await admin.fill("#resolve-notes", "已向居民道歉，提醒志愿者守时")
        await admin.click("#resolve-submit")
        await expect(complaint).to_have_count(0)
        await look(admin, "loop-admin-resolved")
        order = await ok(await county.get(f"/api/orders/{order_id}"))
        assert order["status"] == "closed" and order["complaint_open"] is False

        # The other township's order stayed out of this admin's console.
        await admin.goto(f"{url}/console/orders?township=蓼皋街道")
        await expect(admin.locator("#orders-body tr.empty")).to_be_visible()
        await admin.goto(f"{url}/console/orders/{elsewhere}")
        await expect(admin.locator("#error")).to_contain_text("没有找到")
        for page in (resident, admin, volunteer, agent):
            await page.context.close()
