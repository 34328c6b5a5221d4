"""Pages in a real browser (Debian's Chromium) against the live system.

``live`` serves the real app over HTTP with a worker; ``page`` opens a phone-sized tab;
``inspect(page, name)`` is what every page test calls in every state it passes through: axe-core
finds no WCAG 2.1 A/AA violation, and screenshots at a phone's and a desktop's width land in
``SCREENSHOTS`` (default ``build/screenshots/``, named in docs/testing.md) for people to look at.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from sqlalchemy import Engine
from temporalio.client import Client

from api.main import create_app
from core.settings import Settings
from tests.conftest import served
from tests.helpers import free_port
from tests.phones import with_twilio
from twilio_sim import ThreadedServer
from worker import build_worker

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("SCREENSHOTS") or ROOT / "build" / "screenshots")
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
async def live(
    live_settings: Settings, sim_server: ThreadedServer, temporal: Client, engine: Engine
) -> AsyncIterator[tuple[str, Settings]]:
    """The real app (and a worker with the same settings) behind a real HTTP server."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = with_twilio(live_settings, api_base_url=sim_server.base_url, public_base_url=url)
    app = create_app(settings, reconcile_every=timedelta(hours=1))
    with ThreadPoolExecutor(max_workers=settings.worker_max_concurrent_activities) as pool:
        async with (
            build_worker(temporal, engine, settings, executor=pool),
            served(app, port=port),
        ):
            yield url, settings


@pytest.fixture
def live_url(live: tuple[str, Settings]) -> str:
    return live[0]


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


async def new_context(browser: Browser, viewport: dict[str, int] = PHONE) -> BrowserContext:
    """A fresh tab group (its own sign-in), Chinese, the county's zone, a phone by default."""
    return await browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport=viewport,  # type: ignore[arg-type]
    )


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await new_context(browser)
    yield await context.new_page()
    await context.close()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now.

    axe is evaluated as a function body, not injected as a script tag, so the page's own
    Content-Security-Policy (script-src 'self') stays in force for everything else.
    """
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    found: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
            }));
        }""",
        WCAG,
    )
    return found


async def inspect(
    page: Page, name: str, *, sizes: tuple[dict[str, int], ...] = (PHONE, DESKTOP)
) -> None:
    """Accessibility and screenshots for one page in one state (call it in every state).

    Each size gets its own axe run too: a layout can fail contrast or overlap at one width only.
    """
    original = page.viewport_size
    try:
        for size in sizes:
            await page.set_viewport_size(size)  # type: ignore[arg-type]
            await page.wait_for_timeout(50)  # one layout pass after the resize
            violations = await axe_violations(page)
            assert not violations, f"{name} at {size['width']} px:\n" + json.dumps(
                violations, ensure_ascii=False, indent=1
            )
            await page.screenshot(path=str(SHOTS / f"{name}-{size['width']}.png"), full_page=True)
    finally:
        if original is not None:
            await page.set_viewport_size(original)
