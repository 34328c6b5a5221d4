"""``RecognitionWorkflow``: one period's honour roll, computed and stored once.

Started by the Temporal Schedules (monthly on the 1st at 02:00 county time for the month
before, yearly for the year before) or for a named period (backfill). The ranking is pure
(``ranking.py``); the figures and the stored roll are activities. Which period "the month
before" is, in county time, the figures activity decides from the workflow's clock (the
sandbox reads no time-zone files). A period whose roll is stored already ends at once:
running a period twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import RollPeriod, RollRecord, roll_figures, store_roll
    from workflows.recognition import ranking

ACTIVITY_TIMEOUT = timedelta(minutes=5)
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
SCHEDULE_MONTHLY = "recognition-monthly"
SCHEDULE_YEARLY = "recognition-yearly"


@dataclass
class RollInput:
    """A named ``period`` (``2026-03``, ``2026``), or the last complete ``kind`` before now."""

    kind: str = "month"
    period: str | None = None
    timezone: str = "Asia/Shanghai"


@dataclass
class RollResult:
    period: str
    stored: bool
    volunteers: int
    units: int


def workflow_id(period: str) -> str:
    return f"recognition-{period}"


@workflow.defn
class RecognitionWorkflow:
    @workflow.run
    async def run(self, inp: RollInput) -> RollResult:
        figures = await workflow.execute_activity(
            roll_figures,
            RollPeriod(at=workflow.now(), timezone=inp.timezone, kind=inp.kind, period=inp.period),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        period = figures.period
        if figures.exists:
            return RollResult(period=period, stored=False, volunteers=0, units=0)
        volunteers = ranking.rank(figures.volunteers, figures.weights, size=figures.size)
        units = ranking.rank(figures.units, figures.weights, size=figures.size)
        stored = await workflow.execute_activity(
            store_roll,
            RollRecord(
                period=period,
                starts_at=figures.starts_at,
                ends_at=figures.ends_at,
                computed_at=workflow.now(),
                weights=figures.weights,
                volunteers=volunteers,
                units=units,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        return RollResult(
            period=period, stored=stored.stored, volunteers=len(volunteers), units=len(units)
        )
