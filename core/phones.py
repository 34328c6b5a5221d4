"""Phone numbers as Twilio wants them: E.164 (``+8613800138000``)."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"^\+?[0-9]{6,15}$")


def e164(number: str, *, country_code: str) -> str | None:
    """``number`` in E.164, or ``None`` when it cannot be one.

    Numbers are stored as residents typed them (spaces and dashes removed): with ``+`` they
    are taken as they are; ``00`` is the international prefix; anything else is a national
    number of ``country_code`` (a leading trunk ``0`` is dropped, as in ``010 …`` landlines).
    """
    compact = re.sub(r"[\s\-()]", "", number)
    if not _DIGITS.match(compact):
        return None
    if compact.startswith("+"):
        full = compact
    elif compact.startswith("00"):
        full = "+" + compact[2:]
    else:
        full = f"+{country_code}{compact.lstrip('0')}"
    return full if 8 <= len(full) <= 16 else None
