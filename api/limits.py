"""Abuse limits: how often a number may get a sign-in code, an address may try to sign in,
a resident may order help.

Moving windows from the ``limits`` library, in this process's memory by default, or in Redis
when ``RATE_LIMIT_STORAGE_URL`` is set so that every API replica counts together. A request
over a limit gets 429 ``RateLimited`` with ``Retry-After`` (seconds). A refused request
counts against nothing: every window is tested before any is charged. When the shared
storage cannot be reached the limited routes answer 503 rather than let everything through
(an SMS costs money, and a code guessed is an account taken).

Keys never hold a phone number: it is keyed (HMAC) with the signing secret first.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from api.deps import SettingsDep
from core.settings import Settings

log = logging.getLogger(__name__)

RATE_LIMITED = "RateLimited"
LIMITS_UNAVAILABLE = "RateLimitUnavailable"
NAMESPACE = "four-orders"
_UNKNOWN_IP = "unknown"


class RateLimited(Exception):
    """Over a limit: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; try again in {retry_after} s")
        self.retry_after = retry_after


class LimitsUnavailable(Exception):
    """The shared counters (Redis) cannot be reached."""


def storage_uri(url: str | None) -> str:
    """The asynchronous ``limits`` storage for ``RATE_LIMIT_STORAGE_URL`` (memory when unset)."""
    if not url:
        return "async+memory://"
    return url if url.startswith("async+") else f"async+{url}"


class Limits:
    """The API's limits, each a list of windows (``"1/minute;10/day"``) over some key."""

    def __init__(self, settings: Settings, *, namespace: str = NAMESPACE) -> None:
        uri = storage_uri(settings.rate_limit_storage_url)
        options: dict[str, float | str | bool] = {"wrap_exceptions": True}
        if not uri.startswith("async+memory"):
            # redis-py (a dependency already), not limits' default coredis.
            options.update(implementation="redispy", socket_timeout=2, socket_connect_timeout=2)
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri, **options))
        self._namespace = namespace
        self._secret = settings.signing_secret.encode()
        self.sms_code_per_number = parse_many(settings.sms_code_per_number)
        self.sms_code_per_ip = parse_many(settings.sms_code_per_ip)
        self.login_per_ip = parse_many(settings.login_per_ip)
        self.order_submit_per_resident = parse_many(settings.order_submit_per_resident)
        self.order_submit_per_ip = parse_many(settings.order_submit_per_ip)
        self.inbound_per_number = parse_many(settings.inbound_per_number)

    async def check_sms_code(self, phone: str, ip: str | None) -> None:
        """A sign-in code for ``phone`` (E.164) asked from ``ip``: ``SMS_CODE_PER_*``."""
        await self.charge(
            (self.sms_code_per_ip, "sms-code-ip", ip or _UNKNOWN_IP),
            (self.sms_code_per_number, "sms-code-number", self._pseudonym(phone)),
        )

    async def sms_code_wait(self, phone: str) -> int:
        """Seconds until ``phone`` may ask for another code (0: now), for the page's countdown."""
        key = self._pseudonym(phone)
        try:
            waits = [
                await self._wait(item, "sms-code-number", key)
                for item in self.sms_code_per_number
                if not await self._limiter.test(item, self._namespace, "sms-code-number", key)
            ]
        except StorageError:
            return 0  # the code is on its way; only the countdown is lost
        return max(waits, default=0)

    async def check_login(self, ip: str | None) -> None:
        """A sign-in attempt (password or SMS code) from ``ip``: ``LOGIN_PER_IP``."""
        await self.charge((self.login_per_ip, "login-ip", ip or _UNKNOWN_IP))

    async def check_order_submit(self, resident_id: int, ip: str | None) -> None:
        """An order submitted by ``resident_id`` from ``ip``: ``ORDER_SUBMIT_PER_*``."""
        await self.charge(
            (self.order_submit_per_ip, "order-submit-ip", ip or _UNKNOWN_IP),
            (self.order_submit_per_resident, "order-submit-resident", str(resident_id)),
        )

    async def check_inbound(self, phone: str) -> None:
        """A call or an SMS to the center's number from ``phone``: ``INBOUND_PER_NUMBER``."""
        await self.charge((self.inbound_per_number, "inbound-number", self._pseudonym(phone)))

    async def charge(self, *limits: tuple[Sequence[RateLimitItem], str, str]) -> None:
        """Count one request against every ``(windows, name, key)``, or refuse it.

        Raises ``RateLimited`` (with the longest wait) when any window is full, having charged
        none; ``LimitsUnavailable`` when the storage does not answer.
        """
        keyed = [(item, name, key) for items, name, key in limits for item in items]
        try:
            waits = [
                await self._wait(item, name, key)
                for item, name, key in keyed
                if not await self._limiter.test(item, self._namespace, name, key)
            ]
            if waits:
                raise RateLimited(max(waits))
            for item, name, key in keyed:
                # Another request may have taken the last place since the test.
                if not await self._limiter.hit(item, self._namespace, name, key):
                    raise RateLimited(await self._wait(item, name, key))
        except StorageError as exc:
            log.error("rate-limit storage unavailable: %s", exc.storage_error)
            raise LimitsUnavailable() from exc

    async def _wait(self, item: RateLimitItem, name: str, key: str) -> int:
        stats = await self._limiter.get_window_stats(item, self._namespace, name, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _pseudonym(self, value: str) -> str:
        return hmac.new(self._secret, value.encode(), hashlib.sha256).hexdigest()[:32]


async def _limits(request: Request, settings: SettingsDep) -> Limits:
    # Made on first use from the app's settings (tests may skip the lifespan); on the event
    # loop (async), so two first requests cannot make two.
    limits: Limits | None = getattr(request.app.state, "limits", None)
    if limits is None:
        limits = request.app.state.limits = Limits(settings)
    return limits


LimitsDep = Annotated[Limits, Depends(_limits)]


def install(app: FastAPI) -> None:
    """Answer 429 with ``Retry-After``, and 503 when the counters cannot be reached."""

    @app.exception_handler(RateLimited)
    async def _rate_limited(_request: Request, exc: RateLimited) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc), "code": RATE_LIMITED},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(LimitsUnavailable)
    async def _unavailable(_request: Request, _exc: LimitsUnavailable) -> JSONResponse:
        return JSONResponse(
            {"detail": "sign-in is briefly unavailable; try again", "code": LIMITS_UNAVAILABLE},
            status_code=503,
            headers={"Retry-After": "5"},
        )
