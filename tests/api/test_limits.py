"""The abuse limits (api/limits.py) in this process's memory and in Redis, shared by replicas.

Redis is the one at ``TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); each test
counts under a namespace of its own. Without a Redis server those tests skip, unless
``REDIS_TESTS_REQUIRED=1`` (CI), which makes them fail instead.
"""

from __future__ import annotations

import os
import socket
import uuid

import pytest
import redis

from api.database import Database
from api.limits import Limits, LimitsUnavailable, RateLimited, storage_uri
from core.settings import Settings
from tests.api.auth_app import app_on, caller, login

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_or_skip() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("REDIS_TESTS_REQUIRED") == "1":
            raise AssertionError(f"Redis is needed at {REDIS_URL}: {exc}") from exc
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}); REDIS_TESTS_REQUIRED=1 makes this fail")
    return REDIS_URL


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> str | None:
    return redis_or_skip() if request.param == "redis" else None


@pytest.fixture
def namespace() -> str:
    return f"test-{uuid.uuid4().hex}"


def limited(settings: Settings, storage: str | None, **limits: str) -> Settings:
    return settings.model_copy(update={"rate_limit_storage_url": storage, **limits})


async def refused_for(limits: Limits, resident_id: int, ip: str) -> int:
    with pytest.raises(RateLimited) as refused:
        await limits.check_order_submit(resident_id, ip)
    return refused.value.retry_after


async def test_order_submits_per_resident_and_per_address(
    settings: Settings, storage: str | None, namespace: str
) -> None:
    limits = Limits(
        limited(
            settings,
            storage,
            order_submit_per_resident="3/day",
            order_submit_per_ip="5/minute",
        ),
        namespace=namespace,
    )
    for _ in range(3):
        await limits.check_order_submit(1, "198.51.100.1")
    assert 86_000 < await refused_for(limits, 1, "198.51.100.1") <= 86_400
    # Resident 1 is at their day's limit from anywhere; the refusal cost the address nothing.
    assert await refused_for(limits, 1, "198.51.100.2") > 86_000
    for _ in range(2):
        await limits.check_order_submit(2, "198.51.100.1")
    assert 0 < await refused_for(limits, 3, "198.51.100.1") <= 60
    await limits.check_order_submit(3, "198.51.100.2")


async def test_replicas_count_together_through_redis_and_apart_in_memory(
    settings: Settings, namespace: str
) -> None:
    shared = limited(settings, redis_or_skip(), order_submit_per_resident="2/hour")
    first, second = Limits(shared, namespace=namespace), Limits(shared, namespace=namespace)
    await first.check_order_submit(7, "198.51.100.9")
    await second.check_order_submit(7, "198.51.100.9")
    assert await refused_for(first, 7, "198.51.100.9") > 3500
    assert await refused_for(second, 7, "198.51.100.9") > 3500

    apart = limited(settings, None, order_submit_per_resident="1/hour")
    first, second = Limits(apart, namespace=namespace), Limits(apart, namespace=namespace)
    await first.check_order_submit(7, "198.51.100.9")
    await second.check_order_submit(7, "198.51.100.9")


async def test_keys_in_redis_never_hold_a_phone_number(settings: Settings, namespace: str) -> None:
    url = redis_or_skip()
    limits = Limits(limited(settings, url), namespace=namespace)
    await limits.check_sms_code("+8613912345678", "198.51.100.3")
    keys = redis.Redis.from_url(url, decode_responses=True).keys(f"*{namespace}*")
    assert len(keys) == 3  # the address's window, the number's minute and day
    assert not any("13912345678" in key for key in keys)


async def test_redis_out_of_reach_refuses_rather_than_lets_through(
    database: Database, settings: Settings
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    with pytest.raises(LimitsUnavailable):
        await Limits(limited(settings, closed)).check_login("198.51.100.4")
    async with caller(app_on(database, limited(settings, closed))) as api:
        response = await login(api, "nobody", "y")
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "RateLimitUnavailable"
    assert int(response.headers["Retry-After"]) > 0


async def test_sign_in_attempts_are_limited_through_redis(
    database: Database, settings: Settings
) -> None:
    app = app_on(database, limited(settings, redis_or_skip(), login_per_ip="2/minute"))
    async with caller(app) as api:
        answers = [await login(api, "nobody", "wrong") for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60


def test_the_storage_follows_the_setting() -> None:
    assert storage_uri(None) == "async+memory://"
    assert storage_uri("redis://redis:6379/0") == "async+redis://redis:6379/0"
    assert storage_uri("async+redis://redis:6379/0") == "async+redis://redis:6379/0"
