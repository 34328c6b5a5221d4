"""Bad input gets a 4xx with a code, never a 500, and nothing echoes back what was sent.

Ids beyond PostgreSQL's integers, years no order has, lone surrogates, NaN, control and
direction-override characters, a body of megabytes; and the database or Temporal being
down answers 503 with ``Retry-After`` instead of a plain-text 500.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from api import schemas
from api.database import Database
from core.db import make_engine
from core.settings import Settings
from tests import signin
from tests.api.auth_app import app_on, caller
from tests.conftest import TEMPORAL_CLI

HUGE = 99999999999999999999


@pytest.fixture
def app(database: Database, settings: Settings) -> FastAPI:
    return app_on(database, settings)


@pytest.fixture
async def admin(database: Database, settings: Settings) -> dict[str, str]:
    return await signin.staff(database, settings)


async def raw(api: httpx.AsyncClient, method: str, url: str, body: str, **headers: str) -> Any:
    """Send ``body`` as it is (JSON that Python's encoder would never write)."""
    return await api.request(
        method, url, content=body.encode(), headers={"content-type": "application/json", **headers}
    )


@pytest.mark.parametrize(
    "url",
    [
        f"/api/volunteers/{HUGE}",
        f"/api/units/{HUGE}",
        f"/api/follow-ups/{HUGE}",
        f"/api/complaints/{HUGE}",
        f"/api/orders?offset={HUGE}",
        f"/api/orders?volunteer_id={HUGE}",
        "/api/orders/1",  # not a public id
        "/api/reports/follow-up?since=0001-01-01T00:00:00",
        "/api/reports/follow-up?until=9999-12-31T23:59:59",
    ],
)
async def test_impossible_ids_and_times_are_422(
    app: FastAPI, admin: dict[str, str], url: str
) -> None:
    async with caller(app) as api:
        answer = await api.get(url, headers=admin)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "InvalidRequest"


async def test_text_no_person_types_is_refused_and_never_echoed(
    app: FastAPI, admin: dict[str, str]
) -> None:
    async with caller(app) as api:
        for body in (
            '{"name": "bad\\u0000name", "name_en": "x"}',  # NUL: PostgreSQL refuses it
            '{"name": "\\u202etxet", "name_en": "x"}',  # reads backwards
            '{"name": "\\ud800", "name_en": "x"}',  # a lone surrogate: no character at all
        ):
            answer = await raw(api, "POST", "/api/townships", body, **admin)
            assert answer.status_code == 422, answer.text
            assert answer.json()["code"] == "InvalidRequest"
            assert "input" not in answer.text and "\\u202e" not in answer.text
        # NaN in a number, and an id beyond any integer, in a body.
        nan = '{"name": "x", "phone": "13700000000", "township": "蓼皋街道", "lat": NaN, "lon": 1}'
        assert (await raw(api, "POST", "/api/volunteers", nan, **admin)).status_code == 422
        huge = json.dumps({"kind": "team", "name": "x", "township": "蓼皋街道", "leader_id": HUGE})
        answer = await raw(api, "POST", "/api/units", huge, **admin)
        assert answer.status_code == 422
        # Ordinary Chinese with line breaks and tabs is fine.
        ok = await api.post(
            "/api/townships", headers=admin, json={"name": "正常镇\t一", "name_en": "Fine"}
        )
        assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(
    ("method", "url", "signed_in"),
    [
        ("GET", "/api/places?township=%00", False),  # anonymous: PostgreSQL refused the NUL
        ("GET", "/api/volunteers?skill=legal%00x", True),
        ("GET", "/api/orders?item=%E2%80%AEtxet", True),  # reads backwards
        ("GET", "/api/units?%00=1", True),  # in a name, or in a parameter no route declares
        ("PUT", "/api/dispatch-policies/legal%07", True),
        ("PATCH", "/api/catalog/items/legal%1b", True),
        ("GET", "/no-such-page%00", False),
    ],
)
async def test_parameters_no_person_types_are_refused_before_any_route(
    app: FastAPI, admin: dict[str, str], method: str, url: str, signed_in: bool
) -> None:
    async with caller(app) as api:
        answer = await api.request(method, url, headers=admin if signed_in else {}, json={})
    assert answer.status_code == 422, answer.text
    refusal = answer.json()
    assert refusal["code"] == "InvalidRequest"
    assert refusal["detail"][0]["loc"][0] in ("query", "path")
    assert "\\u" not in answer.text and "%" not in answer.text


async def test_a_body_of_megabytes_is_413_and_not_echoed(
    app: FastAPI, admin: dict[str, str]
) -> None:
    big = json.dumps({"name": "x" * 3_000_000, "name_en": "x"})
    async with caller(app) as api:
        answer = await api.post(
            "/api/townships", content=big, headers={**admin, "content-type": "application/json"}
        )
        assert answer.status_code == 413
        assert answer.json()["code"] == "RequestTooLarge" and len(answer.content) < 200

        # The same without a length (chunked): refused while reading.
        async def chunks() -> Any:
            for _ in range(40):
                yield b"x" * 100_000

        answer = await api.post(
            "/api/townships",
            content=chunks(),
            headers={**admin, "content-type": "application/json"},
        )
        assert answer.status_code == 413


async def test_the_database_down_is_503_with_retry_after(
    settings: Settings, admin: dict[str, str]
) -> None:
    engine = make_engine("postgresql+psycopg2://postgres@127.0.0.1:9/nowhere")
    try:
        app = app_on(Database(engine), settings)
        async with caller(app) as api:
            answer = await api.get("/api/townships")
        assert answer.status_code == 503
        assert answer.json()["code"] == "DatabaseUnavailable"
        assert answer.headers["Retry-After"] == "5"
    finally:
        engine.dispose()


async def test_temporal_down_is_503_with_retry_after(
    database: Database, settings: Settings, township: str
) -> None:
    app = app_on(database, settings)
    # A client that was connected, to a server that has since gone away.
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=TEMPORAL_CLI, dev_server_log_level="error"
    ) as gone:
        app.state.temporal = gone.client
    resident = await signin.resident(database, settings)
    body = {
        "item_code": "care.errands",
        "reason": "需要帮忙",
        "address": "某村",
        "township": township,
        "resident_name": "张",
    }
    async with caller(app) as api:
        answer = await api.post("/api/orders", json=body, headers=resident)
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "TemporalUnavailable"
    assert answer.headers["Retry-After"] == "5"


def test_an_explicit_null_phone_is_no_phone_not_a_500() -> None:
    # Found by the fuzz (tests/integration/test_fuzz.py): the normaliser got None.
    fields = {"item_code": "x", "reason": "r", "address": "a", "township": "t"}
    body = schemas.OrderCreate.model_validate(
        {**fields, "resident_name": "n", "resident_phone": None}
    )
    assert body.resident_phone is None
