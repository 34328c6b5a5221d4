"""The console's supervision screen (/console/supervision) in a real browser.

A known set of orders (tests/api/recognition_data.py) in two townships; a township admin of
both watches the figures the overview report gives, drawn by the vendored ECharts under our
Content-Security-Policy with nothing fetched from elsewhere, and sees a new overdue order
appear without a reload.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from playwright.async_api import Browser, expect

from api.database import Database
from core.settings import Settings
from core.vocab import OrderStatus, Role
from tests import signin
from tests.api.recognition_data import BASE, add_order, seed
from tests.signin import STAFF_PASSWORD, Caller, staff_username
from tests.web.conftest import DESKTOP, TABLET, inspect, new_context
from tests.web.test_docs_page import only_our_server

DESK = (DESKTOP, TABLET)


async def test_an_admin_watches_the_live_figures_and_charts_of_their_townships(
    browser: Browser, live: tuple[str, Settings], database: Database
) -> None:
    url, settings = live
    world = await database.run(seed)
    scope = [world.township, world.elsewhere]
    username = await staff_username(database, Role.ADMIN, scope)
    context = await new_context(browser, DESKTOP)
    page = await context.new_page()
    elsewhere, complaints = await only_our_server(page, url)

    await page.goto(url + "/console/supervision")
    await inspect(page, "supervision-sign-in", sizes=DESK)
    await page.fill("#username", username)
    await page.fill("#password", STAFF_PASSWORD)
    await page.click("#sign-in-submit")
    await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    # Only the admin's own townships to choose from.
    options = await page.locator("#township option").evaluate_all("(os) => os.map((o) => o.value)")
    assert options[0] == "" and sorted(options[1:]) == sorted(scope)
    # The last 30 days by default: the known orders are years ahead, so none yet.
    await expect(page.locator("#tile-received")).to_have_text("0")
    await expect(page.locator("#rows-trend tr")).to_have_count(30)
    await inspect(page, "supervision-last-30-days", sizes=DESK)

    # Every order so far: the figures are the overview report's, for the same scope.
    await page.select_option("#period", "all")
    async with httpx.AsyncClient(base_url=url) as http:
        same_scope = Caller(http, await signin.staff(database, settings, Role.ADMIN, scope))
        answer = await same_scope.get("/api/reports/overview", params={"interval": "month"})
        assert answer.status_code == 200, answer.text
        overview = answer.json()
    assert overview["received"] == 10 and overview["overdue"] == 2
    await expect(page.locator("#tile-received")).to_have_text("10")
    await expect(page.locator("#tile-overdue")).to_have_text("2")
    await expect(page.locator("#tile-completed")).to_have_text(str(overview["completed"]))
    rate = round(overview["on_time_rate"] * 100, 1)
    await expect(page.locator("#tile-on_time_rate")).to_have_text(f"{rate:g}%")
    for key in ("trend", "on-time", "ratings", "overdue"):
        await expect(page.locator(f"#chart-{key} canvas")).not_to_have_count(0)
    # The charts' figures, as tables: overdue by township, ratings before and after.
    overdue = page.locator("#rows-overdue tr")
    await expect(overdue).to_have_count(1)
    await expect(overdue.nth(0).locator("th")).to_have_text(world.township)
    await expect(overdue.nth(0).locator("td").nth(0)).to_have_text("2")
    average = page.locator("#rows-ratings tr[data-id=average] td")
    await expect(average.nth(0)).to_have_text(str(overview["ratings_reviewed"]["average"]))
    await expect(average.nth(1)).to_have_text(str(overview["ratings_verified"]["average"]))
    months = page.locator("#rows-trend tr")
    await expect(months).to_have_count(len(overview["series"]))
    await page.click("#chart-ratings + details summary")
    await inspect(page, "supervision-all", sizes=DESK)

    # A new overdue order shows without a reload.
    await database.run(
        lambda session: add_order(
            session,
            world.township,
            BASE + timedelta(days=9),
            status=OrderStatus.PENDING,
            overdue=True,
        )
    )
    await expect(page.locator("#tile-overdue")).to_have_text("3", timeout=10_000)
    await expect(overdue.nth(0).locator("td").nth(0)).to_have_text("3")
    await expect(page.locator("#summary")).to_contain_text("超时 3 单")

    # One township: the other one's orders leave the figures.
    await page.select_option("#township", world.elsewhere)
    await expect(page.locator("#tile-received")).to_have_text("1")
    await expect(page.locator("#tile-overdue")).to_have_text("0")
    await expect(page.locator("#rows-overdue tr.empty")).to_have_count(1)
    await inspect(page, "supervision-one-township", sizes=DESK)

    # In English: the page's words and ECharts' own (its English locale).
    await page.goto(url + "/console/supervision?lang=en")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    await expect(page.locator("#tiles")).to_contain_text("72-hour on-time rate")
    await expect(page.locator("#chart-trend canvas")).not_to_have_count(0)
    await inspect(page, "supervision-english", sizes=DESK)

    assert elsewhere == []
    assert complaints == []
    await context.close()
