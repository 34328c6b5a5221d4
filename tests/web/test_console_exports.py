"""An admin exports from the console: the order list as filtered, and the supervision report.

The files are downloaded as the browser saves them and read back (CSV and XLSX).
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from playwright.async_api import Download, Page, expect

from api.database import Database
from core.settings import Settings
from core.vocab import Role
from tests.integration.test_http_lifecycle import ok, order_placed, register
from tests.signin import People
from tests.web.test_console import SLOW, desk, http, look, people, sign_in, staff_account

__all__ = ["desk", "http", "people"]  # fixtures shared with the console's


async def saved(page: Page, button: str) -> tuple[str, bytes]:
    """Click ``button`` and return the file the browser saved: its name and bytes."""
    async with page.expect_download(timeout=SLOW) as started:
        await page.click(button)
    download: Download = await started.value
    path = await download.path()
    return download.suggested_filename, await asyncio.to_thread(Path(path).read_bytes)


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_an_admin_exports_the_months_orders_as_filtered_and_the_report(
    desk: Page,
    live: tuple[str, Settings],
    people: People,
    database: Database,
    township: str,
) -> None:
    url, settings = live
    county = await people.admin()
    helper = await register(county, township, ["care"])
    orders = [await order_placed(people, township) for _ in range(3)]
    dispatched = orders[0]
    await ok(await county.post(f"/api/orders/{dispatched}/dispatch", json={"volunteer_id": helper}))
    numbers = {o: (await ok(await county.get(f"/api/orders/{o}")))["number"] for o in orders}
    today = datetime.now(ZoneInfo(settings.county_timezone)).date()
    first = today.replace(day=1)

    username = await staff_account(database, Role.ADMIN, None)
    await sign_in(desk, url + "/console/orders", username)
    await desk.select_option("#f-township", township)
    await desk.fill("#f-since", first.isoformat())
    await desk.fill("#f-until", today.isoformat())
    await desk.select_option("#f-status", "pending")
    await desk.click("#filters button[type=submit]")
    await expect(desk.locator("#orders-body tr")).to_have_count(2, timeout=SLOW)
    await look(desk, "console-orders-export")

    # What the list shows, no more: this month's pending orders of the township.
    name, body = await saved(desk, "#export-csv")
    assert name == "四单订单清单.csv"
    header, *rows = csv_rows(body)
    assert header[0] == "订单号" and "电话" not in header
    pending = {numbers[o] for o in orders[1:]}
    assert {r[0] for r in rows} == pending
    assert {r[header.index("状态")] for r in rows} == {"待派单"}
    assert {r[header.index("乡镇")] for r in rows} == {township}
    name, body = await saved(desk, "#export-xlsx")
    assert name == "四单订单清单.xlsx"
    sheet = load_workbook(io.BytesIO(body))["订单清单"]
    header_cells, *lines = list(sheet.iter_rows(values_only=True))
    assert header_cells[0] == "订单号"
    assert {line[0] for line in lines} == pending

    # A search narrows the export as it narrows the list.
    await desk.fill("#f-q", numbers[orders[2]])
    await desk.click("#filters button[type=submit]")
    await expect(desk.locator("#orders-body tr")).to_have_count(1, timeout=SLOW)
    _, body = await saved(desk, "#export-csv")
    assert [r[0] for r in csv_rows(body)[1:]] == [numbers[orders[2]]]

    # The supervision screen's figures for the township, as a spreadsheet and the orders.
    await desk.click("a[href='/console/supervision']")
    await desk.select_option("#township", township)
    await expect(desk.locator("#tile-received")).to_have_text("3", timeout=SLOW)
    await look(desk, "console-supervision-export")
    name, body = await saved(desk, "#export-overview-xlsx")
    assert name == "四单服务统计.xlsx"
    figures = load_workbook(io.BytesIO(body)).worksheets[0]
    values = {row[0]: row[1] for row in figures.iter_rows(min_row=2, values_only=True)}
    assert values["受理订单"] == 3 and values["已派单"] == 1
    name, body = await saved(desk, "#export-overview-csv")
    assert name == "四单服务统计.csv" and "受理订单,3" in body.decode("utf-8-sig")
    _, body = await saved(desk, "#export-orders-xlsx")
    listed = load_workbook(io.BytesIO(body))["订单清单"]
    assert {row[0] for row in listed.iter_rows(min_row=2, values_only=True)} == set(
        numbers.values()
    )
