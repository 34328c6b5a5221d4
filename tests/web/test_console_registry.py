"""An admin keeps the volunteer registry in the console: registers and corrects volunteers.

Every state is inspected at a desktop's and a tablet's width (see tests/web/test_console.py).
"""

from __future__ import annotations

import uuid

from playwright.async_api import Page, expect

from api.database import Database
from core.settings import Settings
from core.vocab import Role
from tests.integration.test_http_lifecycle import ok
from tests.signin import People
from tests.web.test_console import (
    SLOW,
    desk,
    http,
    look,
    other_township,
    people,
    sign_in,
    staff_account,
)

__all__ = ["desk", "http", "other_township", "people"]  # fixtures shared with the console's


def a_phone() -> str:
    return f"137{uuid.uuid4().int % 10**8:08d}"


async def test_an_admin_registers_and_corrects_a_volunteer_choosing_skills_by_name(
    desk: Page,
    live: tuple[str, Settings],
    people: People,
    database: Database,
    township: str,
    other_township: str,
) -> None:
    url = live[0]
    county = await people.admin()
    village = await ok(
        await county.post("/api/villages", json={"township": township, "name": "东风村"}), 201
    )
    team = await ok(
        await county.post(
            "/api/units", json={"kind": "team", "name": "东风志愿服务队", "township": township}
        ),
        201,
    )
    their_phone = a_phone()
    someone = {"name": "孙", "phone": their_phone, "township": township}
    await ok(await county.post("/api/volunteers", json=someone), 201)
    username = await staff_account(database, Role.ADMIN, None)
    await sign_in(desk, url + "/console/volunteers", username)

    await desk.click("#new-volunteer")
    await expect(desk.locator("#volunteer-title")).to_have_text("登记志愿者")
    await expect(desk.get_by_label("代购代办")).to_be_visible()
    # Skills read as the menu names them; no code of the catalog anywhere on the page.
    assert "care." not in await desk.locator("main").inner_text()
    await look(desk, "console-volunteer-new")
    await desk.click("#volunteer-submit")
    await expect(desk.locator("#error")).to_contain_text("请填写姓名")

    phone = a_phone()
    await desk.fill("#name", "钱秀英")
    await desk.fill("#phone", phone)
    await desk.select_option("#township", township)
    await expect(desk.locator("#village_id option", has_text="东风村")).to_have_count(1)
    await desk.select_option("#village_id", str(village["id"]))
    await desk.select_option("#unit_id", str(team["id"]))
    await desk.get_by_label("代购代办").check()
    await desk.get_by_label("法律服务（全部）").check()
    await look(desk, "console-volunteer-new-filled")
    await desk.click("#volunteer-submit")
    await expect(desk).to_have_url(url + "/console/volunteers", timeout=SLOW)
    listed = (await ok(await county.get("/api/volunteers", params={"township": township})))["items"]
    made = next(v for v in listed if v["name"] == "钱秀英")
    assert made["skills"] == ["care.errands", "legal"]
    assert (made["village_id"], made["unit_id"], made["active"]) == (
        village["id"],
        team["id"],
        True,
    )
    row = desk.locator(f"#vols-body tr[data-id='{made['id']}']")
    await expect(row).to_contain_text("东风志愿服务队")

    # Corrected: the form holds what is on record; the number shows masked only.
    await row.get_by_role("link", name="修改：钱秀英").click()
    await expect(desk.locator("#volunteer-title")).to_have_text("修改志愿者信息")
    await expect(desk.locator("#name")).to_have_value("钱秀英")
    await expect(desk.locator("#village_id")).to_have_value(str(village["id"]))
    await expect(desk.get_by_label("代购代办")).to_be_checked()
    await expect(desk.locator("#phone-now")).to_contain_text("****")
    assert phone not in await desk.content()
    await look(desk, "console-volunteer-edit")

    # Someone else's number is refused next to the field, and nothing changes.
    await desk.fill("#phone", their_phone)
    await desk.click("#volunteer-submit")
    await expect(desk.locator("#phone-error")).to_contain_text("已经登记过")
    await look(desk, "console-volunteer-duplicate-phone")

    await desk.fill("#phone", "")
    await desk.fill("#name", "钱秀英（东）")
    await desk.select_option("#township", other_township)
    await expect(desk.locator("#village_id")).to_have_value("")
    await desk.select_option("#unit_id", "")
    await desk.get_by_label("法律服务（全部）").uncheck()
    await desk.get_by_label("空巢老人探访").check()
    await desk.click("#volunteer-submit")
    await expect(desk.locator("#volunteer-saved")).to_have_text("已保存：钱秀英（东）")
    await look(desk, "console-volunteer-saved")
    now = await ok(await county.get(f"/api/volunteers/{made['id']}"))
    assert (now["name"], now["township"], now["village_id"], now["unit_id"]) == (
        "钱秀英（东）",
        other_township,
        None,
        None,
    )
    assert now["skills"] == ["care.elderly_visit", "care.errands"]
    assert now["phone"].endswith(phone[-4:])
    transfers = await ok(await county.get(f"/api/volunteers/{made['id']}/transfers"))
    assert [(t["from_unit_id"], t["to_unit_id"]) for t in transfers] == [(team["id"], None)]

    # A staff account with too short a password: the form says why, next to the password.
    await desk.click("a[href='/console/staff']")
    await desk.fill("#staff-username", f"agent-{uuid.uuid4().hex[:6]}")
    await desk.fill("#staff-password", "short")
    await desk.click("#staff-submit")
    await expect(desk.locator("#staff-password-error")).to_have_text("密码太短了：至少要12个字符。")
    await expect(desk.locator("#staff-password")).to_have_attribute("aria-invalid", "true")
    await look(desk, "console-staff-weak-password")

    # A deadline passed seconds ago reads as overdue, not as no time left.
    said = await desk.evaluate(
        "() => [App.countdown(new Date(Date.now() - 20000).toISOString()),"
        " App.countdown(new Date(Date.now() + 20000).toISOString())]"
    )
    assert said == ["已超时 不到1分钟", "还剩 1分钟"]
