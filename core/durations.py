"""Human-friendly durations such as ``30s``, ``15m``, ``4h``, ``3d`` or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Parse ``72h``, ``3d``, ``1h30m`` or a bare number of seconds into a timedelta.

    Raises:
        ValueError: if the text is empty, malformed or not positive.
    """
    if isinstance(text, timedelta):
        value = text
    elif isinstance(text, int | float):
        value = timedelta(seconds=text)
    else:
        raw = text.strip().lower().replace(" ", "")
        if raw.isdigit():
            value = timedelta(seconds=int(raw))
        else:
            parts = _PART.findall(raw)
            if not parts or "".join(n + u for n, u in parts) != raw:
                raise ValueError(
                    f"invalid duration {text!r}: use a number with s, m, h or d, like 30s, 4h, 3d"
                )
            value = timedelta()
            for number, unit in parts:
                value += timedelta(**{_UNITS[unit]: int(number)})
    if value <= timedelta():
        raise ValueError(f"duration {text!r} must be positive")
    return value


def format_duration(value: timedelta) -> str:
    """Format a timedelta in the same compact notation ``parse_duration`` reads."""
    seconds = int(value.total_seconds())
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out) or "0s"
