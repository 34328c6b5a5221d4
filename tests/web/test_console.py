"""The admin console (/console/) in a real browser against the live system.

Every state is inspected at a desktop's (1280×800) and a tablet's (768×1024) width.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.database import Database
from api.routes import console_pages
from api.stores import accounts
from core.models import Order
from core.settings import Settings
from core.vocab import Role
from tests.api.auth_app import app_on, caller
from tests.conftest import new_township
from tests.integration.test_http_lifecycle import ok, order_placed, register, wait_for_follow_up
from tests.polling import eventually
from tests.signin import STAFF_PASSWORD, People
from tests.web.conftest import DESKTOP, TABLET, inspect, new_context
from twilio_sim import SimControl

DESK = (DESKTOP, TABLET)
RESIDENT_PHONE = "+8613800138000"  # People.resident()'s
SLOW = 15_000  # ms: the pages poll every few seconds; a busy machine is slower


async def look(page: Page, name: str) -> None:
    await inspect(page, name, sizes=DESK)


async def staff_account(database: Database, role: Role, townships: list[str] | None) -> str:
    """A staff account that signs in with STAFF_PASSWORD on the page; its username."""
    username = f"{role.value}-{uuid.uuid4().hex[:8]}"

    def create(session: Session) -> None:
        accounts.create_staff(
            session,
            username=username,
            password=STAFF_PASSWORD,
            role=role,
            townships=townships,
            known_townships=townships or [],
        )

    await database.run(create)
    return username


async def sign_in(page: Page, url: str, username: str) -> None:
    await page.goto(url)
    await expect(page.locator("#sign-in")).to_be_visible()
    await page.fill("#username", username)
    await page.fill("#password", STAFF_PASSWORD)
    await page.click("#sign-in-submit")
    await expect(page.locator("#desk")).to_be_visible()


@pytest.fixture
def live_settings(live_settings: Settings) -> Settings:
    """The follow-up call at once after the review, not hours later (FOLLOW_UP_AFTER_REVIEW)."""
    return live_settings.model_copy(update={"follow_up_after_review": timedelta(0)})


@pytest.fixture
async def desk(browser: Browser) -> AsyncIterator[Page]:
    context = await new_context(browser, DESKTOP)
    yield await context.new_page()
    await context.close()


@pytest.fixture
async def http(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
        yield client


@pytest.fixture
def people(http: httpx.AsyncClient, database: Database, live: tuple[str, Settings]) -> People:
    """Callers on the live server (residents, volunteers, agents) for what is not the console."""
    return People(http, database, live[1])


@pytest.fixture
def other_township(engine: Engine) -> str:
    return new_township(engine, "别镇")


async def test_a_township_admin_dispatches_notes_resolves_and_approves_in_the_console(
    desk: Page,
    live: tuple[str, Settings],
    people: People,
    database: Database,
    sim: SimControl,
    township: str,
    other_township: str,
) -> None:
    url, settings = live
    county = await people.admin()
    resident = await people.resident()
    helper = await register(county, township, ["care"])
    username = await staff_account(database, Role.ADMIN, [township])

    await desk.goto(url + "/console/")
    await look(desk, "console-sign-in")
    await sign_in(desk, url + "/console/", username)
    pending = desk.locator("#count-pending")
    await expect(pending).to_have_attribute("data-count", "0", timeout=SLOW)
    await look(desk, "console-board-empty")

    # An order arrives: the board counts it without a reload; another township's does not.
    elsewhere = await order_placed(people, other_township)
    order_id = await order_placed(people, township)
    await expect(pending).to_have_attribute("data-count", "1", timeout=SLOW)
    await expect(desk.locator(f"#list-pending li[data-id='{order_id}']")).to_be_visible()
    await expect(desk.locator(f"#board li[data-id='{elsewhere}']")).to_have_count(0)
    await expect(desk.locator("#board-summary")).to_contain_text("待派单 1")
    await look(desk, "console-board-pending")
    # The resident hurries it (催办): the center now supervises it (督办), and says why.
    await ok(await resident.post(f"/api/orders/{order_id}/hurry"))
    await expect(desk.locator("#count-supervised")).to_have_attribute(
        "data-count", "1", timeout=SLOW
    )
    await expect(desk.locator(f"#list-supervised li[data-id='{order_id}']")).to_contain_text(
        "催办 1 次"
    )
    await look(desk, "console-board-hurried")

    # The list filters; the other township's order is nowhere, and its page reads as unknown.
    await desk.click("a[href='/console/orders']")
    await expect(desk.locator(f"#orders-body tr[data-id='{order_id}']")).to_be_visible()
    await expect(desk.locator("#orders-body tr")).to_have_count(1)
    await desk.select_option("#f-status", "dispatched")
    await desk.click("#filters button[type=submit]")
    await expect(desk.locator("#orders-body tr.empty")).to_be_visible()
    assert "status=dispatched" in desk.url
    await look(desk, "console-orders-filtered")
    # A caller reads out the order's number: typed as heard, it finds that order alone.
    number = (await ok(await county.get(f"/api/orders/{order_id}")))["number"]
    spoken = f"{number[:4]} {number[4:]}"
    await desk.click("#f-clear")
    await desk.fill("#f-q", spoken)
    await desk.click("#filters button[type=submit]")
    await expect(desk.locator("#orders-body tr")).to_have_count(1)
    await expect(desk.locator(f"#orders-body tr[data-id='{order_id}']")).to_contain_text(spoken)
    await look(desk, "console-orders-by-number")
    await desk.goto(f"{url}/console/orders/{elsewhere}")
    await expect(desk.locator("#error")).to_contain_text("没有找到")
    await look(desk, "console-order-not-found")

    # The order page: ranked candidates with their parts; one click dispatches.
    await desk.goto(f"{url}/console/orders/{order_id}")
    await expect(desk.locator("#order-id")).to_have_text(spoken)
    row = desk.locator(f"#candidates-body tr[data-id='{helper}']")
    await expect(row).to_be_visible(timeout=SLOW)
    # Scores read as words beside a bar, never bare decimals.
    await expect(row.locator("td").first).to_have_text(re.compile(r"^(高|中|低|无)$"))
    link = desk.locator("#temporal-link")
    namespace = settings.temporal_namespace
    await expect(link).to_have_attribute(
        "href",
        f"{settings.temporal_ui_url}/namespaces/{namespace}/workflows/order-"
        + str(await _internal_id(database, order_id)),
    )
    await look(desk, "console-order-pending")
    await row.locator("button").click()
    await expect(desk.locator("#status")).to_have_attribute("data-status", "dispatched")
    await expect(desk.locator("#timeline li[data-event=dispatched]")).to_contain_text("中心管理员")
    await expect(desk.locator("#volunteer")).to_have_text("吴志强")
    await expect(desk.locator("#dispatch-title")).to_have_text("改派：推荐的志愿者")
    await look(desk, "console-order-dispatched")

    # An internal note: staff read it, the resident never does.
    await desk.fill("#note-text", "老人耳背，请大声说话")
    await desk.click("#note-submit")
    await expect(desk.locator("#notes li")).to_contain_text("老人耳背")
    await expect(desk.locator("#notes li")).to_contain_text(username)
    await look(desk, "console-order-note")
    assert "耳背" not in (await resident.get(f"/api/orders/{order_id}")).text

    # The volunteer does the work, the resident rates it, the call center records a complaint.
    volunteer = await people.volunteer(helper)
    await ok(await volunteer.post(f"/api/orders/{order_id}/accept"))
    await expect(desk.locator("#status")).to_have_attribute("data-status", "accepted", timeout=SLOW)
    done = {"summary": "药已送到", "hours": 1}
    await ok(await volunteer.post(f"/api/orders/{order_id}/complete", json=done))
    # On the follow-up call the resident presses 4 (dissatisfied): the task goes to staff.
    await asyncio.to_thread(sim.script, RESIDENT_PHONE, ["answer:2,4"])  # 2: the four grades
    await ok(await resident.post(f"/api/orders/{order_id}/review", json={"rating": "average"}))
    agent = await people.agent()
    task_id = (await wait_for_follow_up(agent, order_id))["id"]
    await eventually(
        lambda: agent.get(f"/api/follow-ups/{task_id}"),
        lambda r: r.json()["status"] == "open",
        what="the follow-up in the call-center queue",
    )
    await ok(await agent.post(f"/api/follow-ups/{task_id}/claim"))
    said = {"method": "phone", "outcome": "complaint", "notes": "志愿者迟到了两个小时"}
    await ok(await agent.post(f"/api/follow-ups/{task_id}/result", json=said))
    await expect(desk.locator("#dispatch")).to_be_hidden(timeout=SLOW)
    await look(desk, "console-order-closed")

    await desk.click("a[href='/console/complaints']")
    # Listed by the order's number, linked to the order's page.
    link = desk.locator(f"a[href='/console/orders/{order_id}']")
    complaint = desk.locator("#complaints-body tr", has=link)
    await expect(complaint).to_contain_text("迟到")
    await expect(complaint).to_contain_text(spoken)
    await look(desk, "console-complaints-open")
    await complaint.locator("button").click()
    await expect(desk.locator("#resolve-form")).to_be_visible()
    await desk.click("#resolve-submit")  # nothing written yet
    await expect(desk.locator("#error")).to_contain_text("请填写")
    await look(desk, "console-complaint-resolving")
    await desk.fill("#resolve-notes", "已致电居民道歉，并提醒志愿者守时")
    await desk.click("#resolve-submit")
    await expect(complaint).to_have_count(0)
    await expect(desk.locator("#resolve-form")).to_be_hidden()
    resolved = await ok(await county.get("/api/complaints", params={"township": township}))
    assert [c["status"] for c in resolved["items"]] == ["resolved"]
    await look(desk, "console-complaints-resolved")

    # A resident applies to volunteer; the admin approves.
    applicant = await people.resident("13900139001")
    applied = await applicant.post(
        "/api/volunteers/apply", json={"name": "杨", "township": township, "skills": ["care"]}
    )
    applicant_id = (await ok(applied, 201))["id"]
    await desk.click("a[href='/console/volunteers']")
    application = desk.locator(f"#apps-body tr[data-id='{applicant_id}']")
    await expect(application).to_be_visible()
    await look(desk, "console-volunteers-application")
    await application.get_by_role("button", name="批准：杨", exact=True).click()
    await expect(application).to_have_count(0)
    await expect(desk.locator(f"#vols-body tr[data-id='{applicant_id}']")).to_be_visible()
    approved = await ok(await county.get(f"/api/volunteers/{applicant_id}"))
    assert approved["active"] is True
    await look(desk, "console-volunteers-approved")


async def _internal_id(database: Database, public_id: str) -> int:
    def read(session: Session) -> int:
        return session.execute(select(Order.id).where(Order.public_id == public_id)).scalar_one()

    return await database.run(read)


async def test_a_county_admin_opens_a_call_to_the_top_candidates(
    desk: Page, live: tuple[str, Settings], people: People, database: Database, township: str
) -> None:
    url, settings = live
    county = await people.admin()
    for _ in range(3):
        await register(county, township, ["care"])
    order_id = await order_placed(people, township)
    username = await staff_account(database, Role.ADMIN, None)
    await sign_in(desk, f"{url}/console/orders/{order_id}", username)
    # Ours, and any other township's volunteers further down the ranking.
    await expect(desk.locator("#candidates-body tr").nth(2)).to_be_visible(timeout=SLOW)
    # It says whom it will reach and waits for a yes.
    ranked = await desk.locator("#candidates-body tr").count()
    reach = min(ranked, settings.open_call_size)
    await desk.click("#open-call")
    says = desk.locator("#open-call-says")
    await expect(says).to_contain_text(f"抢单将同时发给 {reach} 位志愿者")
    await look(desk, "console-order-open-call-confirm")
    await desk.click("#open-call-no")
    await expect(desk.locator("#open-call-confirm")).to_be_hidden()
    await expect(desk.locator("#status")).to_have_attribute("data-status", "pending")
    await desk.click("#open-call")
    await desk.click("#open-call-yes")
    await expect(desk.locator("#status")).to_have_attribute("data-status", "dispatched")
    await expect(desk.locator("#volunteer")).to_have_text(f"抢单中：{reach} 人")
    await expect(desk.locator("#timeline li[data-event=open_call]")).to_have_count(1)
    await look(desk, "console-order-open-call")


async def test_a_county_admin_edits_the_catalog_and_manages_the_registry(
    desk: Page, live: tuple[str, Settings], http: httpx.AsyncClient, database: Database
) -> None:
    url = live[0]
    username = await staff_account(database, Role.ADMIN, None)
    await sign_in(desk, url + "/console/catalog", username)
    await expect(desk.locator("#items-body tr[data-id='care.errands']")).to_be_visible()
    await look(desk, "console-catalog")

    code = f"care.haircut{uuid.uuid4().hex[:4]}"
    await desk.select_option("#item-category", "care")
    await desk.fill("#item-code", code)
    await desk.fill("#item-name", "上门理发")
    await desk.fill("#item-name-en", "Haircut at home")
    await desk.click("#item-submit")
    row = desk.locator(f"#items-body tr[data-id='{code}']")
    await expect(row).to_contain_text("上门理发")
    await row.get_by_role("button", name="改名：上门理发").click()
    await desk.fill("#rename-name", "上门理发剪发")
    await look(desk, "console-catalog-renaming")
    await desk.click("#rename-submit")
    await expect(row).to_contain_text("上门理发剪发")
    await row.get_by_role("button", name="停用：上门理发剪发").click()
    await expect(row).to_contain_text("已停用")
    await look(desk, "console-catalog-edited")
    menu = (await http.get("/api/catalog")).json()
    assert code not in {i["code"] for c in menu for i in c["items"]}

    # The same code twice: refused in plain words.
    await desk.fill("#item-code", code)
    await desk.fill("#item-name", "重复")
    await desk.fill("#item-name-en", "Again")
    await desk.click("#item-submit")
    await expect(desk.locator("#error")).to_contain_text("已经有这个代码")

    # A new agent's account, then disabled.
    await desk.click("a[href='/console/staff']")
    agent_name = f"agent-{uuid.uuid4().hex[:6]}"
    await desk.fill("#staff-username", agent_name)
    await desk.fill("#staff-password", STAFF_PASSWORD)
    await desk.select_option("#staff-role", "agent")
    await desk.click("#staff-submit")
    account = desk.locator("#staff-body tr", has_text=agent_name)
    await expect(account).to_contain_text("在用")
    await account.get_by_role("button", name=f"停用：{agent_name}").click()
    await expect(account).to_contain_text("已停用")

    for name in ("staff", "units", "escalations"):
        await desk.click(f"a[href='/console/{name}']")
        await expect(desk.locator("tbody tr").first).to_be_visible()
        await look(desk, f"console-{name}")
    await expect(desk.locator("a[href='/console/supervision']")).to_be_visible()


HAN = re.compile(r".{0,20}[\u4e00-\u9fff]+.{0,20}")
SCRIPT_DATA_OR_CHINESE_LINK = r'<script type="application/json".*?</script>|lang="zh-CN">中文<'
CONSOLE_PAGES = (
    "/console/",
    "/console/orders/0123456789abcdef",
    "/console/volunteers/new",
    "/console/volunteers/1",
    *(f"/console/{name}" for name in console_pages.SIMPLE),
)


async def test_every_console_page_is_chinese_or_english_and_signs_in_first(
    database: Database, settings: Settings
) -> None:
    """No page holds data (scripts fetch it after the sign-in); English leaves no Chinese."""
    async with caller(app_on(database, settings)) as web:
        for path in CONSOLE_PAGES:
            zh = await web.get(path, params={"lang": "zh-CN"})
            assert zh.status_code == 200, path
            assert '<html lang="zh-CN">' in zh.text and 'id="sign-in"' in zh.text
            assert 'href="/console/supervision"' in zh.text
            en = await web.get(path, params={"lang": "en"})
            # Besides the scripts' catalog and the link back to Chinese.
            visible = re.sub(SCRIPT_DATA_OR_CHINESE_LINK, "", en.text, flags=re.S)
            assert not HAN.search(visible), (path, HAN.findall(visible))
