"""Service records, certificates and the public totals, from the known orders."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from api.database import Database
from api.stores import overview, public, records
from api.stores.overview import Filters
from core.service_hours import next_star, star_level
from core.settings import Settings
from core.vocab import FollowUpStatus, OrderStatus
from tests import signin
from tests.api.follow_up_data import Staff, add_township, api_client
from tests.api.recognition_data import BASE, D, H, World, add_order, add_volunteer, seed
from tests.helpers import COUNTY_ADMIN

NO_RATINGS = {"very_satisfied": 0, "satisfied": 0, "average": 0, "dissatisfied": 0}


def test_stars_follow_the_national_rule() -> None:
    assert [star_level(h) for h in (0, 99.99, 100, 299, 300, 600, 999, 1000, 1500, 9000)] == [
        0, 0, 1, 1, 2, 3, 3, 4, 5, 5,
    ]  # fmt: skip
    assert next_star(0) == (100, 100)
    assert next_star(250.5) == (300, 49.5)
    assert next_star(1000) == (1500, 500)
    assert next_star(1500) == (None, None)


async def test_a_volunteers_record(each_database: Database) -> None:
    world: World = await each_database.run(seed)
    record = await each_database.run(
        records.volunteer_record, world.v1, COUNTY_ADMIN, timezone="Asia/Shanghai"
    )
    figures: dict[str, Any] = record.model_dump()
    # A (2 h) and B (3 h) in the period, 10 h the day before: verified; E (1 h) waits.
    assert figures == {
        "subject": "volunteer",
        "id": world.v1,
        "name": "吴志强",
        "verified_hours": 15.0,
        "unverified_hours": 1.0,
        "complained_hours": 0.0,
        "star_level": 0,
        "next_star_hours": 100,
        "hours_to_next_star": 85.0,
        "orders_completed": 4,
        "orders_verified": 3,
        "orders_complained": 0,
        "orders_unverified": 1,
        "by_month": [
            {
                "period": "2032-05",
                "verified_hours": 15.0,
                "unverified_hours": 1.0,
                "complained_hours": 0.0,
                "orders": 4,
            }
        ],
        "by_year": [
            {
                "period": "2032",
                "verified_hours": 15.0,
                "unverified_hours": 1.0,
                "complained_hours": 0.0,
                "orders": 4,
            }
        ],
        "ratings": {
            "reviewed": {**NO_RATINGS, "very_satisfied": 1, "satisfied": 2},
            "verified": {**NO_RATINGS, "very_satisfied": 1, "satisfied": 1, "average": 1},
        },
        "standing": None,
    }
    # V2: C's hours were complained about, D's resident was unreachable.
    v2 = await each_database.run(
        records.volunteer_record, world.v2, COUNTY_ADMIN, timezone="Asia/Shanghai"
    )
    assert (v2.verified_hours, v2.complained_hours, v2.unverified_hours) == (0, 1.5, 4.0)
    assert v2.ratings.verified == {**NO_RATINGS, "dissatisfied": 1}
    # The unit: its member V1's orders.
    unit = await each_database.run(
        records.unit_record, world.unit, COUNTY_ADMIN, timezone="Asia/Shanghai"
    )
    assert (unit.subject, unit.verified_hours, unit.orders_completed) == ("unit", 15.0, 4)
    assert unit.star_level is None


async def test_records_certificates_and_totals_over_http(
    each_database: Database, settings: Settings
) -> None:
    world: World = await each_database.run(seed)
    async with api_client(each_database, settings) as api:
        staff = Staff(api, each_database, settings)
        admin = await staff.admin()
        v1 = signin.Caller(api, await signin.volunteer(each_database, settings, world.v1))
        v2 = signin.Caller(api, await signin.volunteer(each_database, settings, world.v2))
        outsider = await staff.admin(world.elsewhere)

        for caller in (v1, admin):
            r = await caller.get(f"/api/volunteers/{world.v1}/record")
            assert r.status_code == 200, r.text
            assert (r.json()["verified_hours"], r.json()["star_level"]) == (15.0, 0)
        for caller in (v2, outsider):  # someone else's record is not there for them
            assert (await caller.get(f"/api/volunteers/{world.v1}/record")).status_code == 404
        r = await admin.get(f"/api/units/{world.unit}/record")
        assert (r.status_code, r.json()["verified_hours"]) == (200, 15.0)
        assert (await outsider.get(f"/api/units/{world.unit}/record")).status_code == 404
        assert (await v1.get(f"/api/units/{world.unit}/record")).status_code == 403
        r = await v1.get("/api/me/standing")
        assert r.json() == {
            "verified_hours": 15.0,
            "star_level": 0,
            "hours_to_next_star": 85.0,
            "standing": None,
        }

        # The certificate: Chinese text, the hours, and a code anyone can check.
        r = await v1.get(f"/api/volunteers/{world.v1}/certificate.pdf")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
        assert "志愿服务记录证明" in text and "吴志强" in text
        assert "累计服务时长 15 小时" in text
        code = text.split("验证码：")[1].split()[0]
        assert f"/verify/{code}" in text
        r = await api.get(f"/api/certificates/{code}")
        assert r.status_code == 200, r.text
        assert r.json() == {
            "name": "吴志强",
            "verified_hours": 15.0,
            "period_from": "2032年5月2日",
            "period_to": "2032年5月7日",
            "issued_on": r.json()["issued_on"],
        }
        page = await api.get(f"/verify/{code}")
        assert page.status_code == 200 and "吴志强" in page.text and "15 小时" in page.text
        assert "龙秀英" not in page.text
        forged = code[:-2] + ("AA" if not code.endswith("AA") else "BB")
        assert (await api.get(f"/api/certificates/{forged}")).status_code == 404
        assert "无效" in (await api.get(f"/verify/{forged}")).text
        # Without verified hours there is nothing to certify; others' certificates are 404.
        r = await v2.get(f"/api/volunteers/{world.v2}/certificate.pdf")
        assert (r.status_code, r.json()["code"]) == (409, "NoVerifiedHours")
        assert (await v2.get(f"/api/volunteers/{world.v1}/certificate.pdf")).status_code == 404

        # The public totals name no one.
        r = await api.get("/api/public/totals")
        assert r.status_code == 200, r.text
        page = await api.get("/public/")
        assert page.status_code == 200 and "志愿服务公示" in page.text
        for private in ("龙秀英", "吴志强", "帮忙买药", "蓼皋街道 龙井社区", "+86"):
            assert private not in r.text and private not in page.text


async def test_public_totals_count_verified_services(each_database: Database) -> None:
    await each_database.run(seed)
    totals = await each_database.run(public.totals, timezone="Asia/Shanghai")
    if each_database.engine.dialect.name == "sqlite":  # only this test's orders
        assert totals.model_dump(exclude={"recent"}) == {
            "orders_completed": 8,
            "verified_hours": 22.5,
            "volunteers_serving": 4,
            "follow_up_rate": pytest.approx(6 / 8),
            # Rated after follow-up: A, B, C, H, the day before, elsewhere; satisfied or better 4.
            "satisfied_share": pytest.approx(4 / 6),
        }
    first = totals.recent[0]
    assert (first.completed_on, first.category, first.hours) == ("2032-05-10", "文化服务", 2.5)


async def test_check_in_and_out_verify_hours_unless_complained_about(
    each_database: Database,
) -> None:
    """The app's check-in and check-out prove the hours as a follow-up does (签到签退)."""

    def world(session: Session) -> tuple[str, int]:
        township = add_township(session)
        volunteer = add_volunteer(session, township, "石秀兰")
        arrived, left = BASE + H, BASE + 3 * H

        def served(day: int, hours: float, **fields: Any) -> None:
            add_order(session, township, BASE + day * D, volunteer=volunteer, complete=4,
                      hours=hours, **fields)  # fmt: skip

        # Checked in and out, follow-up still open: verified.
        served(0, 2, status=OrderStatus.COMPLETED, follow_up_status=FollowUpStatus.OPEN,
               checked_in_at=arrived, checked_out_at=left)  # fmt: skip
        # Checked in and out, then a complaint: apart.
        served(1, 1.5, review="dissatisfied", follow_up="complaint",
               checked_in_at=arrived, checked_out_at=left)  # fmt: skip
        # Only checked in, no follow-up yet: unverified.
        served(2, 1, status=OrderStatus.COMPLETED, checked_in_at=arrived)
        # Checked in and out but not completed: no hours at all yet.
        add_order(session, township, BASE + 3 * D, volunteer=volunteer,
                  status=OrderStatus.ACCEPTED, checked_in_at=arrived,
                  checked_out_at=left)  # fmt: skip
        return township, volunteer

    township, volunteer = await each_database.run(world)
    record = await each_database.run(
        records.volunteer_record, volunteer, COUNTY_ADMIN, timezone="Asia/Shanghai"
    )
    assert (record.verified_hours, record.complained_hours, record.unverified_hours) == (
        2.0,
        1.5,
        1.0,
    )
    # The rating counts as verified only where the follow-up reached the resident.
    assert record.ratings.verified == {**NO_RATINGS, "dissatisfied": 1}
    report = await each_database.run(
        overview.overview, Filters(since=BASE, until=BASE + 10 * D, township=township)
    )
    assert (report.verified_hours, report.reached, report.complaints_opened) == (2.0, 1, 0)
