"""Path and query parameters the routes share, so each is declared (and documented) once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

_Id = Annotated[int, Path(gt=0, le=2**31 - 1)]

# Orders are addressed by their public id only (random; internal ids never leave the server).
OrderId = Annotated[
    str,
    Path(
        min_length=8,
        max_length=32,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The order's public id",
    ),
]
PhotoId = Annotated[
    str, Path(pattern=r"^ph_[0-9a-f]{16}$", description="A photo's id (from its upload)")
]
VolunteerId = _Id
UnitId = _Id
FollowUpId = _Id
ComplaintId = _Id
CallId = _Id
CallRequestId = _Id
SmsId = _Id
StaffId = _Id

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
IdFilter = Annotated[int | None, Query(gt=0, le=2**31 - 1)]
OrderFilterId = Annotated[
    str | None, Query(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
]
TownshipFilter = Annotated[str | None, Query(min_length=1, max_length=64)]
# A service-record certificate's verification code (core.security.certificate_code).
CertificateCode = Annotated[str, Path(min_length=10, max_length=80, pattern=r"^[A-Za-z0-9-]+$")]
