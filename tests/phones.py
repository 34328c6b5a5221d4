"""The phone side of the system for tests: the Twilio simulator and our webhooks, served.

Our API must be reachable over HTTP (the simulator calls its webhooks as Twilio would), and
its ``PUBLIC_BASE_URL`` must be known before the app is built: ``LateApp`` lets the server
take its port first and the app be plugged in afterwards.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from pydantic import SecretStr

from core.calling_hours import CallingHours
from core.settings import Settings
from twilio_sim import ThreadedServer, create_app

ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "phone-test-token"
FROM_NUMBER = "+862388880000"
ALL_DAY = CallingHours(start_minute=0, end_minute=24 * 60)

T = TypeVar("T")


class LateApp:
    """An ASGI app whose real app is set after the server has bound its port."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def simulator(**options: Any) -> ThreadedServer:
    """The Twilio simulator for ``ACCOUNT_SID`` (not started)."""
    return ThreadedServer(create_app(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, **options))


def with_twilio(
    settings: Settings, *, api_base_url: str, public_base_url: str, **update: Any
) -> Settings:
    """``settings`` with the test Twilio account, the simulator and our public URL."""
    values: dict[str, Any] = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": SecretStr(AUTH_TOKEN),
        "twilio_from_number": FROM_NUMBER,
        "twilio_api_base_url": api_base_url,
        "public_base_url": public_base_url,
        "calling_hours": ALL_DAY,
        "follow_up_retry_delay": timedelta(hours=4),
    }
    values.update(update)
    return settings.model_copy(update=values)
