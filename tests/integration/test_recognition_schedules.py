"""The honour rolls' Temporal Schedules on a real dev server, and backfilling past periods."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleRange

from api.cli import main
from core.settings import Settings
from workflows.recognition.schedules import backfill, ensure_schedules
from workflows.recognition.workflow import SCHEDULE_MONTHLY, SCHEDULE_YEARLY, RollInput


async def test_the_schedules_exist_with_their_spec(
    temporal: Client, live_settings: Settings
) -> None:
    queue, zone = live_settings.temporal_task_queue, live_settings.county_timezone
    # At every worker start: the second call updates, never duplicates or fails.
    await ensure_schedules(temporal, task_queue="an-old-queue", timezone=zone)
    await ensure_schedules(temporal, task_queue=queue, timezone=zone)
    county = ZoneInfo(zone)
    for schedule_id, kind, hour, minute, month in (
        (SCHEDULE_MONTHLY, "month", 2, 0, ScheduleRange(1, 12)),
        (SCHEDULE_YEARLY, "year", 2, 30, ScheduleRange(1)),
    ):
        described = await temporal.get_schedule_handle(schedule_id).describe()
        spec = described.schedule.spec
        assert spec.time_zone_name == "Asia/Shanghai"
        (calendar,) = spec.calendars
        assert calendar.hour == (ScheduleRange(hour),)
        assert calendar.minute == (ScheduleRange(minute),)
        assert calendar.day_of_month == (ScheduleRange(1),)
        assert calendar.month == (month,)
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == ("RecognitionWorkflow", queue)
        (payload,) = action.args
        started_with = await temporal.data_converter.decode([payload], [RollInput])
        assert started_with == [RollInput(kind=kind, timezone=zone)]
        # The next run: the 1st of a month, at 02:00 (or 02:30) county time.
        upcoming = described.info.next_action_times[0].astimezone(county)
        assert (upcoming.day, upcoming.hour, upcoming.minute) == (1, hour, minute)
        if kind == "year":
            assert upcoming.month == 1


async def test_backfill_runs_each_past_period_once(
    temporal: Client, worker: None, live_settings: Settings
) -> None:
    now = datetime(2034, 3, 5, tzinfo=UTC)

    async def run() -> list[tuple[str, bool]]:
        results = await backfill(
            temporal,
            start="2033-11",
            now=now,
            task_queue=live_settings.temporal_task_queue,
            timezone=live_settings.county_timezone,
        )
        return [(r.period, r.stored) for r in results]

    assert await run() == [("2033-11", True), ("2033-12", True), ("2034-01", True),
                           ("2034-02", True), ("2033", True)]  # fmt: skip
    assert await run() == [("2033-11", False), ("2033-12", False), ("2034-01", False),
                           ("2034-02", False), ("2033", False)]  # fmt: skip


def test_the_backfill_command_wants_a_month() -> None:
    with pytest.raises(SystemExit) as refused:
        main(["recognition", "backfill", "--from", "2026-13"])
    assert refused.value.code == 2
