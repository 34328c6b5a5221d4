"""The rows a request names, fetched or refused: what stores check before they write.

A reference a body names that does not exist is ``Invalid``; an unknown unit is ``NotFound``.
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


def require_unit(session: Session, unit_id: int) -> Unit:
    return found(session.get(Unit, unit_id), "unit", unit_id)


def require_volunteer(session: Session, volunteer_id: int, *, active: bool = False) -> None:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise unknown("volunteer_id", volunteer_id)
    if active and not volunteer.active:
        raise Invalid(INACTIVE_VOLUNTEER, f"volunteer {volunteer_id} is not active")
    if active and volunteer.paused:
        raise Invalid(INACTIVE_VOLUNTEER, f"volunteer {volunteer_id} has paused")
