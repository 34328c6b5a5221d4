"""The workbench when a claim's lease runs out: the resident's contact leaves the screen.

A short ``CLAIM_LEASE`` here; the task is a queue row as the worker writes it (claims and
leases are the database's business, no workflow is involved until a result is recorded).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy.orm import Session

from api.database import Database
from core.settings import Settings
from core.vocab import Role
from tests.api.follow_up_data import ADDRESS, PHONE, add_follow_up, add_order
from tests.signin import staff_username
from tests.web.conftest import TABLET, inspect, new_context
from tests.web.test_call_center import DESK, sign_in

LEASE = timedelta(seconds=15)


@pytest.fixture
def live_settings(live_settings: Settings) -> Settings:
    return live_settings.model_copy(update={"claim_lease": LEASE})


async def test_a_lapsed_claim_takes_the_contact_off_the_screen(
    browser: Browser, live: tuple[str, Settings], database: Database, township: str
) -> None:
    url, _ = live

    def never_reviewed(session: Session) -> int:
        return add_follow_up(session, add_order(session, township, review_rating=None))

    task = await database.run(never_reviewed)
    context = await new_context(browser, TABLET)
    page = await context.new_page()
    await sign_in(page, url, await staff_username(database, Role.AGENT, [township]))
    row = page.locator(f"#queue-rows tr[data-id='{task}']")
    await expect(row.locator("[data-reason]")).to_have_text("未自动回访")
    await expect(row).to_contain_text("未评价")

    await page.click(f"button[data-claim='{task}']")
    await expect(page.locator("#c-phone")).to_have_text(PHONE)
    await expect(page.locator("#lease")).to_have_text(re.compile(r"^还剩 0:1\d$"))
    # Never reviewed: the agent asks, and the result must bring the rating.
    await expect(page.locator("#script")).to_contain_text("请问您对这次服务满意吗")
    await page.check("input[name=method][value=phone]")
    await page.check("input[name=outcome][value=confirmed]")
    await page.click("#submit-result")
    await expect(page.locator("#error")).to_have_text("请选择满意程度。")
    await expect(page.locator("#rating")).to_have_attribute("aria-invalid", "true")
    await inspect(page, "call-center-rating-needed", sizes=DESK)

    await expect(page.locator("#task-notice")).to_contain_text("认领已到期", timeout=30_000)
    await expect(page.locator("#task-body")).to_be_hidden()
    content = await page.content()
    assert PHONE not in content and ADDRESS not in content
    await expect(page.locator(f"button[data-claim='{task}']")).to_be_visible()
    await inspect(page, "call-center-lease-lapsed", sizes=DESK)

    # The same desk in English.
    await page.goto(url + "/call-center/?lang=en")
    await expect(page.locator("h1")).to_have_text("Follow-up workbench")
    await expect(row.locator("[data-reason]")).to_have_text("No automated call")
    await expect(page.locator(f"button[data-claim='{task}']")).to_have_text("Claim")
    await inspect(page, "call-center-english", sizes=DESK)
    await context.close()
