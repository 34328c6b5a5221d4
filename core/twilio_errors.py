"""What a failed Twilio request means for the thing it tried to create (a call, an SMS).

Both Twilio activities record an intent row before asking Twilio, and what they do when the
request fails depends on one question: could Twilio have created the call or message anyway?

- ``NOT_CREATED``: certainly not, and worth trying again (Twilio rate-limited us or was
  unavailable; the connection was never established).
- ``REFUSED``: Twilio answered that it will not create it (a 4xx: invalid number, unverified
  caller id, blocked destination, bad credentials); trying again changes nothing.
- ``AMBIGUOUS``: the request may have reached Twilio (a read timeout, a dropped connection, a
  5xx that might come from a proxy behind which Twilio did the work, anything unknown). The
  intent stays in flight and is never sent again: a resident called twice is worse than a
  call the workflow has to give up on.

twilio-python 9 does not wrap transport errors: ``TwilioHttpClient`` lets ``requests``'
exceptions through as they are (``requests.exceptions.ConnectionError`` wrapping urllib3's
``MaxRetryError(reason=NewConnectionError)`` when nothing was listening, ``ConnectTimeout``,
``ReadTimeout`` ...). HTTP errors become ``TwilioRestException`` (Twilio's ``{"code",
"message"}`` shape) or, for RFC 9457 problem documents, ``TwilioServiceException``; both carry
``status`` and ``code``. Neither's message is used here: Twilio's messages quote the phone
number ("The 'To' number +86... is not a valid phone number").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import requests
from temporalio.exceptions import ApplicationError
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from urllib3.exceptions import MaxRetryError, NewConnectionError

# ApplicationError types of the retryable failures (both activities):
# Twilio certainly did not create the call/message (rate-limited, unavailable, unreachable).
TWILIO_UNAVAILABLE = "TwilioUnavailable"
# The request may have reached Twilio and no answer came back: the intent stays in flight and
# the next attempt does not ask again. The SDK's own exception is not passed on: Twilio's error
# messages quote phone numbers, which must not reach workflow history.
TWILIO_OUTCOME_UNKNOWN = "TwilioOutcomeUnknown"

# HTTP statuses that say the request was not processed and may be sent again later:
# 408 (the server gave up waiting for the request), 429 (rate limited), 503 (unavailable).
_RETRY_STATUSES = frozenset({408, 429, 503})


class Verdict(StrEnum):
    NOT_CREATED = "not_created"
    REFUSED = "refused"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class TwilioFailure:
    """A failed request, classified, with what may be said about it in logs and errors."""

    verdict: Verdict
    # Twilio's error code (21211 ...), else the HTTP status; None for transport errors.
    code: int | None
    status: int | None
    # A short description without personal data: safe for logs and ApplicationError messages.
    summary: str


def classify(exc: BaseException) -> TwilioFailure:
    """Classify an exception raised by a twilio SDK create request."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(exc.status)
        code = _int_or_none(exc.code)
        summary = f"Twilio answered HTTP {status}" + (f" with error {code}" if code else "")
        if status in _RETRY_STATUSES:
            return TwilioFailure(Verdict.NOT_CREATED, code, status, summary)
        if 400 <= status < 500:
            return TwilioFailure(Verdict.REFUSED, code, status, summary)
        # 500, 502, 504 ...: an error page from Twilio or a proxy in front of it, possibly after
        # the work was done.
        return TwilioFailure(Verdict.AMBIGUOUS, code, status, summary)
    if _never_connected(exc):
        return TwilioFailure(
            Verdict.NOT_CREATED, None, None, f"could not connect to Twilio ({type(exc).__name__})"
        )
    return TwilioFailure(
        Verdict.AMBIGUOUS, None, None, f"no answer from Twilio ({type(exc).__name__})"
    )


def retry_error(failure: TwilioFailure, *, where: str, what: str) -> ApplicationError:
    """The retryable error for a request Twilio did not take, or may have taken.

    ``what`` is the past participle of the request ("placed", "sent"). Refusals are the
    caller's to handle: a call gives up, an SMS goes on to the next recipient.
    """
    if failure.verdict is Verdict.NOT_CREATED:
        return ApplicationError(f"{where}: not {what}, {failure.summary}", type=TWILIO_UNAVAILABLE)
    return ApplicationError(
        f"{where}: may or may not be {what}, {failure.summary}", type=TWILIO_OUTCOME_UNKNOWN
    )


def _never_connected(exc: BaseException) -> bool:
    """Whether the request certainly never left this process (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ProxyError | requests.exceptions.SSLError):
        return False  # connected to something; cannot tell how far the request got
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        # NameResolutionError (DNS) is a NewConnectionError in urllib3 2.
        return isinstance(reason, NewConnectionError)
    return False


def _int_or_none(value: object) -> int | None:
    try:
        return int(value) if value is not None else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
