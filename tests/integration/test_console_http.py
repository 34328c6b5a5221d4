"""The API the admin console adds: the board, staff notes, the catalog editor."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.settings import Settings
from tests.integration.test_dispatch_http import volunteer
from tests.integration.test_http_lifecycle import ok, order_placed
from tests.signin import People


async def test_the_board_counts_each_step_in_the_admins_townships_only(
    worker: None, people: People, township: str
) -> None:
    admin = await people.admin()
    other = await people.township_admin("蓼皋街道")
    mine = await people.township_admin(township)

    def board_for(caller_township: str) -> dict[str, str]:
        return {"township": caller_township}

    before = await ok(await admin.get("/api/board", params=board_for(township)))
    assert before["counts"] == dict.fromkeys(
        ("pending", "dispatched", "accepted", "overdue", "supervised"), 0
    )
    first = await order_placed(people, township)
    second = await order_placed(people, township)
    helper = await volunteer(admin, township, skills=["care"])
    await ok(await admin.post(f"/api/orders/{second}/dispatch", json={"volunteer_id": helper}))

    seen = await ok(await mine.get("/api/board"))
    assert seen["counts"]["pending"] == 1
    assert seen["counts"]["dispatched"] == 1
    assert [o["id"] for o in seen["columns"]["pending"]] == [first]
    assert [o["id"] for o in seen["columns"]["dispatched"]] == [second]
    # Another township's admin: none of these, even when asking for the township by name.
    elsewhere = await ok(await other.get("/api/board", params=board_for(township)))
    assert elsewhere["counts"]["pending"] == 0
    assert all(not col for col in elsewhere["columns"].values())

    # The resident hurries (催办) the waiting order: the center must now supervise it.
    resident = await people.resident()
    await ok(await resident.post(f"/api/orders/{first}/hurry"))
    hurried = await ok(await mine.get("/api/board"))
    assert [o["id"] for o in hurried["columns"]["supervised"]] == [first]
    assert hurried["counts"]["supervised"] == 1


async def test_staff_notes_are_internal_audited_and_hidden_from_the_resident(
    worker: None, people: People, township: str
) -> None:
    admin = await people.admin()
    order_id = await order_placed(people, township)
    note = await ok(
        await admin.post(f"/api/orders/{order_id}/notes", json={"text": "老人耳背，请大声说话"}),
        201,
    )
    assert note["author"].startswith("admin-") and note["text"] == "老人耳背，请大声说话"
    listed = await ok(await admin.get(f"/api/orders/{order_id}/notes"))
    assert [n["id"] for n in listed] == [note["id"]]
    audit = await ok(await admin.get("/api/audit", params={"action": "order.note"}))
    assert f"note:{note['id']}" in [e["target"] for e in audit["items"]]

    resident = await people.resident()
    assert (await resident.get(f"/api/orders/{order_id}/notes")).status_code == 403
    as_owner = (await resident.get(f"/api/orders/{order_id}")).text
    assert "耳背" not in as_owner
    blank = await admin.post(f"/api/orders/{order_id}/notes", json={"text": "  "})
    assert blank.status_code == 422


async def test_a_county_admin_adds_renames_and_disables_a_catalog_item(
    api_only: object, people: People
) -> None:
    admin = await people.admin()
    code = f"care.haircut{uuid.uuid4().hex[:6]}"
    body = {"category_code": "care", "code": code, "name": "上门理发", "name_en": "Haircut"}
    created = await ok(await admin.post("/api/catalog/items", json=body), 201)
    assert created["active"] is True
    duplicate = await admin.post("/api/catalog/items", json=body)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "DuplicateItem")
    unknown = await admin.post("/api/catalog/items", json={**body, "category_code": "nope"})
    assert unknown.status_code == 422

    def menu_names(catalog: list[dict[str, object]]) -> dict[object, object]:
        return {
            i["code"]: i["name"]
            for c in catalog
            for i in c["items"]  # type: ignore[attr-defined]
        }

    assert menu_names(await ok(await people.anonymous.get("/api/catalog")))[code] == "上门理发"
    rename = {"name": "上门理发剪发"}
    renamed = await ok(await admin.patch(f"/api/catalog/items/{code}", json=rename))
    assert renamed["name"] == "上门理发剪发"
    await ok(await admin.patch(f"/api/catalog/items/{code}", json={"active": False}))
    assert code not in menu_names(await ok(await people.anonymous.get("/api/catalog")))
    every = await ok(await admin.get("/api/catalog/items"))
    assert {"code": code, "active": False} in [
        {"code": i["code"], "active": i["active"]} for i in every
    ]
    audit = await ok(await admin.get("/api/audit", params={"target": f"item:{code}"}))
    assert [e["action"] for e in audit["items"]] == [
        "catalog.update",
        "catalog.update",
        "catalog.add",
    ]
    scoped = await people.township_admin("蓼皋街道")
    assert (await scoped.post("/api/catalog/items", json=body)).status_code == 403
    missing = await admin.patch("/api/catalog/items/no.such.item", json={"active": False})
    assert missing.status_code == 404


async def test_orders_are_listed_by_the_days_they_were_submitted(
    worker: None, people: People, township: str, live_settings: Settings
) -> None:
    admin = await people.admin()
    order_id = await order_placed(people, township)
    today = datetime.now(ZoneInfo(live_settings.county_timezone)).date()

    async def listed(**days: object) -> list[str]:
        page = await ok(await admin.get("/api/orders", params={"township": township, **days}))
        return [o["id"] for o in page["items"]]

    assert await listed(since=today.isoformat()) == [order_id]
    assert await listed(since=today.isoformat(), until=today.isoformat()) == [order_id]
    assert await listed(until=(today - timedelta(days=1)).isoformat()) == []
    assert await listed(since=(today + timedelta(days=1)).isoformat()) == []
