"""A resident's personal data reaches only those who must call or visit them.

Seeded with names, phones, addresses and reasons nobody else uses, a whole lifecycle runs
over HTTP; then every read anyone else may make is searched for them, as are the logs and
the order's Temporal history. Erasing the resident leaves none of it in the database.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, String, Text, select, text
from temporalio.client import Client

from api.database import Database
from core.models import AuditEntry, Order, SmsMessage
from tests.integration.test_http_lifecycle import ok, register, submission, wait_for_follow_up
from tests.polling import eventually
from tests.signin import Caller, People

NAME = "隐私测试员甲"
PHONE = "13812349876"
ADDRESS = "秘密路七号院三单元"
REASON = "只有本人和办理的人可以知道的事由"
NOTE = "回访记录里的私密话"
SECRETS = (NAME, PHONE, PHONE[-8:], ADDRESS, REASON, NOTE)
# The erasure test's resident: nobody else's strings, so a search finds only theirs.
ERASED = ("被删除的乙", "13812340001", "待删除巷九号", "待删除的事由", "待删除的评语")


def leaks(payload: object, secrets: tuple[str, ...] = SECRETS) -> list[str]:
    dumped = json.dumps(payload, ensure_ascii=False) if not isinstance(payload, str) else payload
    return [s for s in secrets if s in dumped]


async def reads(caller: Caller, order_id: str, follow_up_id: int) -> dict[str, Any]:
    """Every read an outsider might try about this order, and what each answered."""
    paths = [
        f"/api/orders/{order_id}",
        f"/api/orders/{order_id}/contact",
        f"/api/orders/{order_id}/messages",
        "/api/orders?limit=200",
        "/api/me/orders",
        "/api/follow-ups?limit=200",
        f"/api/follow-ups/{follow_up_id}",
        "/api/complaints?limit=200",
        "/api/escalations?limit=200",
        "/api/volunteers?limit=200",
    ]
    out = {}
    for path in paths:
        r = await caller.get(path)
        out[path] = (
            r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text
        )
    return out


async def test_personal_data_reaches_only_who_must_see_it(
    worker: None,
    people: People,
    township: str,
    temporal: Client,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    admin, agent = await people.admin(), await people.agent()
    resident = await people.resident(PHONE)
    helper_id = await register(admin, township)
    helper = await people.volunteer(helper_id)
    bystander = await people.volunteer(await register(admin, township))
    neighbour = await people.resident("13900005555")
    elsewhere = await people.township_admin("蓼皋街道")

    body = submission(township, resident_name=NAME, address=ADDRESS, reason=REASON)
    order_id = (await ok(await resident.post("/api/orders", json=body), 201))["id"]
    await ok(await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": helper_id}))
    # Offered, not yet accepted: the volunteer sees the service and the place, no more.
    assert leaks(await ok(await helper.get(f"/api/orders/{order_id}"))) == []
    await ok(await helper.post(f"/api/orders/{order_id}/accept"))
    await ok(
        await helper.post(f"/api/orders/{order_id}/complete", json={"summary": "已办", "hours": 1})
    )
    await ok(await resident.post(f"/api/orders/{order_id}/review", json={"rating": "satisfied"}))
    task = await wait_for_follow_up(agent, order_id)

    # Before the agent holds the task, the queue and the task show no contact.
    assert leaks(await ok(await agent.get("/api/follow-ups?limit=200"))) == []
    assert leaks(await ok(await agent.get(f"/api/follow-ups/{task['id']}"))) == []
    await ok(await agent.post(f"/api/follow-ups/{task['id']}/claim"))
    held = await ok(await agent.get(f"/api/follow-ups/{task['id']}"))
    assert (held["resident_phone"], held["address"]) == ("+86" + PHONE, ADDRESS)
    await ok(
        await agent.post(
            f"/api/follow-ups/{task['id']}/result",
            json={"method": "phone", "outcome": "confirmed", "notes": NOTE},
        )
    )

    # Nobody else reads any of it, whatever they try.
    for who, caller in {
        "anonymous": people.anonymous,
        "another resident": neighbour,
        "another volunteer": bystander,
        "the volunteer, after closing": helper,
        "an admin of another township": elsewhere,
    }.items():
        answers = await reads(caller, order_id, task["id"])
        found = {path: leaks(answer) for path, answer in answers.items() if leaks(answer)}
        assert found == {}, f"{who} read {found}"
    # The admin sees the order, with the phone masked; the full contact is audited.
    assert PHONE not in json.dumps(await ok(await admin.get(f"/api/orders/{order_id}")))
    contact = await ok(await admin.get(f"/api/orders/{order_id}/contact"))
    assert contact["resident_phone"] == "+86" + PHONE

    def contact_reads(session: Any) -> list[str]:
        return list(
            session.scalars(
                select(AuditEntry.actor).where(
                    AuditEntry.action == "contact.read", AuditEntry.target == f"order:{order_id}"
                )
            )
        )

    readers = await database.run(contact_reads)
    assert len(readers) == 2 and all(r.startswith("staff:") for r in readers)

    # Nothing personal in the logs or in the order's workflow history.
    assert leaks(caplog.text) == []
    wid = (await ok(await admin.get(f"/api/orders/{order_id}")))["workflow_id"]
    history = await temporal.get_workflow_handle(wid).fetch_history()
    assert leaks(history.to_json()) == []


def text_everywhere(engine: Engine) -> str:
    """Every text and JSON value in every table of the database, as one string to search.

    The tables are read from the database itself, not the models: a table or column only a
    migration made is searched too.
    """
    chunks: list[str] = []
    with engine.connect() as conn:
        found = MetaData()
        found.reflect(conn)
        for table in found.tables.values():
            columns = [
                c
                for c in table.columns
                if isinstance(c.type, String | Text) or "JSON" in str(c.type)
            ]
            if not columns:
                continue
            names = ", ".join(f'CAST("{c.name}" AS TEXT)' for c in columns)
            for row in conn.execute(text(f'SELECT {names} FROM "{table.name}"')):
                chunks.extend(str(v) for v in row if v is not None)
    return "\n".join(chunks)


def phone_forms(phone: str) -> tuple[str, ...]:
    """An 11-digit number as it may be written (``+86…`` contains the bare digits)."""
    return (phone, f"{phone[:3]} {phone[3:7]} {phone[7:]}", f"{phone[:3]}-{phone[3:7]}-{phone[7:]}")


def _resident_sms(session: Any, public_id: str) -> list[tuple[str, str, str]]:
    return [
        (row.key, row.to_number, row.body)
        for row in session.execute(
            select(SmsMessage.key, SmsMessage.to_number, SmsMessage.body)
            .join(Order, Order.id == SmsMessage.order_id)
            .where(Order.public_id == public_id, SmsMessage.recipient_kind == "resident")
            .order_by(SmsMessage.id)
        )
    ]


def _recorded_with_the_number(session: Any, public_id: str, number: str) -> None:
    """A message as recorded before keys left the number out."""
    order_id = session.scalar(select(Order.id).where(Order.public_id == public_id))
    session.add(
        SmsMessage(
            key=f"order-{order_id}:accepted:99:resident:{number}",
            order_id=order_id,
            notice="accepted",
            recipient_kind="resident",
            to_number=number,
            body="【志愿服务】早先的短信",
            state="sent",
        )
    )


async def test_erasing_a_resident_leaves_nothing_of_them_but_the_numbers(
    people_with_sms: People, township: str, engine: Engine
) -> None:
    people = people_with_sms
    name, phone, address, reason, note = ERASED
    secrets = (name, *phone_forms(phone), phone[3:], address, reason, note)
    admin, agent = await people.admin(), await people.agent()
    asked = await people.anonymous.post("/api/auth/sms-code", json={"phone": phone})
    assert asked.status_code == 202, asked.text
    resident = await people.resident(phone)
    helper_id = await register(admin, township)
    helper = await people.volunteer(helper_id)
    body = submission(township, resident_name=name, address=address, reason=reason)
    first, second = [
        (await ok(await resident.post("/api/orders", json=body), 201))["id"] for _ in range(2)
    ]
    await ok(await admin.post(f"/api/orders/{first}/dispatch", json={"volunteer_id": helper_id}))
    await ok(await helper.post(f"/api/orders/{first}/accept"))
    await ok(
        await helper.post(f"/api/orders/{first}/complete", json={"summary": "已办", "hours": 2})
    )
    review = {"rating": "dissatisfied", "comment": note}
    await ok(await resident.post(f"/api/orders/{first}/review", json=review))
    task = await wait_for_follow_up(agent, first)
    await ok(
        await agent.post(
            f"/api/follow-ups/{task['id']}/result",
            json={"method": "phone", "outcome": "complaint", "notes": note},
        )
    )
    await ok(await resident.post(f"/api/orders/{second}/cancel", json={"reason": reason}))
    # The resident was texted about their order (accepted, completed).
    sent = await eventually(
        lambda: people.db.run(_resident_sms, first),
        lambda found: len(found) == 2,
        what="the accepted and completed SMS to the resident",
    )
    assert [n for _, n, _ in sent] == ["+86" + phone] * 2, sent
    assert not [k for k, _, _ in sent if phone in k]
    await people.db.run(_recorded_with_the_number, first, "+86" + phone)
    assert phone in text_everywhere(engine) and leaks(text_everywhere(engine), ERASED) != []

    erased = await ok(await admin.post(f"/api/orders/{first}/erase-resident"))
    assert erased["orders"] == 2
    assert leaks(text_everywhere(engine), secrets) == []
    # The old key lost the number and still names the message.
    keys = [k for k, _, _ in await people.db.run(_resident_sms, first)]
    assert keys[-1].endswith(":accepted:99:resident"), keys
    again = await admin.post(f"/api/orders/{second}/erase-resident")
    assert (again.status_code, again.json()["code"]) == (409, "AlreadyErased")

    # The statistics stay: statuses, ratings, hours, places.
    kept = await ok(await admin.get(f"/api/orders/{first}"))
    assert (kept["status"], kept["rating"], kept["hours"], kept["township"]) == (
        "closed",
        "dissatisfied",
        2,
        township,
    )
    # Their sign-in no longer reaches the orders.
    assert (await resident.get(f"/api/orders/{first}")).status_code == 404
