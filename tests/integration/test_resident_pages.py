"""The resident's pages in a real browser (Debian's Chromium) against the live system."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright, expect

from api.main import create_app
from core.settings import Settings

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/fourorders-screens"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def live_url(live_settings: Settings, worker: None) -> AsyncIterator[str]:
    """The real app behind a real HTTP server, as a browser needs it."""
    port = free_port()
    app = create_app(live_settings, reconcile_every=timedelta(hours=1))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                task.result()  # it failed to start: say why
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
def chromium() -> str:
    assert Path(CHROMIUM).exists(), f"Chromium is needed at {CHROMIUM} (apt-get install chromium)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="zh-CN", viewport={"width": 480, "height": 900})
    yield await context.new_page()
    await context.close()


async def fill_order(page: Page, township: str) -> None:
    await page.select_option("#item_code", "care.errands")
    await page.fill("#reason", "老人腿脚不便，需要代买降压药")
    await page.select_option("#township", township)
    await page.fill("#address", "龙井社区3组12号")
    await page.fill("#resident_name", "龙秀英")
    await page.fill("#resident_phone", "138 0013 8000")


async def test_a_resident_orders_help_follows_it_and_rates_it(
    page: Page, live_url: str, township: str
) -> None:
    await page.goto(live_url + "/")
    await expect(page.locator("#item_code option[value='care.errands']")).to_have_count(1)
    await fill_order(page, township)
    # A double click must still make one order.
    await page.click("#submit", click_count=2)
    await page.wait_for_url("**/orders/*")
    order_id = int(page.url.rsplit("/", 1)[1])
    await expect(page.locator("#status")).to_have_attribute("data-status", "pending")
    await expect(page.locator("#timeline li[data-event=submitted]")).to_have_count(1)
    await page.screenshot(path=str(SHOTS / "order-pending.png"), full_page=True)

    async with httpx.AsyncClient(base_url=live_url) as api:
        listed = (await api.get("/api/orders", params={"township": township})).json()
        assert [o["id"] for o in listed["items"]] == [order_id]
        phone = "13712345678"
        v = (
            await api.post(
                "/api/volunteers",
                json={"name": "吴", "phone": phone, "township": township, "skills": ["care"]},
            )
        ).json()["id"]
        for step, body in (
            ("dispatch", {"volunteer_id": v}),
            ("accept", {"volunteer_id": v}),
            ("complete", {"volunteer_id": v, "summary": "药已送到", "hours": 1}),
        ):
            assert (await api.post(f"/api/orders/{order_id}/{step}", json=body)).status_code == 200

    await page.reload()
    await expect(page.locator("#review-form")).to_be_visible()
    await page.click("#review-submit")  # nothing picked yet
    await expect(page.locator("#error")).to_contain_text("请选择")
    await page.check("input[name=rating][value=satisfied]")
    await page.fill("#comment", "志愿者很耐心")
    await page.click("#review-submit")
    await expect(page.locator("#status")).to_have_attribute("data-status", "reviewed")
    await expect(page.locator("#rating")).to_have_text("满意")
    await expect(page.locator("#review-form")).to_be_hidden()
    await page.screenshot(path=str(SHOTS / "order-reviewed.png"), full_page=True)

    async with httpx.AsyncClient(base_url=live_url) as api:
        order = (await api.get(f"/api/orders/{order_id}")).json()
    assert order["review_rating"] == "satisfied"
    assert next(e for e in order["timeline"] if e["event"] == "reviewed")["note"] == "志愿者很耐心"


async def test_the_form_explains_what_is_missing_and_submits_nothing(
    page: Page, live_url: str, township: str
) -> None:
    await page.goto(live_url + "/")
    await expect(page.locator("#township option")).not_to_have_count(1)
    await fill_order(page, township)
    await page.fill("#reason", "")
    await page.click("#submit")
    await expect(page.locator("#error")).to_contain_text("申请事由")
    await page.fill("#reason", "需要帮助")
    await page.fill("#resident_phone", "12")
    await page.click("#submit")
    await expect(page.locator("#error")).to_contain_text("resident_phone")
    assert "/orders/" not in page.url
    async with httpx.AsyncClient(base_url=live_url) as api:
        listed = (await api.get("/api/orders", params={"township": township})).json()
    assert listed["total"] == 0
