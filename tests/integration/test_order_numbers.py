"""Every order has a number people can read aloud, and staff find orders by it, by the
resident's phone or by their name, within their townships; phone and name searches are
audited without keeping what was typed."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.database import Database
from core.models import AuditEntry
from core.order_numbers import month_of, spoken
from tests.integration.test_http_lifecycle import ok, order_placed
from tests.signin import People


def searches(session: Session) -> list[tuple[str, dict[str, object]]]:
    rows = session.execute(
        select(AuditEntry.actor, AuditEntry.detail).where(AuditEntry.action == "orders.search")
    )
    return [(actor, dict(detail or {})) for actor, detail in rows]


async def test_orders_are_numbered_in_turn_and_found_by_number_phone_or_name(
    api: httpx.AsyncClient, people: People, database: Database, township: str
) -> None:
    phone = "13912340457"
    first = await order_placed(people, township, phone, resident_name="龙秀英")
    second = await order_placed(people, township, phone, resident_name="龙秀英")
    resident = await people.resident(phone)
    a = await ok(await resident.get(f"/api/orders/{first}"))
    b = await ok(await resident.get(f"/api/orders/{second}"))
    # The month, in county time, then one after the other.
    assert (
        a["number"][:4]
        == b["number"][:4]
        == month_of(
            __import__("datetime").datetime.fromisoformat(a["submitted_at"]), "Asia/Shanghai"
        )
    )
    assert int(b["number"][4:]) == int(a["number"][4:]) + 1

    admin = await people.township_admin(township)
    before = await database.run(searches)

    async def found(q: str) -> set[str]:
        page = await ok(await admin.get("/api/orders", params={"q": q, "township": township}))
        return {o["id"] for o in page["items"]}

    assert await found(spoken(a["number"])) == {first}
    assert await found(b["number"]) == {second}
    assert await found("0457") == {first, second}  # the phone's last four digits
    assert await found(phone) == {first, second}
    assert await found("龙秀") == {first, second}
    assert await found("龙秀英的邻居") == set()
    # Phone and name searches are audited, the number's not; what was typed is kept nowhere.
    audited = (await database.run(searches))[len(before) :]
    assert [detail["by"] for _, detail in audited] == ["phone", "phone", "name", "name"]
    assert all(phone not in str(d) and "龙秀" not in str(d) for _, d in audited)

    # Another township's admin finds none of them, whatever they type.
    elsewhere = await people.township_admin("别的镇")
    page = await ok(await elsewhere.get("/api/orders", params={"q": phone}))
    assert first not in {o["id"] for o in page["items"]}
