"""The SMS that carries a sign-in code, sent through Twilio (the simulator under ``make run``).

Neither the code nor the number is ever logged or stored with the message: a sign-in code
is not an order notice, so it is not written to ``sms_messages`` either. The twilio SDK is
blocking, so the request runs in a worker thread.
"""

from __future__ import annotations

import logging

from anyio import to_thread

from api.errors import ApiError
from core.phones import mask_for_log
from core.settings import Settings
from core.twilio import make_client
from core.twilio_errors import Verdict, classify

log = logging.getLogger(__name__)

SMS_UNAVAILABLE = "SmsUnavailable"


def code_text(settings: Settings, code: str) -> str:
    """``【县新时代文明实践中心】您的登录验证码是123456，5分钟内有效。请勿告诉他人。``"""
    minutes = max(1, round(settings.sms_code_ttl.total_seconds() / 60))
    return f"{settings.sms_signature}您的登录验证码是{code}，{minutes}分钟内有效。请勿告诉他人。"


def unavailable(why: str) -> ApiError:
    return ApiError(503, SMS_UNAVAILABLE, f"sign-in codes cannot be sent now ({why}); try later")


async def send_code(settings: Settings, phone: str, code: str) -> None:
    """Text ``code`` to ``phone`` (E.164).

    Twilio refusing the number (a 4xx: not a mobile, blocked) is logged and otherwise
    ignored, so the answer is the same as for any number; Twilio unreachable or failing
    raises ``ApiError`` 503 ``SmsUnavailable``.
    """
    client = make_client(settings)
    if client is None:
        raise unavailable("no SMS account is configured")

    def send() -> None:
        client.messages.create(
            to=phone, from_=settings.twilio_from_number, body=code_text(settings, code)
        )

    try:
        await to_thread.run_sync(send)
    except Exception as exc:
        # Only the classification is logged: Twilio's messages quote the number.
        failure = classify(exc)
        if failure.verdict is Verdict.REFUSED:
            log.warning("sign-in code to %s refused: %s", mask_for_log(phone), failure.summary)
            return
        log.error("sign-in code to %s not sent: %s", mask_for_log(phone), failure.summary)
        raise unavailable("the SMS service did not answer") from exc
