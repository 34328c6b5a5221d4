"""Honour rolls: the pure ranking, and the workflow on the time-skipping server with the real
activities (idempotent: a second run of a period changes nothing)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from api.stores import records, rolls
from core.models import HonourRoll
from core.service_hours import RollWeights as Weights
from tests.api.recognition_data import World, seed
from tests.helpers import COUNTY_ADMIN, HISTORIES, Harness
from workflows.recognition.messages import Figures
from workflows.recognition.ranking import (
    period_bounds,
    previous_period,
    rank,
    valid_period,
)
from workflows.recognition.workflow import RecognitionWorkflow, RollInput, RollResult

COUNTY = "Asia/Shanghai"
# A Monday in a month no other test uses: the roll reads every order completed in it.
ROLL_BASE = datetime(2033, 3, 7, 2, 0, tzinfo=UTC)


def test_periods_are_county_months_and_years() -> None:
    zone = ZoneInfo(COUNTY)
    assert period_bounds("2026-03", COUNTY) == (
        datetime(2026, 3, 1, tzinfo=zone),
        datetime(2026, 4, 1, tzinfo=zone),
    )
    assert period_bounds("2026-12", COUNTY)[1] == datetime(2027, 1, 1, tzinfo=zone)
    assert period_bounds("2026", COUNTY)[1] == datetime(2027, 1, 1, tzinfo=zone)
    # 1 March 02:00 in the county is still 28 February in UTC: the month before is February.
    fired = datetime(2026, 2, 28, 18, 0, tzinfo=UTC)
    assert previous_period(fired, "month", COUNTY) == "2026-02"
    assert previous_period(datetime(2026, 1, 1, 0, 0, tzinfo=UTC), "month", COUNTY) == "2025-12"
    assert previous_period(fired, "year", COUNTY) == "2025"
    assert [valid_period(p) for p in ("2026-03", "2026", "2026-13", "26-03", "2026-3")] == [
        True, True, False, False, False,
    ]  # fmt: skip


def test_the_ranking_weighs_hours_satisfaction_timeliness_and_complaints() -> None:
    def f(
        ident: int, hours: float, *, rated: int = 1, very: int = 1, complaints: int = 0
    ) -> Figures:
        return Figures(
            id=ident, verified_hours=hours, orders=2, on_time=2, rated=rated,
            very_satisfied=very, complaints=complaints,
        )  # fmt: skip

    figures = [f(1, 10), f(2, 20, very=0), f(3, 20, complaints=2), f(4, 0), f(5, 10)]
    ranked = rank(figures, Weights(), size=10)
    # 2: .4 + 0 + .2 + .1 = .7; 3: .4 + .3 + .2 + 0 = .9; 1 and 5: .2 + .3 + .2 + .1 = .8.
    assert [(e.id, e.rank, e.score) for e in ranked] == [
        (3, 1, 0.9), (1, 2, 0.8), (5, 3, 0.8), (2, 4, 0.7),
    ]  # fmt: skip
    assert [e.id for e in rank(figures, Weights(), size=2)] == [3, 1]
    hours_only = rank(
        figures, Weights(hours=1, very_satisfied=0, on_time=0, no_complaints=0), size=9
    )
    assert [e.id for e in hours_only] == [2, 3, 1, 5]
    assert rank([], Weights(), size=5) == []


async def test_the_roll_is_stored_once_and_published(
    system: Harness, request: pytest.FixtureRequest
) -> None:
    world: World = await system.db.run(seed, ROLL_BASE)
    run_id = f"recognition-test-{uuid.uuid4().hex[:8]}"

    async def run() -> RollResult:
        return await system.client.execute_workflow(
            RecognitionWorkflow.run,
            RollInput(period="2033-03", timezone=COUNTY),
            id=run_id,
            task_queue=system.settings.temporal_task_queue,
        )

    first = await run()
    assert first == RollResult(period="2033-03", stored=True, volunteers=3, units=1)
    roll = await system.db.run(rolls.get_roll, "2033-03")
    # V1: 15 h (the most), 1 of 3 very satisfied, 3 of 4 on time: .4 + .1 + .15 + .1 = .75.
    # V3: 2.5 h, 1 of 1, 1 of 1: .0667 + .3 + .2 + .1; elsewhere: 5 h, 0 of 1, 1 of 1.
    assert [(e.id, e.rank, e.score, e.verified_hours) for e in roll.volunteers] == [
        (world.v1, 1, 0.75, 15.0),
        (world.v3, 2, pytest.approx(0.666667), 2.5),
        (world.v_elsewhere, 3, pytest.approx(0.433333), 5.0),
    ]
    assert roll.volunteers[0].name == "吴志强" and roll.volunteers[0].on_time_rate == 0.75
    assert [(e.id, e.verified_hours) for e in roll.units] == [(world.unit, 15.0)]
    assert roll.published_at is None

    # Running the period again changes nothing.
    again = await system.client.execute_workflow(
        RecognitionWorkflow.run,
        RollInput(period="2033-03", timezone=COUNTY),
        id=f"{run_id}-again",
        task_queue=system.settings.temporal_task_queue,
    )
    assert again == RollResult(period="2033-03", stored=False, volunteers=0, units=0)
    assert await system.db.run(rolls.get_roll, "2033-03") == roll

    def count(session: Session) -> int:
        return session.query(HonourRoll).filter(HonourRoll.period == "2033-03").count()

    assert await system.db.run(count) == 1

    # Published, the volunteer sees their standing in their record.
    published = await system.db.run(rolls.publish_roll, "2033-03", COUNTY_ADMIN, ip=None)
    assert published.published_at is not None
    record = await system.db.run(records.volunteer_record, world.v3, COUNTY_ADMIN, timezone=COUNTY)
    assert record.standing is not None
    assert (record.standing.period, record.standing.rank, record.standing.of) == ("2033-03", 2, 3)
    republished = await system.db.run(rolls.publish_roll, "2033-03", COUNTY_ADMIN, ip=None)
    assert republished.published_at == published.published_at

    if os.environ.get("RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        for n, wid in enumerate((run_id, f"{run_id}-again"), start=1):
            history = await system.client.get_workflow_handle(wid).fetch_history()
            (HISTORIES / f"{request.node.name}-{n}.json").write_text(history.to_json())


async def test_a_scheduled_run_rolls_the_month_before(system: Harness) -> None:
    # Started (as the schedule starts it) without a period: the month before "now", county time.
    result = await system.client.execute_workflow(
        RecognitionWorkflow.run,
        RollInput(kind="month", timezone=COUNTY),
        id=f"recognition-test-{uuid.uuid4().hex[:8]}",
        task_queue=system.settings.temporal_task_queue,
    )
    assert result.period == previous_period(datetime.now(UTC), "month", COUNTY)
