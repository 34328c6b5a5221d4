"""Honour rolls as admins read and publish them; the ranking itself is the workflow's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, desc, select
from sqlalchemy.orm import Session

from api.schemas import reports as out
from api.stores import audit
from api.stores.errors import Forbidden, NotFound, found
from core.db import utcnow
from core.models import HonourRoll, Unit, Volunteer
from core.security import Principal


def list_rolls(session: Session) -> list[out.RollSummary]:
    rolls = session.scalars(
        select(HonourRoll).order_by(desc(HonourRoll.ends_at), HonourRoll.period)
    )
    return [
        out.RollSummary(
            period=r.period,
            computed_at=r.computed_at,
            published_at=r.published_at,
            volunteers=len(r.volunteers),
            units=len(r.units),
        )
        for r in rolls
    ]


def _entries(
    session: Session, model: type[Volunteer] | type[Unit], entries: list[dict[str, Any]]
) -> list[out.RollEntry]:
    ids = [int(e["id"]) for e in entries]
    names = dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())
    return [out.RollEntry(name=names.get(int(e["id"]), ""), **e) for e in entries]


def get_roll(session: Session, period: str) -> out.RollOut:
    roll = found(session.get(HonourRoll, period), "honour roll", period)
    return out.RollOut(
        period=roll.period,
        starts_at=roll.starts_at,
        ends_at=roll.ends_at,
        computed_at=roll.computed_at,
        weights=roll.weights,
        published_at=roll.published_at,
        volunteers=_entries(session, Volunteer, roll.volunteers),
        units=_entries(session, Unit, roll.units),
    )


def published_newest_first() -> Select[HonourRoll]:
    """The published rolls, the newest period first."""
    return (
        select(HonourRoll)
        .where(HonourRoll.published_at.is_not(None))
        .order_by(desc(HonourRoll.ends_at), HonourRoll.period)
    )


# How many of each the volunteers' app shows of the latest published roll.
TOP: int = 10


def latest_published(session: Session) -> out.RollOut | None:
    """The newest published roll, its first ``TOP`` volunteers and units: what the center
    made public, for every volunteer to see (scores and weights are the admins' business)."""
    roll = session.scalar(published_newest_first().limit(1))
    if roll is None:
        return None
    whole = get_roll(session, roll.period)
    return whole.model_copy(
        update={"weights": {}, "volunteers": whole.volunteers[:TOP], "units": whole.units[:TOP]}
    )


def publish_roll(session: Session, period: str, actor: Principal, *, ip: str | None) -> out.RollOut:
    """Publish the roll (once; publishing again keeps the first time). County admins only."""
    if not actor.county_wide:
        raise Forbidden("only a county admin publishes the county's honour roll")
    roll = session.get(HonourRoll, period, with_for_update=True)
    if roll is None:
        raise NotFound("honour roll", period)
    if roll.published_at is None:
        roll.published_at = utcnow()
        roll.published_by = actor.staff_id
        audit.record(session, actor, "roll.publish", f"roll:{period}", ip=ip)
    session.flush()
    return get_roll(session, period)
