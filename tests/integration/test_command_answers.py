"""A command answers with the order as its caller may read it once the command applied.

The answer is read in one transaction after the Update (``OrderCommands.reread``), and only a
volunteer's view is looked up again there (staff stay staff, the resident stays the owner):
these pin both the command's effect in the answer and the view each role ends up with.
"""

from __future__ import annotations

from tests.integration.test_http_lifecycle import ok, order_placed, register
from tests.signin import People


async def test_each_role_reads_its_own_command_in_the_answer(
    worker: None, people: People, township: str
) -> None:
    admin, resident = await people.admin(), await people.resident()
    first = await register(admin, township, ["care"])
    second = await register(admin, township, ["care"])
    oid = await order_placed(people, township)
    base = f"/api/orders/{oid}"

    # Staff: the dispatch is in the answer, with what only staff read.
    order = await ok(await admin.post(f"{base}/dispatch", json={"volunteer_id": first}))
    assert (order["status"], order["volunteer_id"]) == ("dispatched", first)
    assert order["timeline"][-1]["event"] == "dispatched"
    assert order["workflow_id"] and order["address"]

    # A volunteer who declines no longer holds the order: the answer shows it back in the
    # pool, as anyone may read it, and the order is no longer theirs to open.
    declined = await (await people.volunteer(first)).post(
        f"{base}/decline", json={"reason": "外出"}
    )
    order = await ok(declined)
    assert (order["status"], order["volunteer_id"]) == ("pending", None)
    assert order["timeline"][-1]["event"] == "declined"
    assert (order["address"], order["resident_name"], order["workflow_id"]) == (None, None, None)
    assert (await (await people.volunteer(first)).get(base)).status_code == 404

    # A volunteer who accepts now holds it: the same answer already carries the address.
    await ok(await admin.post(f"{base}/dispatch", json={"volunteer_id": second}))
    helper = await people.volunteer(second)
    before = await ok(await helper.get(base))
    assert before["address"] is None
    order = await ok(await helper.post(f"{base}/accept"))
    assert order["status"] == "accepted" and order["address"] is not None
    assert order["workflow_id"] is None  # a holder, not staff

    # The resident cancels: the answer shows it, with their own reason (the owner's view).
    order = await ok(await resident.post(f"{base}/cancel", json={"reason": "家人回来了"}))
    assert order["status"] == "cancelled" and order["cancel_reason"] == "家人回来了"
    assert order["timeline"][-1]["event"] == "cancelled" and order["workflow_id"] is None
