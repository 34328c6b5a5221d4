"""Signed webhook delivery, as Twilio makes it: form-encoded, ``X-Twilio-Signature``, retries."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from twilio_sim.state import WebhookRecord

logger = logging.getLogger("twilio_sim.webhooks")

USER_AGENT = "TwilioProxy/1.1 (twilio-sim)"
# How much of a response body to keep for the inspection API (TwiML documents are small).
_BODY_KEEP = 4000


class WebhookSender:
    """Makes the requests Twilio would make to the application.

    Args:
        client: The HTTP client (shared; its transport may be an in-process ASGI app).
        auth_token: The account's auth token; every request is signed with it.
        attempts: Deliveries tried per request when the connection fails or the app answers 5xx.
        retry_delay: Seconds before the second attempt (doubled each further attempt).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        auth_token: str,
        *,
        attempts: int = 3,
        retry_delay: float = 0.05,
    ) -> None:
        self.client = client
        self.validator = RequestValidator(auth_token)
        self.attempts = max(1, attempts)
        self.retry_delay = retry_delay

    def sign(self, url: str, params: dict[str, str]) -> str:
        return str(self.validator.compute_signature(url, params))

    async def send(self, kind: str, method: str, url: str, params: dict[str, str]) -> WebhookRecord:
        """Delivers one webhook, retrying transport errors and 5xx answers.

        For GET, Twilio puts the parameters in the query string and signs the full URL with no
        body parameters; for POST it signs the URL followed by the sorted body parameters.
        """
        method = method.upper()
        if method == "GET":
            request_url = url + ("&" if "?" in url else "?") + urlencode(params) if params else url
            signature = self.sign(request_url, {})
        else:
            request_url = url
            signature = self.sign(url, params)
        headers = {
            "X-Twilio-Signature": signature,
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
        }
        record = WebhookRecord(kind=kind, method=method, url=url, params=dict(params))
        for attempt in range(1, self.attempts + 1):
            record.attempts = attempt
            logger.info("→ %s %s %s (attempt %d)", kind, method, request_url, attempt)
            logger.debug("  params %s", params)
            try:
                if method == "GET":
                    response = await self.client.get(request_url, headers=headers)
                else:
                    response = await self.client.post(url, data=params, headers=headers)
            except httpx.HTTPError as exc:
                record.error = f"{type(exc).__name__}: {exc}"
                logger.warning("← %s %s failed: %s", kind, url, record.error)
            else:
                record.status_code = response.status_code
                record.body = response.text[:_BODY_KEEP]
                record.error = None
                logger.info(
                    "← %s %s %d (%d bytes)", kind, url, response.status_code, len(response.content)
                )
                if response.status_code < 500:
                    return record
            if attempt < self.attempts:
                await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
        return record
