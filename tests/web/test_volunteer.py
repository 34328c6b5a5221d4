"""The volunteer's app in a real browser (Debian's Chromium) against the live system.

The whole loop as people live it: a resident orders on the resident's page, an admin
dispatches through the API, the volunteer opens the link in the dispatch SMS, signs in,
accepts, arrives and leaves, reports the work with a photo and hands the phone to the resident
for the on-site review; the follow-up closes it and the resident sees it verified.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.async_api import Browser, Page, expect
from sqlalchemy import delete
from sqlalchemy.orm import Session

from api.database import Database
from core.models import HonourRoll
from core.settings import Settings
from core.vocab import Role
from tests import signin
from tests.integration.test_dispatch_http import new_team, phone, retire, volunteer
from tests.integration.test_http_lifecycle import ok, wait_for_follow_up
from tests.polling import eventually
from tests.signin import Caller
from tests.web.conftest import DESKTOP, inspect, new_context
from tests.web.test_console import sign_in as staff_sign_in
from tests.web.test_console import staff_account
from twilio_sim import SimControl

RESIDENT_PHONE = "13800138000"


async def texts_to(sim: SimControl, phone: str, containing: str) -> list[str]:
    texts = await asyncio.to_thread(sim.messages)
    return [m["body"] for m in texts if m["to"] == "+86" + phone and containing in m["body"]]


async def sign_in(page: Page, sim: SimControl, phone: str) -> None:
    """Sign in on the page with the code our SMS brings (the same form in every app)."""
    await page.fill("#phone", phone)
    await page.click("#send-code")
    await expect(page.locator("#code-sent")).to_be_visible()
    [body] = (await texts_to(sim, phone, "验证码"))[-1:]
    code = re.search(r"验证码是(\d{6})", body)
    assert code is not None, body
    await page.fill("#code", code.group(1))
    await page.click("#sign-in-submit")
    await expect(page.locator("#sign-in")).to_be_hidden()


async def resident_orders(
    page: Page, live_url: str, sim: SimControl, township: str, village: str | None = None
) -> str:
    await page.goto(live_url + "/orders/new")
    await page.check("input[name=item_code][value='care.errands']")
    await page.fill("#reason", "老人腿脚不便，需要代买降压药")
    await page.select_option("#township", township)
    if village is not None:
        await expect(page.locator("#village_id")).to_be_enabled()
        await page.select_option("#village_id", label=village)
    await page.fill("#address", "龙井社区3组12号")
    await page.fill("#resident_name", "龙秀英")
    await page.click("#submit")  # the sign-in is asked here; then the order goes in
    await sign_in(page, sim, RESIDENT_PHONE)
    await page.wait_for_url(re.compile(r"/orders/[A-Za-z0-9_-]{16}$"))
    return page.url.rsplit("/", 1)[1]


async def ordered_by_api(resident: Caller, township: str) -> str:
    """An order the resident placed through the API: its public id."""
    order = {
        "item_code": "care.errands",
        "reason": "帮忙买米",
        "township": township,
        "address": "龙井社区1组",
        "resident_name": "龙秀英",
    }
    return str((await ok(await resident.post("/api/orders", json=order), 201))["id"])


async def dispatch_link(sim: SimControl, mobile: str, order_id: str) -> str:
    """The link in the dispatch SMS to the volunteer's phone."""
    [sms] = await eventually(lambda: texts_to(sim, mobile, order_id), bool, what="the SMS")
    link = re.search(r"(http://\S+/volunteer/orders/\S+\?t=[^\s，。]+)", sms)
    assert link is not None and order_id in link.group(1), sms
    return link.group(1)


@pytest.fixture
def live_settings(live_settings: Settings) -> Settings:
    # No robot call: the follow-up waits for a call-center agent, whom the test plays.
    return live_settings.model_copy(update={"follow_up_max_calls": 0})


@pytest.fixture
async def http(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_url) as client:
        yield client


@pytest.fixture
async def admin(http: httpx.AsyncClient, live: tuple[str, Settings], database: Database) -> Caller:
    return Caller(http, await signin.staff(database, live[1]))


@pytest.fixture
async def resident(
    http: httpx.AsyncClient, live: tuple[str, Settings], database: Database
) -> Caller:
    return Caller(http, await signin.resident(database, live[1], RESIDENT_PHONE))


async def one_row_header(page: Page) -> None:
    """The app's header on a 360-px phone: one row, every link whole and on screen."""
    boxes = await page.evaluate(
        """() => [...document.querySelectorAll("header.bar a")].map((a) => {
            const r = a.getBoundingClientRect();
            return { top: r.top, right: r.right, height: r.height };
        })"""
    )
    assert len({round(b["top"]) for b in boxes}) == 1, boxes
    assert all(b["right"] <= 360 and b["height"] < 60 for b in boxes), boxes
    bar = await page.locator("header.bar").bounding_box()
    assert bar is not None and bar["height"] < 70, bar


# A period after every real one: the latest published roll while the test runs, then removed.
ROLL = "2999-12"


def published_roll(session: Session, volunteer_id: int) -> None:
    """An honour roll the center published, with the volunteer first (world set-up)."""
    at = datetime(2999, 12, 1, tzinfo=UTC)
    entry = {
        "rank": 1,
        "id": volunteer_id,
        "score": 0.9,
        "verified_hours": 0.5,
        "very_satisfied_share": 1.0,
        "on_time_rate": 1.0,
        "complaints": 0,
    }
    session.add(
        HonourRoll(
            period=ROLL,
            starts_at=at,
            ends_at=at,
            computed_at=at,
            weights={},
            volunteers=[entry],
            units=[],
            published_at=at,
        )
    )


def removed_roll(session: Session) -> None:
    session.execute(delete(HonourRoll).where(HonourRoll.period == ROLL))


def small_jpeg(folder: Path) -> Path:
    """A real photo file, as a phone's camera would hand it to the file input."""
    picture = Image.new("RGB", (64, 48), (200, 120, 40))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85)
    path = folder / "work.jpg"
    path.write_bytes(out.getvalue())
    return path


async def test_a_volunteer_takes_an_order_from_the_sms_link_to_the_on_site_review(
    page: Page,
    browser: Browser,
    live: tuple[str, Settings],
    sim: SimControl,
    database: Database,
    township: str,
    tmp_path: Path,
    admin: Caller,
) -> None:
    live_url, settings = live
    mobile = phone()
    village = {"township": township, "name": "龙井社区"}
    await ok(await admin.post("/api/villages", json=village), 201)
    order_id = await resident_orders(page, live_url, sim, township, village="龙井社区")
    v = await volunteer(admin, township, name="吴", phone=mobile, skills=["care"])
    dispatch = {"volunteer_id": v, "reason": "老人急需降压药"}
    await ok(await admin.post(f"/api/orders/{order_id}/dispatch", json=dispatch))
    link = await dispatch_link(sim, mobile, order_id)

    # The volunteer's own phone: the SMS link opens the order as theirs to answer, with what
    # they decide on (the village, the dispatcher's note, when to answer by) and no personal
    # data until they accept it.
    handset = await new_context(browser)
    vp = await handset.new_page()
    await vp.goto(link)
    await expect(vp.locator("#status")).to_have_attribute("data-status", "dispatched")
    await expect(vp.locator("#link-hint")).to_be_visible()
    await expect(vp.locator("#respond")).to_be_visible()
    await expect(vp.locator("#sign-in")).to_be_hidden()
    await expect(vp.locator("#place")).to_have_text(f"{township} · 龙井社区")
    await expect(vp.locator("#dispatch-note")).to_have_text("老人急需降压药")
    await expect(vp.locator("#accept-by")).to_contain_text("前答复")
    # The text and the page name the same moment to answer by.
    [sms] = await texts_to(sim, mobile, order_id)
    answer = re.search(r"请于(\d+)月(\d+)日(\d\d:\d\d)前答复", sms)
    assert answer is not None, sms
    month, day, clock = answer.groups()
    await expect(vp.locator("#accept-by")).to_contain_text(clock)
    await expect(vp.locator("#accept-by")).to_contain_text(f"{month}月{day}日")
    await expect(vp.locator("#contact")).to_be_hidden()
    await expect(vp.locator("#reason")).to_be_hidden()
    assert "龙秀英" not in await vp.locator("#work").inner_text()
    assert "龙井社区3组12号" not in await vp.locator("#work").inner_text()
    assert "?t=" not in vp.url  # the code leaves the address bar
    await inspect(vp, "volunteer-order-from-sms")

    await vp.click("#accept")
    await expect(vp.locator("#status")).to_have_attribute("data-status", "accepted")
    await expect(vp.locator("#contact-phone")).to_have_attribute("href", "tel:+86" + RESIDENT_PHONE)
    await expect(vp.locator("#contact-address")).to_contain_text("龙井社区3组12号")
    await expect(vp.locator("#map-link")).to_have_attribute("href", re.compile(r"^https://"))
    await expect(vp.locator("#reason")).to_have_text("老人腿脚不便，需要代买降压药")
    await expect(vp.locator("#contact-name")).to_have_text("龙秀英")
    await expect(vp.locator("#contact-number")).to_have_text("138 0013 8000")  # as people say it
    await expect(vp.locator("#accept-by")).to_be_hidden()  # answered
    # Nothing wider than a 360-px phone (a long number or address must wrap, not scroll).
    assert await vp.evaluate("document.documentElement.scrollWidth") <= 360
    await inspect(vp, "volunteer-order-accepted")

    # The inbox needs their own sign-in; it lists what they hold, and its card leads back.
    await vp.goto(live_url + "/volunteer/")
    await sign_in(vp, sim, mobile)
    card = vp.locator(f"#assigned a[data-order='{order_id}']")
    await expect(card).to_contain_text("代购代办")
    await expect(vp.locator("#offered-empty")).to_be_visible()
    await one_row_header(vp)
    await inspect(vp, "volunteer-inbox")
    await card.click()
    await vp.wait_for_url(f"**/volunteer/orders/{order_id}")
    await expect(vp.locator("#link-hint")).to_be_hidden()

    await vp.click("#check-in")
    await expect(vp.locator("#check-out")).to_be_visible()
    await expect(vp.locator("#checked-in")).to_contain_text("北京时间")
    await inspect(vp, "volunteer-checked-in")
    await vp.click("#check-out")
    await expect(vp.locator("#checked-out")).to_contain_text("北京时间")
    await expect(vp.locator("#hours")).to_have_value("0.5")  # proposed from the two times

    # Every refused file is named with its reason, none dropped in silence: too big, not a
    # picture at all, and one the server cannot read though it is called .jpg.
    too_big = tmp_path / "huge.jpg"
    too_big.write_bytes(small_jpeg(tmp_path).read_bytes() + bytes(5 * 1024 * 1024))
    notes = tmp_path / "notes.txt"
    notes.write_text("不是照片", encoding="utf-8")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not really a jpeg")
    await vp.set_input_files("#photo", [str(too_big), str(notes), str(broken)])
    refusals = vp.locator("#photo-refusals li")
    await expect(refusals).to_have_count(3)
    await expect(refusals.nth(0)).to_contain_text("huge.jpg")
    await expect(refusals.nth(0)).to_contain_text("5MB")
    await expect(refusals.nth(1)).to_contain_text("notes.txt")
    await expect(refusals.nth(2)).to_contain_text("broken.jpg")
    await expect(vp.locator("#photos img")).to_have_count(0)
    await inspect(vp, "volunteer-photos-refused")
    # 拍照 beside 从相册选: the camera's input (capture) and the album's.
    await expect(vp.locator("label[for=camera]")).to_have_text("拍照")
    await expect(vp.locator("#camera")).to_have_attribute("capture", "environment")
    await vp.set_input_files("#camera", str(small_jpeg(tmp_path)))
    await expect(vp.locator("#photos img[src^='data:image/']")).to_have_count(1)
    await expect(refusals).to_have_count(0)
    shown = "(img) => img.decode().then(() => img.naturalWidth)"
    assert await vp.locator("#photos img").evaluate(shown)  # a picture, not a broken icon
    # A wrong shot is taken back before completing: it is not attached.
    await vp.set_input_files("#photo", str(small_jpeg(tmp_path)))
    await expect(vp.locator("#photos img[src^='data:image/']")).to_have_count(2)
    await vp.locator("#photos li").nth(1).get_by_role("button", name="删除这张照片").click()
    await expect(vp.locator("#photos img")).to_have_count(1)
    # After a reload the photo kept is still there, still this completion's.
    await vp.reload()
    await expect(vp.locator("#photos img[src^='data:image/']")).to_have_count(1)
    await expect(vp.locator("#hours")).to_have_value("0.5")
    await vp.click("#complete")  # no summary yet
    await expect(vp.locator("#error")).to_contain_text("做了什么")
    await vp.fill("#summary-text", "降压药已买好送到家，交给老人本人")
    await inspect(vp, "volunteer-completing")
    await vp.click("#complete")
    await expect(vp.locator("#status")).to_have_attribute("data-status", "completed")
    await expect(vp.locator("#handover")).to_be_visible()
    await expect(vp.locator("#result-note")).to_have_text("降压药已买好送到家，交给老人本人")
    await expect(vp.locator("#result-photos img[src^='data:image/']")).to_have_count(1)
    await inspect(vp, "volunteer-order-completed")

    # The resident holds the phone: four large grades and nothing else.
    await vp.click("#start-review")
    await expect(vp.locator("#review-screen")).to_be_visible()
    await expect(vp.locator("#work")).to_be_hidden()
    box = await vp.locator("label.grade").first.bounding_box()
    assert box is not None and box["height"] >= 64, box
    await inspect(vp, "volunteer-on-site-review")
    await vp.click("#review-submit")
    await expect(vp.locator("#error")).to_contain_text("请选择")
    await inspect(vp, "volunteer-on-site-review-unpicked")
    await vp.click("label.grade:has(input[value=very_satisfied])")
    await vp.click("#review-submit")
    await expect(vp.locator("#review-thanks")).to_be_visible()
    await inspect(vp, "volunteer-review-thanks")
    await vp.click("#review-back")
    await expect(vp.locator("#result-rating")).to_contain_text("非常满意（现场填写）")

    agent = Caller(admin.client, await signin.staff(database, settings, Role.AGENT))
    task = await wait_for_follow_up(agent, order_id)
    done = {"method": "phone", "outcome": "confirmed"}
    await ok(await agent.post(f"/api/follow-ups/{task['id']}/claim"))
    closed = await ok(await agent.post(f"/api/follow-ups/{task['id']}/result", json=done))
    assert closed["status"] == "closed"
    assert closed["review_channel"] == "on_site"
    # The photo went with the completion (the agent, no longer holding the task, sees none).
    assert closed["photos"] == []
    assert [p["photo_id"] for p in (await ok(await admin.get(f"/api/orders/{order_id}")))["photos"]]

    # The volunteer's page and the resident's page follow without a reload.
    await expect(vp.locator("#status")).to_have_attribute("data-status", "closed")
    await expect(vp.locator("#result-verified")).to_contain_text("非常满意")
    await inspect(vp, "volunteer-order-closed")
    await expect(page.locator("#status")).to_have_attribute("data-status", "closed")
    # As the follow-up call verified it.
    await expect(page.locator("#rating")).to_have_text("非常满意（回访已确认）")
    await inspect(page, "resident-order-closed-by-volunteer")

    await database.run(published_roll, v)
    await vp.goto(live_url + "/volunteer/record")
    await expect(vp.locator("#orders-completed")).to_have_text("1")
    await expect(vp.locator("#orders-on-time")).to_have_text("1")
    await expect(vp.locator("#held-empty")).to_be_visible()  # closed: no longer in hand
    # Hours and stars come from the service record where the server has it.
    await expect(vp.locator("#hours-card:visible, #hours-unavailable:visible")).to_have_count(1)
    # The orders they did, each back to its page, with the hours as the record counts them.
    past = vp.locator(f"#past a[data-order='{order_id}']")
    await expect(past).to_contain_text("代购代办")
    await expect(past).to_contain_text("0.5小时（已核实）")
    await expect(past).to_contain_text("非常满意")
    # The latest honour roll the center published, their own line marked.
    await expect(vp.locator("#roll li.me")).to_have_text("吴，核实时长0.5小时（我）")
    await inspect(vp, "volunteer-record")
    # The certificate: a real PDF, downloaded from the page.
    async with vp.expect_download() as download_info:
        await vp.click("#certificate")
    download = await download_info.value
    assert download.suggested_filename.endswith(".pdf")
    saved = tmp_path / "certificate.pdf"
    await download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    await handset.close()
    await database.run(removed_roll)
    # Last: a retired volunteer's link and sign-in stop working within seconds.
    await retire(admin, v)


async def test_the_app_installs_and_its_worker_keeps_no_personal_data(
    page: Page,
    live_url: str,
    sim: SimControl,
    http: httpx.AsyncClient,
    admin: Caller,
    township: str,
) -> None:
    manifest = await http.get("/volunteer/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert manifest.json()["scope"] == "/volunteer/"
    for icon in manifest.json()["icons"]:
        got = await http.get(icon["src"])
        assert got.status_code == 200 and got.headers["content-type"] == icon["type"], icon
    worker = await http.get("/volunteer/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "script-src 'self'" in worker.headers["content-security-policy"]
    mobile = phone()
    v = await volunteer(admin, township, name="吴", phone=mobile)

    await page.goto(live_url + "/volunteer/?lang=en")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("h1")).to_have_text("Volunteer orders")
    await inspect(page, "volunteer-sign-in-en")
    await page.goto(live_url + "/volunteer/?lang=zh-CN")
    await expect(page.locator("#sign-in")).to_be_visible()
    await inspect(page, "volunteer-sign-in")
    scope = await page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == live_url + "/volunteer/"
    await sign_in(page, sim, mobile)
    await expect(page.locator("#inbox")).to_be_visible()
    await expect(page.locator("#open_calls-empty")).to_be_visible()
    await inspect(page, "volunteer-inbox-empty")
    # Once installed, the worker answers the app's requests (it controls the page on reload).
    await page.reload()
    await expect(page.locator("#inbox")).to_be_visible()
    assert await page.evaluate("navigator.serviceWorker.controller !== null")
    cached: list[str] = await page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const request of await cache.keys()) urls.push(request.url);
            }
            return urls;
        }"""
    )
    assert live_url + "/static/js/volunteer.js" in cached
    assert not [u for u in cached if "/api/" in u], cached
    await retire(admin, v)


async def test_a_leader_assigns_an_order_of_their_team_to_a_member(
    page: Page,
    live: tuple[str, Settings],
    sim: SimControl,
    database: Database,
    admin: Caller,
    resident: Caller,
    township: str,
) -> None:
    settings = live[1]
    mobile = phone()
    leader = await volunteer(admin, township, name="杨队长", phone=mobile)
    member = await volunteer(admin, township, name="石小梅", skills=["care"])
    team = await new_team(admin, township, leader, "松桃")
    await ok(await admin.post(f"/api/volunteers/{member}/transfer", json={"unit_id": team["id"]}))
    order_id = await ordered_by_api(resident, township)
    await ok(await admin.post(f"/api/orders/{order_id}/dispatch", json={"unit_id": team["id"]}))

    # The dispatch SMS reaches the leader; handing the order on needs their own sign-in.
    await page.goto(await dispatch_link(sim, mobile, order_id))
    await expect(page.locator("#sign-in-hint")).to_be_visible()
    await expect(page.locator("#respond")).to_be_hidden()
    await inspect(page, "volunteer-leader-from-sms")
    await sign_in(page, sim, mobile)
    await expect(page.locator("#sign-in-hint")).to_be_hidden()
    await expect(page.locator("#assign")).to_be_visible()
    await expect(page.locator("#respond")).to_be_hidden()
    await expect(page.locator(f"#member option[value='{member}']")).to_have_text("石小梅")
    await inspect(page, "volunteer-leader-assign")
    await page.click("#assign-submit")  # nobody chosen
    await expect(page.locator("#error")).to_contain_text("队员")
    await page.select_option("#member", str(member))
    await page.click("#assign-submit")
    await expect(page.locator("#events li[data-event=assigned]")).to_have_count(1)
    await expect(page.locator("#assign")).to_be_hidden()
    await inspect(page, "volunteer-leader-assigned")

    as_member = Caller(admin.client, await signin.volunteer(database, settings, member))
    inbox = await ok(await as_member.get("/api/me/inbox"))
    assert [o["order_id"] for o in inbox["offered"]] == [order_id]
    await retire(admin, leader, member)


async def test_a_volunteer_who_cannot_go_says_why_and_the_order_returns_to_the_center(
    page: Page, live_url: str, sim: SimControl, admin: Caller, resident: Caller, township: str
) -> None:
    mobile = phone()
    v = await volunteer(admin, township, name="麻", phone=mobile, skills=["care"])
    order_id = await ordered_by_api(resident, township)
    await ok(await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": v}))
    await page.goto(await dispatch_link(sim, mobile, order_id))
    await expect(page.locator("#respond")).to_be_visible()
    await page.click("#decline")  # no reason yet
    await expect(page.locator("#error")).to_contain_text("原因")
    await expect(page.locator("#decline-reason")).to_have_attribute("aria-invalid", "true")
    await inspect(page, "volunteer-decline-needs-a-reason")
    await page.fill("#decline-reason", "今天在县城住院陪护，去不了")
    await page.click("#decline")
    await page.wait_for_url(f"{live_url}/volunteer/")

    back = await ok(await admin.get(f"/api/orders/{order_id}"))
    assert back["status"] == "pending"
    [declined] = [e for e in back["timeline"] if e["event"] == "declined"]
    assert declined["note"] == "今天在县城住院陪护，去不了"  # the reason reaches the center
    await retire(admin, v)


async def test_an_open_call_nearby_is_taken_from_the_inbox(
    page: Page, live_url: str, sim: SimControl, admin: Caller, resident: Caller, township: str
) -> None:
    mobile = phone()
    first = await volunteer(admin, township, name="龙", phone=mobile, skills=["care"])
    second = await volunteer(admin, township, name="田", skills=["care"])
    order_id = await ordered_by_api(resident, township)
    both = {"volunteer_ids": [first, second]}
    await ok(await admin.post(f"/api/orders/{order_id}/open-call", json=both))

    await page.goto(live_url + "/volunteer/")
    await sign_in(page, sim, mobile)
    card = page.locator(f"#open_calls a[data-order='{order_id}']")
    await expect(card).to_contain_text("抢单截止")
    await expect(card).to_contain_text(township)
    await inspect(page, "volunteer-inbox-open-call")
    await card.click()
    await expect(page.locator("#respond")).to_be_visible()
    await page.click("#accept")
    await expect(page.locator("#status")).to_have_attribute("data-status", "accepted")
    await page.click("text=← 我的单子")
    await expect(page.locator(f"#assigned a[data-order='{order_id}']")).to_have_count(1)
    await expect(page.locator("#open_calls-empty")).to_be_visible()
    # The same inbox in English: the scripts' words come from the catalog too.
    await page.goto(live_url + "/volunteer/?lang=en")
    held = page.locator(f"#assigned a[data-order='{order_id}']")
    await expect(held.locator(".status")).to_have_text("Accepted: go and help")
    await expect(held.locator(".when")).to_contain_text("Deadline: ")
    # Longer English words wrap the header's links by whole words, never off a 360-px screen.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await inspect(page, "volunteer-inbox-en")
    await retire(admin, first, second)


async def test_a_newcomer_applies_an_admin_approves_and_the_newcomer_sees_the_inbox(
    page: Page,
    browser: Browser,
    live_url: str,
    sim: SimControl,
    database: Database,
    township: str,
    admin: Caller,
) -> None:
    await ok(await admin.post("/api/villages", json={"township": township, "name": "长兴村"}), 201)
    mobile = phone()
    # A newcomer signs in on the volunteer app and is shown where to apply.
    await page.goto(live_url + "/volunteer/")
    await sign_in(page, sim, mobile)
    await expect(page.locator("#not-volunteer")).to_be_visible()
    await page.click("#not-volunteer a[href='/volunteer/apply']")
    await page.wait_for_url("**/volunteer/apply")
    await expect(page.locator("#apply-form")).to_be_visible()  # still signed in
    await inspect(page, "volunteer-apply")
    await page.click("#apply-submit")
    await expect(page.locator("#name-error")).to_contain_text("姓名")
    await inspect(page, "volunteer-apply-incomplete")
    await page.fill("#name", "杨春花")
    await page.select_option("#township", township)
    await expect(page.locator("#village_id")).to_be_enabled()
    await page.select_option("#village_id", label="长兴村")
    await page.check("#skills label:has-text('关爱帮扶') input")  # by its Chinese name
    await page.check("#days label:has-text('周六') input")
    await page.check("#days label:has-text('周日') input")
    await page.fill("#from", "08:30")
    await page.fill("#to", "12:00")
    await page.click("#apply-submit")
    await expect(page.locator("#applied")).to_be_visible()
    await inspect(page, "volunteer-applied")

    # An admin sees it in the console's applications, in words, and approves it.
    desk = await (await new_context(browser, DESKTOP)).new_page()
    await staff_sign_in(
        desk, live_url + "/console/", await staff_account(database, Role.ADMIN, None)
    )
    await desk.click("a[href='/console/applications']")
    row = desk.locator("#applications-body tr", has_text="杨春花")
    await expect(row).to_contain_text("长兴村")
    await expect(row).to_contain_text("关爱帮扶")
    await expect(row).to_contain_text("周六 08:30–12:00")
    assert mobile[-4:] in await row.inner_text() and mobile not in await row.inner_text()
    await inspect(desk, "console-applications", sizes=(DESKTOP,))
    await row.get_by_role("button", name="批准：杨春花", exact=True).click()
    await expect(row).to_have_count(0)
    await expect(desk.locator("#decided")).to_contain_text("已批准")
    await inspect(desk, "console-applications-approved", sizes=(DESKTOP,))
    await desk.context.close()

    # Approved: the same sign-in now opens the volunteer inbox.
    await page.click("#applied a[href='/volunteer/']")
    await expect(page.locator("#inbox")).to_be_visible()
    await expect(page.locator("#not-volunteer")).to_be_hidden()
    await inspect(page, "volunteer-inbox-after-approval")
    await page.goto(live_url + "/volunteer/apply")
    await expect(page.locator("#already")).to_be_visible()
    [me] = (await ok(await admin.get("/api/volunteers", params={"township": township})))["items"]
    assert me["name"] == "杨春花" and me["active"] and me["skills"] == ["care"]
    assert me["availability"] == [
        {"weekday": 5, "start": "08:30", "end": "12:00"},
        {"weekday": 6, "start": "08:30", "end": "12:00"},
    ]
    await retire(admin, me["id"])
