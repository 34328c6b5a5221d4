"""Phone numbers: as people type them, as Twilio wants them (E.164), and masked.

Two masks, because two readers: staff screens show enough to recognise a number
(``mask_for_screen``); logs keep almost nothing of it (``mask_for_log``).
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"^\+?[0-9]{6,15}$")
# China's numbering plan after +86: an 11-digit mobile (1[3-9]…), Beijing's 10 + 8 digits, or
# another area code (2–3 digits, no trunk 0) with a 7- or 8-digit local number. Residents type
# numbers by hand; "123456" must be refused, not texted.
_CHINA = re.compile(r"^(?:1[3-9][0-9]{9}|10[0-9]{8}|[2-9][0-9]{8,10})$")


def normalise(value: str) -> str:
    """Drop spaces and dashes; then 6 to 15 digits, optionally after ``+`` (E.164's limit)."""
    compact = value.replace(" ", "").replace("-", "")
    if not _DIGITS.fullmatch(compact):
        raise ValueError("a phone number is 6 to 15 digits, optionally starting with +")
    return compact


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
    if full.startswith("+86") and not _CHINA.fullmatch(full[3:]):
        return None
    return full if 8 <= len(full) <= 16 else None


def mask_for_screen(phone: str) -> str:
    """For people who may see whose number it is: the first three and last four digits.

    A Chinese number in E.164 shows as people write it (``+8613800138000`` → ``138****8000``).
    """
    national = phone.removeprefix("+86") if len(phone) == 14 else phone
    if len(national) <= 7:
        return "****"
    return national[:3] + "*" * (len(national) - 7) + national[-4:]


def mask_for_log(number: str | None) -> str:
    """For logs: only the last two digits (``***00``)."""
    if not number:
        return "(none)"
    return "***" + "".join(c for c in number if c.isdigit())[-2:]
