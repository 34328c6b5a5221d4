"""The overview report: every figure exact, from known rows, on PostgreSQL and SQLite."""

from __future__ import annotations

import csv
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from api.database import Database
from api.schemas import reports as out
from api.stores import overview
from api.stores.overview import Filters
from core.security import Principal
from core.settings import Settings
from core.vocab import Role
from tests.api.follow_up_data import Staff, api_client
from tests.api.recognition_data import BASE, D, World, seed

PERIOD = {"since": BASE, "until": BASE + 30 * D}


def township_admin(*townships: str) -> Principal:
    return Principal(
        subject="staff:1", roles=frozenset({Role.ADMIN}), staff_id=1, townships=townships
    )


async def report(db: Database, **filters: Any) -> dict[str, Any]:
    result = await db.run(overview.overview, Filters(**{**PERIOD, **filters}))
    return result.model_dump()


async def test_every_figure_of_the_overview(each_database: Database) -> None:
    world: World = await each_database.run(seed)
    figures = await report(each_database, township=world.township, interval="week")
    assert figures.pop("by_township") == [
        {
            "key": world.township,
            "received": 8,
            "completed": 6,
            "completed_on_time": 5,
            "on_time_rate": pytest.approx(5 / 6),
            "overdue": 2,
            "escalated": 2,
            "verified_hours": 7.5,
        }
    ]
    assert figures.pop("by_category") == [
        {
            "key": "care",
            "received": 7,
            "completed": 5,
            "completed_on_time": 4,
            "on_time_rate": pytest.approx(4 / 5),
            "overdue": 2,
            "escalated": 2,
            "verified_hours": 5.0,
        },
        {
            "key": "culture",
            "received": 1,
            "completed": 1,
            "completed_on_time": 1,
            "on_time_rate": 1.0,
            "overdue": 0,
            "escalated": 0,
            "verified_hours": 2.5,
        },
    ]
    # Weeks start on Monday, county time: A-G in the first week, H in the second.
    assert figures.pop("series") == [
        {
            "start": "2032-05-03",
            "received": 7,
            "completed": 5,
            "completed_on_time": 4,
            "overdue": 2,
        },
        {
            "start": "2032-05-10",
            "received": 1,
            "completed": 1,
            "completed_on_time": 1,
            "overdue": 0,
        },
    ]
    assert figures == {
        "since": BASE,
        "until": BASE + 30 * D,
        "filters": {"township": world.township},
        "received": 8,
        "dispatched": 7,
        "accepted": 6,
        "completed": 6,
        "completed_on_time": 5,
        "on_time_rate": pytest.approx(5 / 6),
        "overdue": 2,
        "escalated": 2,
        "cancelled": 1,
        "open": 1,
        # Dispatch 1,1,1,2,2,3,4 h; accept 1,2,2,4,6,8 h; complete 5,10,20,30,40,80 h.
        "time_to_dispatch": {"count": 7, "median": pytest.approx(2.0), "p90": pytest.approx(3.4)},
        "time_to_accept": {"count": 6, "median": pytest.approx(3.0), "p90": pytest.approx(7.0)},
        "time_to_complete": {
            "count": 6,
            "median": pytest.approx(25.0),
            "p90": pytest.approx(60.0),
        },
        "ratings_reviewed": {
            "very_satisfied": 2,
            "satisfied": 1,
            "average": 1,
            "dissatisfied": 1,
        },
        # After follow-up, of the residents reached: B corrected to average, C's complaint.
        "ratings_verified": {
            "very_satisfied": 2,
            "satisfied": 0,
            "average": 1,
            "dissatisfied": 1,
        },
        "corrections": 1,
        "follow_ups_done": 5,
        "reached": 4,
        "unreachable": 1,
        "follow_up_rate": pytest.approx(4 / 6),
        "complaints_opened": 1,
        "complaints_resolved": 1,
        "active_volunteers": 3,
        "verified_hours": 7.5,
        "interval": "week",
    }


async def test_filters_select_the_orders_they_name(each_database: Database) -> None:
    world: World = await each_database.run(seed)
    t = world.township

    hotline = await report(each_database, township=t, channel="hotline")
    assert (hotline["received"], hotline["completed"], hotline["verified_hours"]) == (1, 1, 2.5)
    culture = await report(each_database, township=t, platform="culture")
    assert culture["received"] == 1 and culture["by_category"][0]["key"] == "culture"
    care = await report(each_database, township=t, category="care")
    assert (care["received"], care["completed"], care["verified_hours"]) == (7, 5, 5.0)
    # The unit's member V1 served A, B and E.
    unit = await report(each_database, unit=world.unit)
    assert (unit["received"], unit["completed"], unit["verified_hours"]) == (3, 3, 5.0)
    assert unit["active_volunteers"] == 1
    # From one day on: B to H; the day before BASE counts once the period starts earlier.
    later = await report(each_database, township=t, since=BASE + D)
    assert later["received"] == 7
    earlier = await report(each_database, township=t, since=BASE - 2 * D)
    assert (earlier["received"], earlier["verified_hours"]) == (9, 17.5)
    days = await report(each_database, township=t, interval="day")
    assert [p["start"] for p in days["series"]][:2] == ["2032-05-03", "2032-05-04"]
    months = await report(each_database, township=t, interval="month")
    assert months["series"] == [
        {"start": "2032-05-01", "received": 8, "completed": 6, "completed_on_time": 5, "overdue": 2}
    ]


@pytest.mark.parametrize("interval", ["day", "week", "month"])
async def test_postgresql_numbers_the_buckets_as_the_rows_fall(
    database: Database, interval: out.Interval
) -> None:
    """PostgreSQL finds each order's bucket by its number among the buckets' starts; counted
    row by row in the county's time (SQLite's way) the series must be the same, with a period
    and without one (then the starts span every order there is)."""
    world: World = await database.run(seed)
    for since, until in ((BASE, BASE + 30 * D), (None, None), (BASE - 2 * D, None)):
        f = Filters(since=since, until=until, township=world.township, interval=interval)

        def both(session: Session, f: Filters = f) -> tuple[list[Any], list[Any]]:
            rows = overview._buckets(session, overview.cohort(session, f), f)
            by_rows = [
                {"start": k, **{n: rows[k][n] for n in overview.SERIES}} for k in sorted(rows)
            ]
            return by_rows, overview.overview(session, f).model_dump()["series"]

        by_rows, series = await database.run(both)
        assert series == by_rows and sum(p["received"] for p in series) >= 8


def test_the_buckets_start_at_county_midnight() -> None:
    f = Filters(since=BASE, until=BASE + 40 * D, interval="month")
    starts = overview._starts(None, f)  # type: ignore[arg-type]  # a period needs no query
    local = [s.astimezone(ZoneInfo("Asia/Shanghai")) for s in starts]
    assert [(t.month, t.day, t.hour) for t in local] == [(5, 1, 0), (6, 1, 0), (7, 1, 0)]
    # Until Sunday: one week, closed by the next Monday.
    week = Filters(since=BASE, until=BASE + 6 * D, interval="week")
    weeks = overview._starts(None, week)  # type: ignore[arg-type]
    assert [w.isoformat() for w in weeks] == [
        "2032-05-03T00:00:00+08:00",
        "2032-05-10T00:00:00+08:00",
    ]


async def test_a_township_admin_sees_their_townships_only(each_database: Database) -> None:
    world: World = await each_database.run(seed)
    theirs = await report(each_database, viewer=township_admin(world.elsewhere))
    assert [b["key"] for b in theirs["by_township"]] == [world.elsewhere]
    assert (theirs["received"], theirs["verified_hours"]) == (1, 5.0)
    none = await report(
        each_database, township=world.township, viewer=township_admin(world.elsewhere)
    )
    assert (none["received"], none["on_time_rate"], none["follow_up_rate"]) == (0, None, None)
    assert none["time_to_complete"] == {"count": 0, "median": None, "p90": None}


async def test_the_overview_and_its_exports_over_http(
    each_database: Database, settings: Settings
) -> None:
    world: World = await each_database.run(seed)
    period = {"from": BASE.isoformat(), "to": (BASE + 30 * D).isoformat()}
    async with api_client(each_database, settings) as api:
        staff = Staff(api, each_database, settings)
        admin = await staff.admin()
        r = await admin.get("/api/reports/overview", params={**period, "township": world.township})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["received"], body["completed"], body["verified_hours"]) == (8, 6, 7.5)
        assert body["on_time_rate"] == pytest.approx(5 / 6)
        assert body["ratings_reviewed"]["very_satisfied"] == 2

        r = await admin.get(
            "/api/reports/overview", params={"from": "2032-06-01", "to": "2032-05-01"}
        )
        assert (r.status_code, r.json()["code"]) == (422, "InvalidPeriod")
        r = await admin.get("/api/reports/overview", params={"interval": "hour"})
        assert r.status_code == 422
        outsider = await staff.admin(world.elsewhere)
        r = await outsider.get("/api/reports/overview", params={"township": world.township})
        assert r.status_code == 404
        agent = await staff.agent()
        assert (await agent.get("/api/reports/overview")).status_code == 403

        params = {**period, "township": world.township}
        r = await admin.get("/api/reports/overview/export", params={**params, "format": "csv"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/csv")
        text = r.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert ["受理订单", "8"] in rows and ["按时办结率", "83.3%"] in rows
        assert ["核实服务时长(小时)", "7.5"] in rows

        r = await admin.get("/api/reports/overview/export", params=params)
        assert r.status_code == 200, r.text
        book = load_workbook(io.BytesIO(r.content))
        assert book.sheetnames == ["总览", "按乡镇", "按类别", "趋势"]
        township_rows = list(book["按乡镇"].iter_rows(values_only=True))
        assert township_rows[0][:3] == ("乡镇", "受理订单", "已完成服务")
        assert township_rows[1][:3] == (world.township, 8, 6)

        # The order list: no personal data unless asked, and only for admins.
        r = await admin.get("/api/reports/orders/export", params={**params, "format": "csv"})
        assert r.status_code == 200, r.text
        orders = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert orders[0][0] == "订单号" and "电话" not in orders[0]
        assert len(orders) == 1 + 8
        assert "龙秀英" not in r.content.decode("utf-8-sig")
        r = await admin.get("/api/reports/orders/export", params={**params, "personal": "true"})
        sheet = load_workbook(io.BytesIO(r.content))["订单清单"]
        header, *lines = list(sheet.iter_rows(values_only=True))
        assert header[-4:] == ("姓名", "电话", "地址", "申请事由")
        assert len(lines) == 8 and lines[0][-4] == "龙秀英"
        # A township admin's export holds their townships' orders only.
        r = await outsider.get(
            "/api/reports/orders/export", params={**period, "format": "csv", "personal": "true"}
        )
        theirs = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert len(theirs) == 1 + 1 and theirs[1][2] == world.elsewhere
        assert (await agent.get("/api/reports/orders/export")).status_code == 403
