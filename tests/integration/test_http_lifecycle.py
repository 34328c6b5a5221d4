"""Full lifecycles over HTTP against the real worker, dev server and PostgreSQL.

Every caller signs in (``tests/signin.py``): the resident orders and reviews, an admin
dispatches, the volunteer accepts and completes, an agent records the follow-up.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, func, select
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client

from api.database import Database
from api.main import create_app
from api.reconciler import flag_lost_once, reconcile_once
from api.stores import orders
from core.models import Order, OrderNote
from core.order_numbers import spoken
from core.settings import Settings
from tests.helpers import RESIDENT, WHOLE_LOOP, order_body
from tests.polling import eventually
from tests.signin import Caller, People
from worker import build_worker
from workflows.order import workflow_id

Json = dict[str, Any]


def submission(township: str, **overrides: object) -> Json:
    body: Json = order_body(township).model_dump(exclude_none=True)
    body.update(overrides)
    return body


async def register(admin: Caller, township: str, skills: list[str] | None = None) -> int:
    """A volunteer registered (and vetted) by an admin."""
    phone = f"137{uuid.uuid4().int % 10**8:08d}"
    r = await admin.post(
        "/api/volunteers",
        json={"name": "吴志强", "phone": phone, "township": township, "skills": skills or []},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def wait_for_follow_up(caller: Caller, order_id: str) -> Json:
    order = await eventually(
        lambda: caller.get(f"/api/orders/{order_id}"),
        lambda r: r.status_code == 200 and r.json()["follow_up"] is not None,
        what="a follow-up task",
    )
    follow_up: Json = order.json()["follow_up"]
    return follow_up


async def order_placed(
    people: People, township: str, phone: str = "13800138000", **overrides: object
) -> str:
    """A new order from the resident of ``phone`` (the default one unless told); its public id."""
    resident = await people.resident(phone)
    created = await ok(
        await resident.post("/api/orders", json=submission(township, **overrides)), 201
    )
    return str(created["id"])


async def finish(people: People, order_id: str, volunteer_id: int) -> Json:
    """From a dispatch to ``volunteer_id`` to closed: each step by whoever takes it."""
    volunteer = await people.volunteer(volunteer_id)
    await ok(await volunteer.post(f"/api/orders/{order_id}/accept"))
    await ok(
        await volunteer.post(
            f"/api/orders/{order_id}/complete", json={"summary": "已办好", "hours": 1.5}
        )
    )
    resident = await people.resident()
    await ok(await resident.post(f"/api/orders/{order_id}/review", json={"rating": "satisfied"}))
    agent = await people.agent()
    task = await wait_for_follow_up(agent, order_id)
    closed: Json = await ok(
        await agent.post(
            f"/api/follow-ups/{task['id']}/result", json={"method": "phone", "outcome": "confirmed"}
        )
    )
    assert closed["status"] == "closed", closed
    return closed


async def test_catalog_has_the_seeded_menu(people: People) -> None:
    catalog = await ok(await people.anonymous.get("/api/catalog"))
    assert len(catalog) == 13
    assert sum(len(c["items"]) for c in catalog) == 36
    names = {i["name"] for c in catalog for i in c["items"]} | {c["name"] for c in catalog}
    for named in ("文明引导", "应急救援", "科学普及", "卫生环保", "道德模范宣讲", "非遗文化传承"):
        assert named in names


async def test_a_request_goes_round_the_whole_loop(
    worker: None, people: People, township: str, temporal: Client
) -> None:
    admin, agent, resident = await people.admin(), await people.agent(), await people.resident()
    volunteer_id = await register(admin, township, ["care"])
    volunteer = await people.volunteer(volunteer_id)
    created = await ok(await resident.post("/api/orders", json=submission(township)), 201)
    order_id = created["id"]
    assert created["status"] == "pending" and created["channel"] == "web"
    assert created["category_code"] == "care"
    assert len(order_id) == 16 and not order_id.isdigit()  # a public id, never the row number
    submitted_at = datetime.fromisoformat(created["submitted_at"])
    assert datetime.fromisoformat(created["deadline_at"]) - submitted_at == timedelta(hours=72)
    assert created["resident_phone_masked"] == "138****8000"
    assert created["workflow_id"] is None  # internal: for staff only

    listed = await ok(
        await admin.get("/api/orders", params={"status": "pending", "township": township})
    )
    assert [o["id"] for o in listed["items"]] == [order_id]
    assert "resident_name" not in listed["items"][0]
    mine = await ok(await resident.get("/api/me/orders"))
    assert order_id in [o["id"] for o in mine["items"]]

    order = await ok(
        await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer_id})
    )
    assert (order["status"], order["volunteer_id"]) == ("dispatched", volunteer_id)
    assert order["workflow_id"].startswith("order-")
    # Before accepting, the volunteer sees what and where, not who or the exact address.
    offered = await ok(await volunteer.get(f"/api/orders/{order_id}"))
    assert (offered["resident_name"], offered["address"], offered["reason"]) == (None, None, None)
    assert (await volunteer.get(f"/api/orders/{order_id}/contact")).status_code == 403
    order = await ok(await volunteer.post(f"/api/orders/{order_id}/accept"))
    assert order["status"] == "accepted" and order["address"] == created["address"]
    contact = await ok(await volunteer.get(f"/api/orders/{order_id}/contact"))
    assert contact["resident_phone"] == "+8613800138000"
    order = await ok(
        await volunteer.post(
            f"/api/orders/{order_id}/complete",
            json={"summary": "买了药，打扫了厨房。", "hours": 3},
        )
    )
    assert (order["status"], order["hours"]) == ("completed", 3)
    order = await ok(
        await resident.post(
            f"/api/orders/{order_id}/review", json={"rating": "very_satisfied", "comment": "很及时"}
        )
    )
    assert (order["status"], order["rating"]) == ("reviewed", "very_satisfied")

    follow_up = await wait_for_follow_up(agent, order_id)
    queue = await ok(await agent.get("/api/follow-ups", params={"status": "open", "limit": 200}))
    task = next(t for t in queue["items"] if t["order_id"] == order_id)
    assert task["id"] == follow_up["id"] and task["status"] == "open"
    assert task["resident_phone"] == "138****8000"  # masked in the queue
    await ok(await agent.post(f"/api/follow-ups/{task['id']}/claim"))
    held = await ok(await agent.get(f"/api/follow-ups/{task['id']}"))
    assert held["resident_phone"] == "+8613800138000"  # the holder calls the resident

    order = await ok(
        await agent.post(
            f"/api/follow-ups/{task['id']}/result",
            json={"method": "phone", "outcome": "confirmed", "notes": "老人很满意"},
        )
    )
    assert order["status"] == "closed"
    assert order["follow_up"]["status"] == "done"
    timeline = order["timeline"]
    assert [e["event"] for e in timeline] == WHOLE_LOOP
    by_event = {e["event"]: e for e in timeline}
    assert by_event["accepted"]["actor"] == f"volunteer:{volunteer_id}"
    assert by_event["followed_up"]["note"] == "老人很满意"
    assert by_event["closed"]["actor"] == "system"
    # Their claim ended with the result: the agent no longer reads the resident's words.
    assert by_event["completed"]["note"] is None and by_event["reviewed"]["note"] is None
    # The call-center's note is internal: the resident reads their own words, not staff's.
    theirs = await ok(await resident.get(f"/api/orders/{order_id}"))
    notes = {e["event"]: e["note"] for e in theirs["timeline"]}
    assert notes["reviewed"] == "很及时" and notes["followed_up"] is None
    assert notes["completed"] == "买了药，打扫了厨房。"
    # Once closed, the volunteer no longer reaches the resident.
    assert (await volunteer.get(f"/api/orders/{order_id}/contact")).status_code == 403

    # Commands on a closed order are refused.
    r = await resident.post(f"/api/orders/{order_id}/cancel", json={"reason": "不需要了"})
    assert r.status_code == 409 and r.json()["code"] == "OrderFinished"
    r = await agent.post(
        f"/api/follow-ups/{task['id']}/result", json={"method": "phone", "outcome": "confirmed"}
    )
    assert r.status_code == 409

    # Admins find it in Temporal by its search attributes (visibility is eventually consistent).
    query = f'Township = "{township}" AND OrderStatus = "closed" AND ServiceCategory = "care"'
    found = await eventually(
        lambda: _workflow_ids(temporal, query), bool, what="the closed order in Temporal"
    )
    assert found == [order["workflow_id"]]
    # A caller reads out the order's number; the admin finds it by that alone.
    by_number = await _workflow_ids(temporal, f'OrderNumber = "{order["number"]}"')
    assert by_number == [order["workflow_id"]]
    # The list's summary and the details line read as the pages do: the number in two
    # groups, the service's Chinese name, times in the county's zone.
    handle = temporal.get_workflow_handle(order["workflow_id"])
    described = await handle.describe()
    assert await described.static_summary() == (
        f"{spoken(order['number'])} · {order['item_name']} · {township}"
    )
    # What the UI's "Current details" shows, read the way the UI reads it.
    meta = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    details = meta.current_details
    assert order["item_name"] in details and "Asia/Shanghai" in details and "UTC" not in details


async def _workflow_ids(temporal: Client, query: str) -> list[str]:
    return [w.id async for w in temporal.list_workflows(query)]


async def test_idempotency_key_makes_retries_return_the_same_order(
    worker: None, people: People, township: str, database: Database
) -> None:
    resident = await people.resident()
    key = str(uuid.uuid4())
    headers = {"Idempotency-Key": key}
    first = await resident.post("/api/orders", json=submission(township), headers=headers)
    again = await resident.post("/api/orders", json=submission(township), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"

    other = {"Idempotency-Key": str(uuid.uuid4())}
    racing = await asyncio.gather(
        *(resident.post("/api/orders", json=submission(township), headers=other) for _ in range(6))
    )
    assert {r.status_code for r in racing} == {201}
    assert len({r.json()["id"] for r in racing}) == 1

    reused = await resident.post(
        "/api/orders", json=submission(township, reason="另一件事"), headers=headers
    )
    assert reused.status_code == 409
    assert reused.json()["code"] == "IdempotencyKeyReused"
    # Another resident's retry under the same key never returns the first one's order.
    neighbour = await people.resident("13900001234")
    stolen = await neighbour.post("/api/orders", json=submission(township), headers=headers)
    assert stolen.status_code == 409 and stolen.json()["code"] == "IdempotencyKeyReused"

    def count(session: Any) -> int:
        return int(
            session.scalar(
                select(func.count()).select_from(Order).where(Order.township == township)
            )
        )

    assert await database.run(count) == 2


async def test_two_concurrent_accepts_yield_one_assignee(
    worker: None, people: People, township: str
) -> None:
    admin = await people.admin()
    a, b = await register(admin, township), await register(admin, township)
    as_a, as_b = await people.volunteer(a), await people.volunteer(b)
    order_id = await order_placed(people, township)
    await ok(await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": a}))
    responses = await asyncio.gather(
        as_a.post(f"/api/orders/{order_id}/accept"),
        as_a.post(f"/api/orders/{order_id}/accept"),
        as_b.post(f"/api/orders/{order_id}/accept"),
    )
    codes = sorted(r.status_code for r in responses)
    # b was never offered it: to them it does not exist.
    assert codes == [200, 404, 409], [r.text for r in responses]
    order = await ok(await admin.get(f"/api/orders/{order_id}"))
    assert (order["status"], order["volunteer_id"]) == ("accepted", a)
    assert [e["event"] for e in order["timeline"]].count("accepted") == 1


async def test_bad_input_gets_a_clear_error_and_changes_nothing(
    worker: None, people: People, township: str, database: Database
) -> None:
    admin, resident = await people.admin(), await people.resident()
    r = await resident.post("/api/orders", json=submission(township, item_code="no.such.item"))
    assert r.status_code == 422 and "item_code" in r.json()["detail"]
    r = await resident.post("/api/orders", json=submission(township, resident_phone="13812345678"))
    assert r.status_code == 422 and r.json()["code"] == "NotYourPhone"
    r = await resident.post("/api/orders", json=submission(township, reason=""))
    assert r.status_code == 422
    r = await resident.post("/api/orders", json=submission(township, surprise=1))
    assert r.status_code == 422
    r = await resident.post("/api/orders", json=submission("不存在镇 张三家"))
    assert r.status_code == 422 and "township" in r.json()["detail"]
    r = await admin.post(
        "/api/orders", json=submission(township, resident_phone="+1234567890123456789")
    )
    assert r.status_code == 422
    r = await admin.post("/api/orders", json=submission(township))
    assert r.status_code == 422 and r.json()["code"] == "PhoneRequired"
    r = await resident.post(
        "/api/orders", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    listed = await ok(await admin.get("/api/orders", params={"township": township}))
    assert listed["total"] == 0

    assert (await admin.get("/api/orders/AAAAAAAAAAAAAAAA")).status_code == 404
    assert (await admin.get("/api/orders/1")).status_code == 422  # not an order id at all
    assert (await admin.get("/api/orders", params={"status": "lost"})).status_code == 422
    assert (await admin.get("/api/follow-ups/999999")).status_code == 404

    order_id = await order_placed(people, township)
    r = await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": 987654})
    assert r.status_code == 422 and "volunteer_id" in r.json()["detail"]
    r = await resident.post(f"/api/orders/{order_id}/review", json={"rating": "great"})
    assert r.status_code == 422
    r = await resident.post(
        f"/api/orders/{order_id}/review", json={"rating": "satisfied", "comment": "还没来"}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "InvalidTransition"
    assert "pending" in r.json()["detail"]

    r = await admin.post(
        "/api/volunteers",
        json={"name": "x", "phone": "13700000000", "township": township, "skills": ["cooking"]},
    )
    assert r.status_code == 422 and "cooking" in r.json()["detail"]

    order = await ok(await admin.get(f"/api/orders/{order_id}"))
    assert order["status"] == "pending"
    assert [e["event"] for e in order["timeline"]] == ["submitted"]

    def notes(session: Any) -> int:
        internal = session.scalar(select(Order.id).where(Order.public_id == order_id))
        return int(
            session.scalar(
                select(func.count()).select_from(OrderNote).where(OrderNote.order_id == internal)
            )
        )

    assert await database.run(notes) == 0  # the rejected review's comment was not kept


async def test_staff_order_for_a_caller_who_then_follows_it_by_phone(
    worker: None, people: People, township: str
) -> None:
    agent = await people.agent()
    body = submission(township, resident_phone="139 1111 2222", channel="hotline")
    created = await ok(await agent.post("/api/orders", json=body), 201)
    assert created["channel"] == "hotline"
    assert created["timeline"][0]["actor"].startswith("call_center:")
    caller = await people.resident("13911112222")
    mine = await ok(await caller.get("/api/me/orders"))
    assert [o["id"] for o in mine["items"]] == [created["id"]]
    web = submission(township, resident_phone="13911112222", channel="web")
    r = await agent.post("/api/orders", json=web)
    assert r.status_code == 422 and r.json()["code"] == "InvalidChannel"


async def test_duplicate_volunteer_phone_is_a_conflict(people: People, township: str) -> None:
    admin = await people.admin()
    body = {"name": "杨", "phone": "+86 139 0000 1111", "township": township, "skills": ["health"]}
    first = await ok(await admin.post("/api/volunteers", json=body), 201)
    assert first["phone"] == "+8613900001111"
    again = await admin.post("/api/volunteers", json={**body, "phone": "13900001111"})
    assert again.status_code == 409
    listed = await ok(await admin.get("/api/volunteers", params={"township": township}))
    assert [v["id"] for v in listed["items"]] == [first["id"]]
    assert (
        await ok(
            await admin.get("/api/volunteers", params={"skill": "health", "township": township})
        )
    )["total"] == 1
    await ok(await admin.patch(f"/api/volunteers/{first['id']}", json={"active": False}))


async def test_cancel_then_nothing_else(worker: None, people: People, township: str) -> None:
    admin, resident = await people.admin(), await people.resident()
    volunteer_id = await register(admin, township)
    order_id = await order_placed(people, township)
    await ok(
        await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer_id})
    )
    order = await ok(
        await resident.post(f"/api/orders/{order_id}/cancel", json={"reason": "已自行解决"})
    )
    assert order["status"] == "cancelled"
    assert order["timeline"][-1]["note"] == "已自行解决"
    volunteer = await people.volunteer(volunteer_id)
    r = await volunteer.post(f"/api/orders/{order_id}/accept")
    assert r.status_code == 409 and r.json()["code"] == "OrderFinished"
    listed = await ok(
        await admin.get("/api/orders", params={"status": "cancelled", "township": township})
    )
    assert listed["total"] == 1


async def test_list_filters_and_pages(worker: None, people: People, township: str) -> None:
    admin = await people.admin()
    ids = [
        await order_placed(people, township, item_code=item)
        for item in ("care.errands", "care.errands", "legal.mediation")
    ]
    page = await ok(await admin.get("/api/orders", params={"township": township, "limit": 2}))
    assert page["total"] == 3 and [o["id"] for o in page["items"]] == ids[::-1][:2]
    page = await ok(
        await admin.get("/api/orders", params={"township": township, "limit": 2, "offset": 2})
    )
    assert [o["id"] for o in page["items"]] == [ids[0]]
    legal = await ok(
        await admin.get("/api/orders", params={"township": township, "category": "legal"})
    )
    assert [o["id"] for o in legal["items"]] == [ids[2]]
    late = await ok(
        await admin.get("/api/orders", params={"township": township, "overdue": "true"})
    )
    assert late["total"] == 0
    assert (await admin.get("/api/orders", params={"limit": 1000})).status_code == 422


async def test_health_reports_both_dependencies(people: People) -> None:
    health = await ok(await people.anonymous.get("/healthz"))
    assert health == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_orders_whose_workflow_never_started_are_started_by_the_reconciler(
    worker: None,
    people: People,
    township: str,
    database: Database,
    temporal: Client,
    live_settings: Settings,
) -> None:
    # As if the API died between committing the order and starting its workflow.
    submitted = await database.run(
        orders.create_order,
        order_body(township),
        RESIDENT,
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
        RESIDENT,
        idempotency_key=None,
        completion_sla=live_settings.completion_sla,
    )
    admin = await people.admin()
    volunteer_id = await register(admin, township)
    for public_id in (orphan.public_id, submitted.public_id):
        order = await ok(
            await admin.post(
                f"/api/orders/{public_id}/dispatch", json={"volunteer_id": volunteer_id}
            )
        )
        assert order["status"] == "dispatched"


async def test_a_workflow_terminated_outside_the_api_is_flagged_for_admins(
    worker: None,
    people: People,
    township: str,
    database: Database,
    temporal: Client,
) -> None:
    admin = await people.admin()
    order_id = await order_placed(people, township)
    order = await ok(await admin.get(f"/api/orders/{order_id}"))
    await temporal.get_workflow_handle(order["workflow_id"]).terminate("by hand in the UI")
    flagged = await eventually(
        lambda: flag_lost_once(temporal, database, within=timedelta(hours=1)),
        lambda n: n >= 1,
        what="the terminated order flagged",
    )
    assert flagged >= 1
    order = await ok(await admin.get(f"/api/orders/{order_id}"))
    assert (order["status"], order["workflow_lost"]) == ("pending", "terminated")
    lost = await ok(await admin.get("/api/orders", params={"township": township, "lost": "true"}))
    assert [o["id"] for o in lost["items"]] == [order_id]
    resident = await people.resident()
    r = await resident.post(f"/api/orders/{order_id}/cancel", json={"reason": "等不及了"})
    assert r.status_code == 409 and r.json()["code"] == "WorkflowLost"
    # Flagging twice changes nothing.
    assert await flag_lost_once(temporal, database, within=timedelta(hours=1)) == 0


async def test_townships_are_listed_and_registered(people: People) -> None:
    admin = await people.admin()
    names = [t["name"] for t in await ok(await people.anonymous.get("/api/townships"))]
    assert "蓼皋街道" in names and len(names) >= 26
    name = f"新镇{uuid.uuid4().hex[:4]}"
    created = await ok(
        await admin.post("/api/townships", json={"name": name, "name_en": "New"}), 201
    )
    assert created == {"name": name, "name_en": "New", "lat": None, "lon": None}
    assert (
        await admin.post("/api/townships", json={"name": name, "name_en": "x"})
    ).status_code == 409
    resident = await people.resident()
    assert (await ok(await resident.post("/api/orders", json=submission(name)), 201))[
        "township"
    ] == name


async def test_phones_are_masked_where_nobody_needs_them(people: People, township: str) -> None:
    admin = await people.admin()
    volunteer_id = await register(admin, township)
    listed = await ok(await admin.get("/api/volunteers", params={"township": township}))
    assert "****" in listed["items"][0]["phone"]
    assert "****" in (await ok(await admin.get(f"/api/volunteers/{volunteer_id}")))["phone"]
    volunteer = await people.volunteer(volunteer_id)
    own = await ok(await volunteer.get(f"/api/volunteers/{volunteer_id}"))
    assert "*" not in own["phone"]  # their own number, in full
    await ok(await admin.patch(f"/api/volunteers/{volunteer_id}", json={"active": False}))


async def test_a_command_that_cannot_apply_in_time_answers_504_and_still_lands(
    people: People,
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
    resident_headers = (await people.resident()).headers
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        resident = Caller(client, resident_headers)
        order_id = (await ok(await resident.post("/api/orders", json=submission(township)), 201))[
            "id"
        ]
        r = await resident.post(f"/api/orders/{order_id}/cancel", json={"reason": "家人已帮忙"})
        assert r.status_code == 504 and r.json()["code"] == "CommandPending"
    # The command was not lost: once a worker runs, it applies, note and all.
    admin = await people.admin()
    wid = (await ok(await admin.get(f"/api/orders/{order_id}")))["workflow_id"]
    with ThreadPoolExecutor(max_workers=live_settings.worker_max_concurrent_activities) as pool:
        async with build_worker(temporal, engine, live_settings, executor=pool):
            await temporal.get_workflow_handle(wid).result()
    order = await ok(await admin.get(f"/api/orders/{order_id}"))
    assert order["status"] == "cancelled"
    assert order["timeline"][-1]["note"] == "家人已帮忙"


async def test_a_deactivated_volunteer_gets_no_new_dispatch_and_no_more_orders(
    worker: None, people: People, township: str, database: Database
) -> None:
    admin = await people.admin()
    volunteer_id = await register(admin, township)
    done = await order_placed(people, township)
    await ok(await admin.post(f"/api/orders/{done}/dispatch", json={"volunteer_id": volunteer_id}))
    paused = await ok(await admin.patch(f"/api/volunteers/{volunteer_id}", json={"active": False}))
    assert paused["active"] is False
    fresh = await order_placed(people, township)
    r = await admin.post(f"/api/orders/{fresh}/dispatch", json={"volunteer_id": volunteer_id})
    assert r.status_code == 422 and r.json()["code"] == "InactiveVolunteer"
    # Signing in again, they are a resident only: leaving the pool ends their part.
    out = await people.volunteer(volunteer_id)
    assert (await out.post(f"/api/orders/{done}/accept")).status_code == 403
    assert (await admin.patch("/api/volunteers/999999", json={"active": True})).status_code == 404
    await ok(await admin.patch(f"/api/volunteers/{volunteer_id}", json={"active": True}))
    back = await people.volunteer(volunteer_id)
    order = await ok(await back.post(f"/api/orders/{done}/accept"))
    assert (order["status"], order["volunteer_id"]) == ("accepted", volunteer_id)
    await ok(await admin.post(f"/api/orders/{fresh}/dispatch", json={"volunteer_id": volunteer_id}))


async def test_a_resident_ordering_too_often_is_told_when_to_try_again(
    people: People, township: str, live_settings: Settings, database: Database
) -> None:
    # Every order makes the center call and text someone: a resident's orders are limited.
    limited = live_settings.model_copy(update={"order_submit_per_resident": "2/day"})
    app = create_app(limited, reconcile_every=timedelta(hours=1))
    headers = (await people.resident("13900007777")).headers
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        resident = Caller(client, headers)
        answers = [await resident.post("/api/orders", json=submission(township)) for _ in range(3)]
        assert [r.status_code for r in answers] == [201, 201, 429]
        assert answers[2].json()["code"] == "RateLimited"
        assert int(answers[2].headers["Retry-After"]) > 0
        mine = await ok(await resident.get("/api/me/orders"))
    assert mine["total"] == 2  # the refused one was never created
