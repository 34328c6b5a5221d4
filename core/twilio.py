"""The real twilio SDK client, built from settings (for the worker's activities)."""

from __future__ import annotations

from dataclasses import dataclass

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from core.settings import Settings

REQUEST_TIMEOUT_S = 15.0


def make_client(settings: Settings) -> Client | None:
    """A client for ``settings``' account, or ``None`` when no Twilio account is configured.

    ``TWILIO_API_BASE_URL`` replaces Twilio's REST host (api.twilio.com): the local simulator
    and tests point it at themselves. twilio-python builds every Calls and Messages URL from
    ``client.api.base_url``; edge and region are cleared so nothing rewrites the host again.
    """
    if not settings.twilio_configured:
        return None
    assert settings.twilio_account_sid and settings.twilio_auth_token
    client = Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        # The SDK waits forever by default, and a sync activity's timeout cannot interrupt
        # its thread: answer within the activity's start-to-close timeout (30 s) instead.
        http_client=TwilioHttpClient(timeout=REQUEST_TIMEOUT_S),
    )
    client.edge = None
    client.region = None
    client.api.base_url = settings.twilio_api_base_url.rstrip("/")
    return client


@dataclass(frozen=True)
class TwilioAccount:
    """What both Twilio activities send with: the client (``None`` without an account), the
    number calls and SMS come from (E.164), where Twilio reaches this application's webhooks,
    and the country of residents' numbers written without ``+``."""

    client: Client | None
    from_number: str | None
    public_base_url: str
    country_code: str

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioAccount:
        return cls(
            make_client(settings),
            settings.twilio_from_number,
            settings.public_base_url,
            settings.default_country_code,
        )
