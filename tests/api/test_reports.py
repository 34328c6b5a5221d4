"""The follow-up report: exact figures from known rows, on PostgreSQL and on SQLite.

Reports are for admins; a township admin's figures are their townships'.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.orm import Session

from api.database import Database
from api.errors import status_of
from api.schemas import FollowUpReport
from api.stores import reports
from api.stores.errors import Invalid
from core.security import Principal
from core.settings import Settings
from core.vocab import FollowUpStatus, OrderStatus, QueueReason, Role
from tests import signin
from tests.api.follow_up_data import (
    BASE,
    Staff,
    add_follow_up,
    add_order,
    add_township,
    api_client,
)
from tests.helpers import COUNTY_ADMIN

H = timedelta(hours=1)


def township_admin(*townships: str) -> Principal:
    return Principal(
        subject="staff:1", roles=frozenset({Role.ADMIN}), staff_id=1, townships=townships
    )


def seed(session: Session) -> tuple[str, str]:
    """Seven orders completed in ``[BASE, BASE + 7h)`` in one township, and some that are not.

    Done: hours to follow-up 2, 10, 4 and 1; calls 1, 3, 1 and 2; two settled by the call.
    Pending: one calling, one open, one not yet opened. Elsewhere: one completed order,
    not yet followed up. Returns both townships.
    """
    township = add_township(session)
    elsewhere = add_township(session)

    def done(completed: datetime, after: timedelta, **fields: Any) -> None:
        order_id = add_order(session, township, status=OrderStatus.CLOSED, completed_at=completed)
        add_follow_up(
            session,
            order_id,
            status=FollowUpStatus.DONE,
            created_at=completed,
            done_at=completed + after,
            **fields,
        )

    done(
        BASE,
        2 * H,
        method="phone",
        outcome="confirmed",
        settled_by="automated_call",
        call_attempts=1,
        rating="satisfied",
    )
    done(
        BASE + H,
        10 * H,
        method="phone",
        outcome="unreachable",
        settled_by="staff",
        call_attempts=3,
        queue_reason=QueueReason.ATTEMPTS_EXHAUSTED,
    )
    done(
        BASE + 2 * H,
        4 * H,
        method="home_visit",
        outcome="complaint",
        settled_by="staff",
        call_attempts=1,
        queue_reason=QueueReason.DISSATISFIED,
        call_rating="dissatisfied",
    )
    open_order = add_order(session, township, completed_at=BASE + 3 * H)
    add_follow_up(session, open_order, queue_reason=QueueReason.STAFF_REQUESTED, call_attempts=1)
    calling = add_order(session, township, completed_at=BASE + 4 * H)
    add_follow_up(session, calling, status=FollowUpStatus.CALLING)
    add_order(session, township, status=OrderStatus.COMPLETED, completed_at=BASE + 5 * H)
    done(
        BASE + 6 * H,
        H,
        method="phone",
        outcome="rating_corrected",
        settled_by="automated_call",
        call_attempts=2,
        rating="average",
    )

    # Not counted: cancelled, never completed, completed before the period, elsewhere.
    add_order(session, township, status=OrderStatus.CANCELLED, completed_at=None)
    add_order(session, township, status=OrderStatus.ACCEPTED, completed_at=None)
    early = add_order(session, township, status=OrderStatus.CLOSED, completed_at=BASE - 24 * H)
    add_follow_up(
        session,
        early,
        status=FollowUpStatus.DONE,
        done_at=BASE,
        outcome="confirmed",
        method="phone",
        settled_by="staff",
    )
    add_order(session, elsewhere, status=OrderStatus.COMPLETED, completed_at=BASE + H)
    return township, elsewhere


async def test_the_report_counts_reached_residents_against_completed_orders(
    each_database: Database,
) -> None:
    township, _ = await each_database.run(seed)
    report = await each_database.run(
        reports.follow_up_report, since=BASE, until=BASE + 24 * H, township=township
    )
    figures = report.model_dump()
    hours = figures.pop("hours_to_follow_up")
    assert figures == {
        "since": BASE,
        "until": BASE + 24 * H,
        "township": township,
        "completed_orders": 7,
        "follow_ups_done": 4,
        "reached": 3,
        "unreachable": 1,
        "pending": 3,
        "pending_by_status": {"calling": 1, "open": 1, "not_opened": 1},
        "follow_up_rate": pytest.approx(3 / 7),
        "automated_share": 0.5,
        "settled_by": {"automated_call": 2, "staff": 2},
        "attempts_mean": 1.75,
        "attempts_distribution": {1: 2, 2: 1, 3: 1},
        "by_method": {"home_visit": 1, "phone": 3},
        "by_outcome": {"complaint": 1, "confirmed": 1, "rating_corrected": 1, "unreachable": 1},
        "by_queue_reason": {"attempts_exhausted": 1, "dissatisfied": 1, "staff_requested": 1},
    }
    # Hours 1, 2, 4, 10: percentile_cont interpolates between the closest ranks.
    assert hours == {
        "count": 4,
        "mean": pytest.approx(4.25),
        "p50": pytest.approx(3.0),
        "p90": pytest.approx(8.2),
    }

    # The period is half-open and filters by completion: [BASE, BASE + 3h) keeps three.
    first = await each_database.run(
        reports.follow_up_report, since=BASE, until=BASE + 3 * H, township=township
    )
    assert (first.completed_orders, first.follow_ups_done, first.reached) == (3, 3, 2)
    assert first.pending_by_status == {"calling": 0, "open": 0, "not_opened": 0}
    assert first.follow_up_rate == pytest.approx(2 / 3)
    assert first.hours_to_follow_up.p50 == pytest.approx(4.0)

    # Without a start, the order completed the day before counts too.
    everything = await each_database.run(reports.follow_up_report, township=township)
    assert (everything.completed_orders, everything.reached) == (8, 4)
    assert everything.by_method == {"home_visit": 1, "phone": 4}
    assert everything.attempts_distribution == {0: 1, 1: 2, 2: 1, 3: 1}


async def test_a_township_admins_figures_are_their_townships(
    each_database: Database,
) -> None:
    township, elsewhere = await each_database.run(seed)

    async def report(viewer: Principal, township: str | None = None) -> FollowUpReport:
        return await each_database.run(
            reports.follow_up_report,
            since=BASE,
            until=BASE + 24 * H,
            township=township,
            viewer=viewer,
        )

    # The county's admin sees what the report without a viewer sees.
    county = await report(COUNTY_ADMIN, township)
    assert (county.completed_orders, county.follow_ups_done, county.reached) == (7, 4, 3)
    assert (await report(township_admin(township), township)) == county
    # An admin of elsewhere counts elsewhere's one order, never this township's seven.
    theirs = await report(township_admin(elsewhere))
    assert (theirs.completed_orders, theirs.follow_ups_done, theirs.pending) == (1, 0, 1)
    assert theirs.pending_by_status == {"calling": 0, "open": 0, "not_opened": 1}
    not_theirs = await report(township_admin(elsewhere), township)
    assert (not_theirs.completed_orders, not_theirs.follow_up_rate) == (0, None)
    both = await report(township_admin(township, elsewhere))
    assert (both.completed_orders, both.reached) == (8, 3)


async def test_an_empty_period_has_no_rates_rather_than_zero_or_an_error(
    each_database: Database,
) -> None:
    township, _ = await each_database.run(seed)
    report = await each_database.run(
        reports.follow_up_report, since=BASE + 100 * H, township=township
    )
    assert (report.completed_orders, report.follow_ups_done, report.pending) == (0, 0, 0)
    assert (report.follow_up_rate, report.automated_share, report.attempts_mean) == (
        None,
        None,
        None,
    )
    assert report.attempts_distribution == {} and report.by_queue_reason == {}
    assert report.hours_to_follow_up.model_dump() == {
        "count": 0,
        "mean": None,
        "p50": None,
        "p90": None,
    }


async def test_the_report_over_http(each_database: Database, settings: Settings) -> None:
    township, elsewhere = await each_database.run(seed)
    async with api_client(each_database, settings) as api:
        staff = Staff(api, each_database, settings)
        admin = await staff.admin()

        async def get(caller: signin.Caller = admin, **params: Any) -> httpx.Response:
            return await caller.get(
                "/api/reports/follow-up", params={"township": township, **params}
            )

        r = await get(since=BASE.isoformat(), until=(BASE + 24 * H).isoformat())
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["completed_orders"], report["reached"]) == (7, 3)
        assert report["follow_up_rate"] == pytest.approx(3 / 7)
        assert report["attempts_distribution"] == {"1": 2, "2": 1, "3": 1}
        assert report["hours_to_follow_up"]["p90"] == pytest.approx(8.2)

        # Without an offset, a time is the county's (Asia/Shanghai): 10:00 there is BASE.
        county = BASE.astimezone(ZoneInfo(settings.county_timezone)).replace(tzinfo=None)
        r = await get(since=county.isoformat(), until=(county + 3 * H).isoformat())
        assert r.status_code == 200, r.text
        assert r.json()["completed_orders"] == 3
        assert datetime.fromisoformat(r.json()["since"]) == BASE

        r = await get(since=BASE.isoformat(), until=BASE.isoformat())
        assert r.status_code == 422 and r.json()["code"] == "InvalidPeriod"
        r = await admin.get("/api/reports/follow-up", params={"township": "没有这个镇"})
        assert r.status_code == 422 and r.json()["code"] == "UnknownReference"
        assert (await get(since="yesterday")).status_code == 422

        # A township admin's figures are their townships': this one's, or elsewhere's.
        period = {"since": BASE.isoformat(), "until": (BASE + 24 * H).isoformat()}
        local = await staff.admin(township)
        r = await get(local, **period)
        assert r.status_code == 200, r.text
        assert (r.json()["completed_orders"], r.json()["reached"]) == (7, 3)
        outsider = await staff.admin(elsewhere)
        r = await get(outsider, **period)
        assert r.status_code == 404, r.text  # a township not theirs is not there for them
        r = await outsider.get("/api/reports/follow-up", params=period)
        assert r.status_code == 200, r.text
        assert (r.json()["completed_orders"], r.json()["pending"]) == (1, 1)

        # Reports are for admins: not agents, not residents, not anyone unsigned.
        agent = await staff.agent()
        resident = signin.Caller(api, await signin.resident(each_database, settings))
        anonymous = signin.Caller(api, {})
        for caller, status, code in (
            (agent, 403, "Forbidden"),
            (resident, 403, "Forbidden"),
            (anonymous, 401, "NotSignedIn"),
        ):
            r = await get(caller, **period)
            assert (r.status_code, r.json()["code"]) == (status, code), r.text


def test_percentile_matches_postgresql_percentile_cont() -> None:
    values = [1.0, 2.0, 4.0, 10.0]
    assert reports.percentile(values, 0.5) == pytest.approx(3.0)
    assert reports.percentile(values, 0.9) == pytest.approx(8.2)
    assert reports.percentile([5.0], 0.9) == 5.0
    assert reports.percentile(values, 1.0) == 10.0


async def test_a_period_that_ends_before_it_starts_is_refused(database: Database) -> None:
    with pytest.raises(Invalid) as refused:
        await database.run(reports.follow_up_report, since=BASE, until=BASE - H)
    assert (status_of(refused.value), refused.value.code) == (422, "InvalidPeriod")
