"""The URLs Twilio calls us back on, built from ``PUBLIC_BASE_URL``.

One place, because the same URL is built when a call or SMS is placed (for Twilio to call)
and when a callback arrives (to check its signature, which covers the full URL).
"""

from __future__ import annotations

PREFIX = "/api/twilio"


def _base(public_base_url: str) -> str:
    return public_base_url.rstrip("/") + PREFIX


def call_voice_url(public_base_url: str, call_id: int) -> str:
    """The TwiML of a follow-up call, fetched when it is answered."""
    return f"{_base(public_base_url)}/calls/{call_id}/voice"


def call_gather_url(public_base_url: str, call_id: int, round_: int, *, menu: bool = False) -> str:
    """Where a ``<Gather>`` posts the key pressed; ``round_`` counts the prompts played, and
    ``menu`` says it is the four-grade menu a confirming call opened."""
    url = f"{_base(public_base_url)}/calls/{call_id}/gather?round={round_}"
    return url + "&menu=1" if menu else url


def call_status_url(public_base_url: str, call_id: int) -> str:
    """The status callback of a follow-up call (how it ended)."""
    return f"{_base(public_base_url)}/calls/{call_id}/status"


def sms_status_url(public_base_url: str, sms_id: int) -> str:
    """The status callback of an SMS (delivered, undelivered, failed)."""
    return f"{_base(public_base_url)}/sms/{sms_id}/status"
