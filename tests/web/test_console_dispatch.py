"""The console's dispatch screen: who can do what was ordered, and why someone who cannot.

Every state is inspected at a desktop's and a tablet's width (see tests/web/test_console.py).
"""

from __future__ import annotations

from playwright.async_api import Page, expect

from api.database import Database
from core.settings import Settings
from core.vocab import Role
from tests.integration.test_http_lifecycle import ok, order_placed, register
from tests.signin import Caller, People
from tests.web.test_console import SLOW, desk, http, look, people, sign_in, staff_account

__all__ = ["desk", "http", "people"]  # fixtures shared with the console's

ITEM = "health.mental"  # 心理健康辅导


async def retire_everyone_with(admin: Caller, *skills: str) -> None:
    """Ranking is county-wide: no one left by other tests may hold the skill."""
    for skill in skills:
        while True:
            page = await ok(await admin.get("/api/volunteers", params={"skill": skill}))
            holders = [v["id"] for v in page["items"] if v["active"]]
            if not holders:
                break
            for v in holders:
                await ok(await admin.patch(f"/api/volunteers/{v}", json={"active": False}))


async def test_an_admin_sees_who_lacks_the_skill_and_says_why_when_dispatching_to_them(
    desk: Page,
    live: tuple[str, Settings],
    people: People,
    database: Database,
    township: str,
) -> None:
    url = live[0]
    county = await people.admin()
    await retire_everyone_with(county, ITEM, "health")
    lawyer = await register(county, township, ["legal"])
    carer = await register(county, township, ["care"])
    order_id = await order_placed(people, township, item_code=ITEM)
    username = await staff_account(database, Role.ADMIN, None)
    await sign_in(desk, f"{url}/console/orders/{order_id}", username)

    # Nobody offered can do it: each is marked, and the screen warns in words.
    ours = [desk.locator(f"#candidates-body tr[data-id='{v}']") for v in (lawyer, carer)]
    for row in ours:
        await expect(row).to_contain_text("没有这项技能", timeout=SLOW)
    warning = desk.locator("#skill-warning")
    await expect(warning).to_be_visible()
    await expect(warning).to_contain_text("心理健康辅导")
    await look(desk, "console-order-nobody-has-the-skill")

    # Dispatching to one of them wants a reason first; then the reason is on record.
    await ours[0].get_by_role("button", name="派单：吴志强").click()
    await expect(desk.locator("#dispatch-reason-error")).to_contain_text("没有这项技能")
    await expect(desk.locator("#dispatch-reason")).to_be_focused()
    await expect(desk.locator("#status")).to_have_attribute("data-status", "pending")
    await look(desk, "console-order-reason-wanted")
    said = "电话确认过，他有心理咨询师证"
    await desk.fill("#dispatch-reason", said)
    await ours[0].get_by_role("button", name="派单：吴志强").click()
    await expect(desk.locator("#status")).to_have_attribute("data-status", "dispatched")
    await expect(desk.locator("#timeline li[data-event=dispatched]")).to_contain_text(said)

    # 改派 offers everyone but the volunteer holding it; a skilled one now reads as such.
    skilled = await register(county, township, [ITEM])
    await desk.reload()
    await expect(desk.locator("#dispatch-title")).to_have_text("改派：推荐的志愿者")
    await expect(desk.locator(f"#candidates-body tr[data-id='{skilled}']")).to_contain_text(
        "会这项", timeout=SLOW
    )
    await expect(desk.locator(f"#candidates-body tr[data-id='{carer}']")).to_be_visible()
    await expect(desk.locator(f"#candidates-body tr[data-id='{lawyer}']")).to_have_count(0)
    await expect(warning).to_be_hidden()
    await look(desk, "console-order-redispatch")
    for v in (lawyer, carer, skilled):
        await ok(await county.patch(f"/api/volunteers/{v}", json={"active": False}))
