"""The Temporal Schedules that start ``RecognitionWorkflow``, visible in the Temporal UI.

Monthly, on the 1st at 02:00 county time, for the month before; yearly, on 1 January at
02:30, for the year before. ``ensure_schedules`` creates them, or brings an existing one up
to date (time zone, task queue), so the worker can call it at every start. ``backfill``
runs the past periods' rolls (``python -m api.cli recognition backfill --from 2026-01``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from workflows.recognition.ranking import previous_period
from workflows.recognition.workflow import (
    SCHEDULE_MONTHLY,
    SCHEDULE_YEARLY,
    RecognitionWorkflow,
    RollInput,
    RollResult,
    workflow_id,
)


def _at(hour: int, minute: int, *, month: int | None = None) -> ScheduleCalendarSpec:
    return ScheduleCalendarSpec(
        second=(ScheduleRange(0),),
        minute=(ScheduleRange(minute),),
        hour=(ScheduleRange(hour),),
        day_of_month=(ScheduleRange(1),),
        month=(ScheduleRange(month),) if month else (ScheduleRange(1, 12),),
    )


def schedules(*, task_queue: str, timezone: str) -> dict[str, Schedule]:
    def every(kind: str, calendar: ScheduleCalendarSpec) -> Schedule:
        return Schedule(
            action=ScheduleActionStartWorkflow(
                RecognitionWorkflow.run,
                RollInput(kind=kind, timezone=timezone),
                id=f"recognition-{kind}ly",
                task_queue=task_queue,
            ),
            spec=ScheduleSpec(calendars=[calendar], time_zone_name=timezone),
            # A worker down at 02:00 still gets the roll when it is back within the week.
            policy=SchedulePolicy(
                overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=7)
            ),
        )

    return {
        SCHEDULE_MONTHLY: every("month", _at(2, 0)),
        SCHEDULE_YEARLY: every("year", _at(2, 30, month=1)),
    }


async def ensure_schedules(client: Client, *, task_queue: str, timezone: str) -> None:
    for schedule_id, schedule in schedules(task_queue=task_queue, timezone=timezone).items():
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput, new: Schedule = schedule) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=new)

            await client.get_schedule_handle(schedule_id).update(replace)


def periods_since(start: str, now: datetime, timezone: str) -> list[str]:
    """Every complete month from ``start`` (``2026-01``) to before ``now``, then every
    complete year from ``start``'s."""
    last_month = previous_period(now, "month", timezone)
    months: list[str] = []
    year, month = (int(part) for part in start.split("-"))
    while (period := f"{year:04d}-{month:02d}") <= last_month:
        months.append(period)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    last_year = int(previous_period(now, "year", timezone))
    return months + [f"{y:04d}" for y in range(int(start[:4]), last_year + 1)]


async def backfill(
    client: Client, *, start: str, now: datetime, task_queue: str, timezone: str
) -> list[RollResult]:
    """Run the roll of every complete period since ``start``; stored ones stay as they are."""
    results = []
    for period in periods_since(start, now, timezone):
        results.append(
            await client.execute_workflow(
                RecognitionWorkflow.run,
                RollInput(period=period, timezone=timezone),
                id=workflow_id(period),
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
        )
    return results
