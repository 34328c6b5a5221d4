"""Twilio's webhooks are proven by their ``X-Twilio-Signature``, or refused with 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from twilio.request_validator import RequestValidator

from api.deps import SettingsDep
from api.errors import TWILIO_SIGNATURE, ApiError
from api.responses import refusals
from core.settings import Settings


def public_url(request: Request, settings: Settings) -> str:
    """The URL Twilio called, as Twilio saw it: ``PUBLIC_BASE_URL`` + path + query.

    Never the Host header: a proxy in front changes scheme, host, port and prefix, and the
    signature covers the URL Twilio used.
    """
    path = request.url.path
    root = request.scope.get("root_path") or ""
    if root and path.startswith(root):
        path = path[len(root) :]
    query = request.url.query
    return settings.public_base_url.rstrip("/") + path + (f"?{query}" if query else "")


async def signed_params(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The callback's form parameters, once its ``X-Twilio-Signature`` is proven.

    Raises:
        ApiError: 403 for a missing or wrong signature (or no Twilio account configured).
    """
    token = settings.twilio_auth_token
    if token is None:
        raise ApiError(403, TWILIO_SIGNATURE, "no Twilio account is configured here")
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        raise ApiError(403, TWILIO_SIGNATURE, "the X-Twilio-Signature header is missing")
    form = await request.form()
    params = {key: value for key, value in form.items() if isinstance(value, str)}
    url = public_url(request, settings)
    if not RequestValidator(token.get_secret_value()).validate(url, params, signature):
        raise ApiError(403, TWILIO_SIGNATURE, "the X-Twilio-Signature does not match")
    return params


TwilioParams = Annotated[dict[str, str], Depends(signed_params)]
# What every webhook route documents it refuses.
UNSIGNED = refusals({403: "Not signed by Twilio (X-Twilio-Signature)"})
