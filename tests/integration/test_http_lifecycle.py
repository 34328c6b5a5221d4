"""Full lifecycles over HTTP against the real worker, dev server and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, func, select
from temporalio.client import Client

from api.database import Database
from api.main import create_app
from api.reconciler import reconcile_once
from api.stores import orders
from core.models import Order, OrderNote
from core.settings import Settings
from tests.helpers import WHOLE_LOOP, order_body
from worker import build_worker
from workflows.order import workflow_id

Json = dict[str, Any]


def submission(township: str, **overrides: object) -> Json:
    body: Json = order_body(township).model_dump()
    body.update(overrides)
    return body


async def register(api: httpx.AsyncClient, township: str, skills: list[str] | None = None) -> int:
    phone = f"137{uuid.uuid4().int % 10**8:08d}"
    r = await api.post(
        "/api/volunteers",
        json={"name": "吴志强", "phone": phone, "township": township, "skills": skills or []},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def wait_for_follow_up(api: httpx.AsyncClient, order_id: int) -> Json:
    for _ in range(100):
        order = await ok(await api.get(f"/api/orders/{order_id}"))
        if order["follow_up"] is not None:
            follow_up: Json = order["follow_up"]
            return follow_up
        await asyncio.sleep(0.05)
    raise AssertionError("no follow-up task appeared")


async def test_catalog_has_the_seeded_menu(api: httpx.AsyncClient) -> None:
    catalog = await ok(await api.get("/api/catalog"))
    assert len(catalog) == 13
    assert sum(len(c["items"]) for c in catalog) == 36
    names = {i["name"] for c in catalog for i in c["items"]} | {c["name"] for c in catalog}
    for named in ("文明引导", "应急救援", "科学普及", "卫生环保", "道德模范宣讲", "非遗文化传承"):
        assert named in names


async def test_a_request_goes_round_the_whole_loop(
    api: httpx.AsyncClient, township: str, temporal: Client
) -> None:
    volunteer = await register(api, township, ["care"])
    created = await ok(await api.post("/api/orders", json=submission(township)), 201)
    order_id = created["id"]
    assert created["status"] == "pending"
    assert created["category_code"] == "care"
    submitted_at = datetime.fromisoformat(created["submitted_at"])
    assert datetime.fromisoformat(created["deadline_at"]) - submitted_at == timedelta(hours=72)
    assert created["resident_phone_masked"] == "138****8000"

    listed = await ok(
        await api.get("/api/orders", params={"status": "pending", "township": township})
    )
    assert [o["id"] for o in listed["items"]] == [order_id]
    assert "resident_name" not in listed["items"][0]

    order = await ok(
        await api.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer})
    )
    assert (order["status"], order["volunteer_id"]) == ("dispatched", volunteer)
    order = await ok(
        await api.post(f"/api/orders/{order_id}/accept", json={"volunteer_id": volunteer})
    )
    assert order["status"] == "accepted"
    order = await ok(
        await api.post(
            f"/api/orders/{order_id}/complete",
            json={"volunteer_id": volunteer, "summary": "买了药，打扫了厨房。", "hours": 3},
        )
    )
    assert (order["status"], order["hours"]) == ("completed", 3)
    order = await ok(
        await api.post(
            f"/api/orders/{order_id}/review", json={"rating": "very_satisfied", "comment": "很及时"}
        )
    )
    assert (order["status"], order["rating"]) == ("reviewed", "very_satisfied")

    follow_up = await wait_for_follow_up(api, order_id)
    queue = await ok(await api.get("/api/follow-ups", params={"status": "open", "limit": 200}))
    task = next(t for t in queue["items"] if t["order_id"] == order_id)
    assert task["id"] == follow_up["id"] and task["status"] == "open"
    assert task["resident_phone"] == "13800138000"  # the call-center needs to call

    order = await ok(
        await api.post(
            f"/api/follow-ups/{task['id']}/result",
            json={"method": "phone", "outcome": "confirmed", "notes": "老人很满意"},
        )
    )
    assert order["status"] == "closed"
    assert order["follow_up"]["status"] == "done"
    timeline = order["timeline"]
    assert [e["event"] for e in timeline] == WHOLE_LOOP
    by_event = {e["event"]: e for e in timeline}
    assert by_event["accepted"]["actor"] == f"volunteer:{volunteer}"
    assert by_event["completed"]["note"] == "买了药，打扫了厨房。"
    assert by_event["reviewed"]["note"] == "很及时"
    assert by_event["followed_up"]["note"] == "老人很满意"
    assert by_event["closed"]["actor"] == "system"

    # Commands on a closed order are refused.
    r = await api.post(f"/api/orders/{order_id}/cancel", json={"reason": "不需要了"})
    assert r.status_code == 409 and r.json()["code"] == "OrderFinished"
    r = await api.post(
        f"/api/follow-ups/{task['id']}/result", json={"method": "phone", "outcome": "confirmed"}
    )
    assert r.status_code == 409

    # Admins find it in Temporal by its search attributes (visibility is eventually consistent).
    query = f'Township = "{township}" AND OrderStatus = "closed" AND ServiceCategory = "care"'
    found: list[str] = []
    for _ in range(100):
        found = [w.id async for w in temporal.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [workflow_id(order_id)]


async def test_idempotency_key_makes_retries_return_the_same_order(
    api: httpx.AsyncClient, township: str, database: Database
) -> None:
    key = str(uuid.uuid4())
    headers = {"Idempotency-Key": key}
    first = await api.post("/api/orders", json=submission(township), headers=headers)
    again = await api.post("/api/orders", json=submission(township), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"

    other = {"Idempotency-Key": str(uuid.uuid4())}
    racing = await asyncio.gather(
        *(api.post("/api/orders", json=submission(township), headers=other) for _ in range(6))
    )
    assert {r.status_code for r in racing} == {201}
    assert len({r.json()["id"] for r in racing}) == 1

    reused = await api.post(
        "/api/orders", json=submission(township, reason="另一件事"), headers=headers
    )
    assert reused.status_code == 409
    assert reused.json()["code"] == "IdempotencyKeyReused"

    def count(session: Any) -> int:
        return int(
            session.scalar(
                select(func.count()).select_from(Order).where(Order.township == township)
            )
        )

    assert await database.run(count) == 2


async def test_two_concurrent_accepts_yield_one_assignee(
    api: httpx.AsyncClient, township: str
) -> None:
    a, b = await register(api, township), await register(api, township)
    order_id = (await ok(await api.post("/api/orders", json=submission(township)), 201))["id"]
    await ok(await api.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": a}))
    responses = await asyncio.gather(
        api.post(f"/api/orders/{order_id}/accept", json={"volunteer_id": a}),
        api.post(f"/api/orders/{order_id}/accept", json={"volunteer_id": a}),
        api.post(f"/api/orders/{order_id}/accept", json={"volunteer_id": b}),
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409], [r.text for r in responses]
    order = await ok(await api.get(f"/api/orders/{order_id}"))
    assert (order["status"], order["volunteer_id"]) == ("accepted", a)
    assert [e["event"] for e in order["timeline"]].count("accepted") == 1


async def test_bad_input_gets_a_clear_error_and_changes_nothing(
    api: httpx.AsyncClient, township: str, database: Database
) -> None:
    r = await api.post("/api/orders", json=submission(township, item_code="no.such.item"))
    assert r.status_code == 422 and "item_code" in r.json()["detail"]
    r = await api.post("/api/orders", json=submission(township, resident_phone="call me"))
    assert r.status_code == 422
    r = await api.post("/api/orders", json=submission(township, reason=""))
    assert r.status_code == 422
    r = await api.post("/api/orders", json=submission(township, surprise=1))
    assert r.status_code == 422
    r = await api.post("/api/orders", json=submission("不存在镇 张三家"))
    assert r.status_code == 422 and "township" in r.json()["detail"]
    r = await api.post(
        "/api/orders", json=submission(township, resident_phone="+1234567890123456789")
    )
    assert r.status_code == 422
    r = await api.post(
        "/api/orders", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    listed = await ok(await api.get("/api/orders", params={"township": township}))
    assert listed["total"] == 0

    assert (await api.get("/api/orders/999999")).status_code == 404
    r = await api.post("/api/orders/999999/accept", json={"volunteer_id": 987654})
    assert r.status_code == 404 and r.json()["code"] == "NotFound"
    assert (await api.get("/api/orders", params={"status": "lost"})).status_code == 422
    assert (await api.get("/api/follow-ups/999999")).status_code == 404

    order_id = (await ok(await api.post("/api/orders", json=submission(township)), 201))["id"]
    r = await api.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": 987654})
    assert r.status_code == 422 and "volunteer_id" in r.json()["detail"]
    r = await api.post(f"/api/orders/{order_id}/review", json={"rating": "great"})
    assert r.status_code == 422
    r = await api.post(
        f"/api/orders/{order_id}/review", json={"rating": "satisfied", "comment": "还没来"}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "InvalidTransition"
    assert "pending" in r.json()["detail"]

    volunteer = await register(api, township)
    r = await api.post(
        f"/api/orders/{order_id}/decline", json={"volunteer_id": volunteer, "reason": "没空"}
    )
    assert r.status_code == 409 and r.json()["code"] == "InvalidTransition"
    r = await api.post(
        "/api/volunteers",
        json={"name": "x", "phone": "13700000000", "township": township, "skills": ["cooking"]},
    )
    assert r.status_code == 422 and "cooking" in r.json()["detail"]

    order = await ok(await api.get(f"/api/orders/{order_id}"))
    assert order["status"] == "pending"
    assert [e["event"] for e in order["timeline"]] == ["submitted"]

    def notes(session: Any) -> int:
        return int(
            session.scalar(
                select(func.count()).select_from(OrderNote).where(OrderNote.order_id == order_id)
            )
        )

    assert await database.run(notes) == 0  # the rejected review's comment was not kept


async def test_duplicate_volunteer_phone_is_a_conflict(
    api: httpx.AsyncClient, township: str
) -> None:
    body = {"name": "杨", "phone": "+86 139 0000 1111", "township": township, "skills": ["health"]}
    first = await ok(await api.post("/api/volunteers", json=body), 201)
    assert first["phone"] == "+8613900001111"
    again = await api.post("/api/volunteers", json={**body, "phone": "+8613900001111"})
    assert again.status_code == 409
    listed = await ok(await api.get("/api/volunteers", params={"township": township}))
    assert [v["id"] for v in listed["items"]] == [first["id"]]
    assert (
        await ok(await api.get("/api/volunteers", params={"skill": "health", "township": township}))
    )["total"] == 1


async def test_cancel_then_nothing_else(api: httpx.AsyncClient, township: str) -> None:
    volunteer = await register(api, township)
    order_id = (await ok(await api.post("/api/orders", json=submission(township)), 201))["id"]
    await ok(await api.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer}))
    order = await ok(
        await api.post(f"/api/orders/{order_id}/cancel", json={"reason": "已自行解决"})
    )
    assert order["status"] == "cancelled"
    assert order["timeline"][-1]["note"] == "已自行解决"
    r = await api.post(f"/api/orders/{order_id}/accept", json={"volunteer_id": volunteer})
    assert r.status_code == 409 and r.json()["code"] == "OrderFinished"
    listed = await ok(
        await api.get("/api/orders", params={"status": "cancelled", "township": township})
    )
    assert listed["total"] == 1


async def test_list_filters_and_pages(api: httpx.AsyncClient, township: str) -> None:
    ids = []
    for item in ("care.errands", "care.errands", "legal.mediation"):
        body = submission(township, item_code=item)
        ids.append((await ok(await api.post("/api/orders", json=body), 201))["id"])
    page = await ok(await api.get("/api/orders", params={"township": township, "limit": 2}))
    assert page["total"] == 3 and [o["id"] for o in page["items"]] == ids[::-1][:2]
    page = await ok(
        await api.get("/api/orders", params={"township": township, "limit": 2, "offset": 2})
    )
    assert [o["id"] for o in page["items"]] == [ids[0]]
    legal = await ok(
        await api.get("/api/orders", params={"township": township, "category": "legal"})
    )
    assert [o["id"] for o in legal["items"]] == [ids[2]]
    late = await ok(await api.get("/api/orders", params={"township": township, "overdue": "true"}))
    assert late["total"] == 0
    assert (await api.get("/api/orders", params={"limit": 1000})).status_code == 422


async def test_health_reports_both_dependencies(api: httpx.AsyncClient) -> None:
    health = await ok(await api.get("/healthz"))
    assert health == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_orders_whose_workflow_never_started_are_started_by_the_reconciler(
    api: httpx.AsyncClient,
    township: str,
    database: Database,
    temporal: Client,
    live_settings: Settings,
) -> None:
    # As if the API died between committing the order and starting its workflow.
    submitted = await database.run(
        orders.create_order,
        order_body(township),
        idempotency_key=None,
        completion_sla=live_settings.completion_sla,
    )
    started = await reconcile_once(temporal, database, live_settings, older_than=timedelta(0))
    assert started >= 1
    desc = await temporal.get_workflow_handle(workflow_id(submitted.order_id)).describe()
    assert desc.status is not None and desc.status.name == "RUNNING"
    assert await reconcile_once(temporal, database, live_settings, older_than=timedelta(0)) == 0

    # A command for an order whose workflow never started starts it, then applies.
    orphan = await database.run(
        orders.create_order,
        order_body(township),
        idempotency_key=None,
        completion_sla=live_settings.completion_sla,
    )
    volunteer = await register(api, township)
    order = await ok(
        await api.post(f"/api/orders/{orphan.order_id}/dispatch", json={"volunteer_id": volunteer})
    )
    assert order["status"] == "dispatched"
    order = await ok(
        await api.post(
            f"/api/orders/{submitted.order_id}/dispatch", json={"volunteer_id": volunteer}
        )
    )
    assert order["status"] == "dispatched"


async def test_townships_are_listed_and_registered(api: httpx.AsyncClient) -> None:
    names = [t["name"] for t in await ok(await api.get("/api/townships"))]
    assert "蓼皋街道" in names and len(names) >= 26
    name = f"新镇{uuid.uuid4().hex[:4]}"
    created = await ok(await api.post("/api/townships", json={"name": name, "name_en": "New"}), 201)
    assert created == {"name": name, "name_en": "New", "lat": None, "lon": None}
    assert (
        await api.post("/api/townships", json={"name": name, "name_en": "x"})
    ).status_code == 409
    assert (await ok(await api.post("/api/orders", json=submission(name)), 201))["township"] == name


async def test_phones_are_masked_where_nobody_needs_them(
    api: httpx.AsyncClient, township: str
) -> None:
    volunteer = await register(api, township)
    listed = await ok(await api.get("/api/volunteers", params={"township": township}))
    assert "****" in listed["items"][0]["phone"]
    full = await ok(await api.get(f"/api/volunteers/{volunteer}"))
    assert "*" not in full["phone"]


async def test_a_command_that_cannot_apply_in_time_answers_504_and_still_lands(
    api_only: httpx.AsyncClient,
    township: str,
    live_settings: Settings,
    temporal: Client,
    engine: Engine,
    database: Database,
) -> None:
    # No worker is running: the workflow cannot answer within COMMAND_TIMEOUT.
    app = create_app(
        live_settings.model_copy(update={"command_timeout": timedelta(seconds=1)}),
        reconcile_every=timedelta(hours=1),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as api,
    ):
        order_id = (await ok(await api.post("/api/orders", json=submission(township)), 201))["id"]
        r = await api.post(f"/api/orders/{order_id}/cancel", json={"reason": "家人已帮忙"})
        assert r.status_code == 504 and r.json()["code"] == "CommandPending"
    # The command was not lost: once a worker runs, it applies, note and all.
    with ThreadPoolExecutor(max_workers=live_settings.worker_max_concurrent_activities) as pool:
        async with build_worker(temporal, engine, live_settings, executor=pool):
            await temporal.get_workflow_handle(workflow_id(order_id)).result()
    order = await ok(await api_only.get(f"/api/orders/{order_id}"))
    assert order["status"] == "cancelled"
    assert order["timeline"][-1]["note"] == "家人已帮忙"


async def test_a_deactivated_volunteer_gets_no_new_dispatch_but_keeps_history(
    api: httpx.AsyncClient, township: str
) -> None:
    volunteer = await register(api, township)
    done = (await ok(await api.post("/api/orders", json=submission(township)), 201))["id"]
    await ok(await api.post(f"/api/orders/{done}/dispatch", json={"volunteer_id": volunteer}))
    paused = await ok(await api.patch(f"/api/volunteers/{volunteer}", json={"active": False}))
    assert paused["active"] is False
    fresh = (await ok(await api.post("/api/orders", json=submission(township)), 201))["id"]
    r = await api.post(f"/api/orders/{fresh}/dispatch", json={"volunteer_id": volunteer})
    assert r.status_code == 422 and r.json()["code"] == "InactiveVolunteer"
    # What was already theirs stays theirs: they can still accept it.
    order = await ok(await api.post(f"/api/orders/{done}/accept", json={"volunteer_id": volunteer}))
    assert (order["status"], order["volunteer_id"]) == ("accepted", volunteer)
    assert (await api.patch("/api/volunteers/999999", json={"active": True})).status_code == 404
    await ok(await api.patch(f"/api/volunteers/{volunteer}", json={"active": True}))
    await ok(await api.post(f"/api/orders/{fresh}/dispatch", json={"volunteer_id": volunteer}))
