"""One number per figure: the board, the order list, the complaints and escalations lists and
the supervision screen, each rendered in Chromium, count the same orders alike.

Every state is inspected at a desktop's and a tablet's width (see tests/web/test_console.py).
"""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from api.database import Database
from core.settings import Settings
from core.vocab import Role
from tests.integration.test_http_lifecycle import ok, order_placed, register
from tests.signin import People
from tests.web.test_console import SLOW, desk, http, look, people, sign_in, staff_account

__all__ = ["desk", "http", "people"]  # fixtures shared with the console's


async def shown(page: Page, selector: str) -> int:
    """The first whole number in what ``selector`` shows."""
    text = await page.locator(selector).inner_text()
    found = re.search(r"\d+", text)
    assert found, (selector, text)
    return int(found.group())


async def test_every_screen_counts_the_same_orders_alike(
    desk: Page,
    live: tuple[str, Settings],
    people: People,
    database: Database,
    township: str,
) -> None:
    url = live[0]
    county = await people.admin()
    resident = await people.resident()
    helper = await register(county, township, ["care"])
    # One waits, hurried by its resident; one is being served, and its resident complains.
    hurried = await order_placed(people, township)
    await ok(await resident.post(f"/api/orders/{hurried}/hurry"))
    served = await order_placed(people, township)
    await ok(await county.post(f"/api/orders/{served}/dispatch", json={"volunteer_id": helper}))
    await ok(await (await people.volunteer(helper)).post(f"/api/orders/{served}/accept"))
    await ok(
        await resident.post(f"/api/orders/{served}/complaint", json={"text": "志愿者态度不好"}),
        201,
    )
    number = (await ok(await county.get(f"/api/orders/{served}")))["number"]
    username = await staff_account(database, Role.ADMIN, [township])

    # The board: what waits at each step, and what needs the center (催办, 投诉).
    await sign_in(desk, url + "/console/", username)
    await expect(desk.locator("#count-accepted")).to_have_attribute("data-count", "1", timeout=SLOW)
    board = {
        key: int(await desk.locator(f"#count-{key}").get_attribute("data-count") or -1)
        for key in ("pending", "dispatched", "accepted", "overdue", "supervised")
    }
    assert board == {"pending": 1, "dispatched": 0, "accepted": 1, "overdue": 0, "supervised": 2}
    await expect(desk.locator("#col-supervised-title")).to_have_text("待中心处理")
    # Each says why it needs the center.
    await expect(desk.locator(f"#list-supervised li[data-id='{hurried}']")).to_contain_text(
        "催办 1 次"
    )
    await expect(desk.locator(f"#list-supervised li[data-id='{served}']")).to_contain_text(
        "投诉待处理"
    )
    await look(desk, "console-figures-board")
    still_open = board["pending"] + board["dispatched"] + board["accepted"]

    # The list of open orders (在办) holds what the board's steps hold.
    await desk.click("a[href='/console/orders']")
    await desk.select_option("#f-status", "open")
    await desk.click("#filters button[type=submit]")
    await expect(desk.locator("#total")).to_have_text(f"共 {still_open} 张订单", timeout=SLOW)
    served_row = desk.locator(f"#orders-body tr[data-id='{served}']")
    await expect(served_row).to_contain_text("已接单")

    # Complaints: the resident's own is listed, by the order's number.
    await desk.click("a[href='/console/complaints']")
    await desk.select_option("#c-status", "")
    rows = desk.locator("#complaints-body tr:not(.empty)")
    await expect(rows).to_have_count(1, timeout=SLOW)
    await expect(rows.first).to_contain_text(f"{number[:4]} {number[4:]}")
    await look(desk, "console-figures-complaints")
    complaints = await rows.count()

    # Escalations (超时督办): none yet, and the supervision screen says none too.
    await desk.click("a[href='/console/escalations']")
    await expect(desk.locator("#esc-body tr.empty")).to_contain_text("没有督办记录")

    await desk.click("a[href='/console/supervision']")
    await expect(desk.locator("#tile-received")).to_have_text("2", timeout=SLOW)
    assert await shown(desk, "#tile-open") == still_open
    assert await shown(desk, "#tile-escalated") == 0
    await expect(desk.locator("#tile-complaints")).to_have_text(f"0/{complaints}")
    # 已办结 is the closed order alone: the one being served is not counted as completed.
    await expect(desk.locator(".tile[data-key=completed] dt")).to_have_text("已完成服务")
    await expect(desk.locator("#tile-completed")).to_have_text("0")
    await look(desk, "console-figures-supervision")
