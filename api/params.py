"""Path and query parameters the routes share, so each is declared (and documented) once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

_Id = Annotated[int, Path(gt=0)]

OrderId = Annotated[int, Path(gt=0, description="The order's id")]
VolunteerId = _Id
UnitId = _Id
FollowUpId = _Id
ComplaintId = _Id
CallId = _Id
SmsId = _Id

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]
IdFilter = Annotated[int | None, Query(gt=0)]
TownshipFilter = Annotated[str | None, Query(min_length=1, max_length=64)]
