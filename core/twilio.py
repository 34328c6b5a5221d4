"""The real twilio SDK client, built from settings (for the worker's activities)."""

from __future__ import annotations

from twilio.rest import Client

from core.settings import Settings


def make_client(settings: Settings) -> Client | None:
    """A client for ``settings``' account, or ``None`` when no Twilio account is configured.

    ``TWILIO_API_BASE_URL`` replaces Twilio's REST host (api.twilio.com): the local simulator
    and tests point it at themselves. twilio-python builds every Calls and Messages URL from
    ``client.api.base_url``; edge and region are cleared so nothing rewrites the host again.
    """
    if not settings.twilio_configured:
        return None
    assert settings.twilio_account_sid and settings.twilio_auth_token
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value())
    client.edge = None
    client.region = None
    client.api.base_url = settings.twilio_api_base_url.rstrip("/")
    return client
