"""Activities of the recognition workflow: the period's figures, and storing its roll."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Engine, func, select
from temporalio import activity

from activities.contracts import (
    ROLL_FIGURES,
    STORE_ROLL,
    RollFigures,
    RollPeriod,
    RollRecord,
    RollStored,
)
from core.db import insert_ignore
from core.models import HonourRoll, Order, Volunteer
from core.service_hours import RollWeights as Weights
from core.service_hours_sql import (
    COMPLAINED,
    ON_TIME,
    RATED_AFTER_FOLLOW_UP,
    VERIFIED_HOURS,
    VERY_SATISFIED,
    count_if,
)
from workflows.recognition.messages import Figures
from workflows.recognition.ranking import period_bounds, previous_period


class RollRecorder:
    """Reads who served in a period and stores its honour roll, once."""

    def __init__(self, engine: Engine, *, weights: Weights, size: int) -> None:
        self._engine = engine
        self._weights = weights
        self._size = size

    @activity.defn(name=ROLL_FIGURES)
    def roll_figures(self, inp: RollPeriod) -> RollFigures:
        period = inp.period or previous_period(inp.at, inp.kind, inp.timezone)
        starts_at, ends_at = period_bounds(period, inp.timezone)
        with self._engine.connect() as conn:
            if conn.scalar(select(HonourRoll.period).where(HonourRoll.period == period)):
                return RollFigures(period, starts_at, ends_at, exists=True)
            unit = func.coalesce(Order.unit_id, Volunteer.unit_id)
            by_volunteer, by_unit = (
                [
                    Figures(
                        id=int(row[0]),
                        verified_hours=float(row[1]),
                        orders=int(row[2]),
                        on_time=int(row[3]),
                        rated=int(row[4]),
                        very_satisfied=int(row[5]),
                        complaints=int(row[6]),
                    )
                    for row in conn.execute(
                        select(
                            key,
                            VERIFIED_HOURS,
                            func.count(),
                            count_if(ON_TIME),
                            count_if(RATED_AFTER_FOLLOW_UP),
                            count_if(VERY_SATISFIED),
                            count_if(COMPLAINED),
                        )
                        .select_from(Order)
                        .join(Volunteer, Volunteer.id == Order.volunteer_id)
                        .where(
                            Order.completed_at >= starts_at,
                            Order.completed_at < ends_at,
                            key.is_not(None),
                        )
                        .group_by(key)
                        .order_by(key)
                    )
                ]
                for key in (Order.volunteer_id, unit)
            )
        return RollFigures(
            period,
            starts_at,
            ends_at,
            exists=False,
            weights=self._weights,
            size=self._size,
            volunteers=by_volunteer,
            units=by_unit,
        )

    @activity.defn(name=STORE_ROLL)
    def store_roll(self, record: RollRecord) -> RollStored:
        values: dict[str, Any] = {
            "period": record.period,
            "starts_at": record.starts_at,
            "ends_at": record.ends_at,
            "computed_at": record.computed_at,
            "weights": asdict(record.weights),
            "volunteers": [asdict(e) for e in record.volunteers],
            "units": [asdict(e) for e in record.units],
        }
        with self._engine.begin() as conn:
            # A retry, or a second run of the period, finds the row and changes nothing.
            result = conn.execute(
                insert_ignore(conn, HonourRoll.__table__, ("period",)).values(values)
            )
        return RollStored(stored=bool(result.rowcount))
