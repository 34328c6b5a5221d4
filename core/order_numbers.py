"""An order's number: short, digits only, readable aloud in two groups (``2612 0457``).

The month it was submitted in, county time (``2612`` is December 2026), then its place in
that month, four digits or more (``0457``): a caller reads it out, an agent types it, an SMS
carries it. It is no secret and opens nothing; links keep the public id. Pure.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

PREFIX_DIGITS = 4
SEQUENCE_DIGITS = 4
_SPACES = re.compile(r"[\s\-]+")


def month_of(at: datetime, timezone: str) -> str:
    """``YYMM`` of ``at`` in the county's time zone."""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local.year % 100:02d}{local.month:02d}"


def compose(month: str, place: int) -> str:
    """The number of the ``place``-th order (from 1) of ``month``."""
    return f"{month}{place:0{SEQUENCE_DIGITS}d}"


def spoken(number: str) -> str:
    """The number as people read it: the month, a space, its place (``2612 0457``)."""
    return f"{number[:PREFIX_DIGITS]} {number[PREFIX_DIGITS:]}"


def squeezed(text: str) -> str:
    """What someone typed, without the spaces and dashes people group digits with."""
    return _SPACES.sub("", text)


def typed(text: str) -> str | None:
    """What someone typed as an order's number, as stored, or ``None`` if it cannot be one."""
    digits = squeezed(text)
    if digits.isdigit() and len(digits) >= PREFIX_DIGITS + SEQUENCE_DIGITS:
        return digits
    return None
