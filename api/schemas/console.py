"""The admin console's bodies: the to-close board and internal notes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    StringConstraints,
)

from api.schemas.base import Strict
from api.schemas.orders import OrderSummary, PublicId


class BoardOut(BaseModel):
    """The to-close board (销号清单): open orders by what the center must do next.

    ``counts`` are every such order in the admin's townships; ``columns`` the most urgent
    of each (nearest deadline first). Columns: ``pending`` (待派单), ``dispatched`` (已派单),
    ``accepted`` (已接单), ``overdue`` (超时未办结: past the 72 hours and still open),
    ``supervised`` (待中心处理: nobody could take it, its workflow was lost, the resident
    hurried it, or a complaint about it is open; see ``api/stores/figures.py``).
    ``complaint_open``: the listed orders with an open complaint, to say why they are there.
    """

    counts: dict[str, int]
    columns: dict[str, list[OrderSummary]]
    complaint_open: list[str] = []
    at: datetime


NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class NoteBody(Strict):
    text: NoteText


class NoteOut(BaseModel):
    """A staff note on an order: internal, never shown to residents or volunteers."""

    id: str
    order_id: PublicId
    text: str
    author: str | None
    created_at: datetime
