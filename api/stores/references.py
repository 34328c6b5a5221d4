"""The rows a request names, fetched or refused: what stores check before they write.

A reference a body names that does not exist is ``Invalid``; an unknown unit is ``NotFound``.
Given the ``viewer``, what lies outside their townships is as unknown to them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.stores.errors import (
    INACTIVE_VOLUNTEER,
    VILLAGE_OUTSIDE_TOWNSHIP,
    Invalid,
    found,
    unknown,
)
from core.models import Township, Unit, Village, Volunteer
from core.security import Principal


def require_township(session: Session, name: str) -> Township:
    # Only registered townships: the name goes into search attributes and reports.
    township = session.get(Township, name)
    if township is None:
        raise unknown("township", name)
    return township


def require_village(session: Session, village_id: int, township: str) -> Village:
    village = session.get(Village, village_id)
    if village is None:
        raise unknown("village_id", village_id)
    if village.township != township:
        raise Invalid(
            VILLAGE_OUTSIDE_TOWNSHIP, f"village {village_id} is not in township {township}"
        )
    return village


def _hidden(township: str, viewer: Principal | None) -> bool:
    return viewer is not None and not viewer.may_see_township(township)


def require_unit(session: Session, unit_id: int, viewer: Principal | None = None) -> Unit:
    unit = session.get(Unit, unit_id)
    return found(None if unit is None or _hidden(unit.township, viewer) else unit, "unit", unit_id)


def require_volunteer(
    session: Session, volunteer_id: int, *, active: bool = False, viewer: Principal | None = None
) -> Volunteer:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None or _hidden(volunteer.township, viewer):
        raise unknown("volunteer_id", volunteer_id)
    if active and not volunteer.active:
        raise Invalid(INACTIVE_VOLUNTEER, f"volunteer {volunteer_id} is not active")
    if active and volunteer.paused:
        raise Invalid(INACTIVE_VOLUNTEER, f"volunteer {volunteer_id} has paused")
    return volunteer
