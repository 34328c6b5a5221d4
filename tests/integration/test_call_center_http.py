"""The call-center over HTTP with real orders: queue, claim, result, complaint, report.

Everyone signs in (``tests/signin.py``): the resident orders and reviews, an admin
dispatches, the volunteer accepts and completes; then agents work the follow-up queue and
an admin resolves the complaint. Claims and results are the signed-in agent's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.database import Database
from core.models import AuditEntry, Order, OrderNote
from core.security import read_token
from core.settings import Settings
from tests.integration.conftest import app_client
from tests.integration.test_http_lifecycle import ok, order_placed, register, submission
from tests.polling import eventually
from tests.signin import Caller, People
from worker import build_worker

Json = dict[str, Any]

RESULT: Json = {"method": "phone", "outcome": "confirmed", "notes": "老人很满意"}
MASKED = "138****8000"
FULL_PHONE = "+8613800138000"  # the default resident's, in E.164
# A real township none of these orders is in.
OTHER_TOWNSHIP = "蓼皋街道"


def staff_id(caller: Caller, settings: Settings) -> int:
    """The staff account a caller signed in as (claims and results carry its id)."""
    token = caller.headers["Authorization"].removeprefix("Bearer ")
    found = read_token(token, secret=settings.signing_secret).staff_id
    assert found is not None
    return found


async def reviewed_order(
    people: People,
    township: str,
    rating: str,
    phone: str = "13800138000",
    comment: str | None = None,
) -> str:
    """An order taken round the loop up to the review by the resident of ``phone``; its id."""
    admin, resident = await people.admin(), await people.resident(phone)
    volunteer_id = await register(admin, township, ["care"])
    volunteer = await people.volunteer(volunteer_id)
    order_id = await order_placed(people, township, phone)
    await ok(
        await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer_id})
    )
    await ok(await volunteer.post(f"/api/orders/{order_id}/accept"))
    await ok(
        await volunteer.post(
            f"/api/orders/{order_id}/complete", json={"summary": "帮忙买了药。", "hours": 2}
        )
    )
    review = {"rating": rating, "comment": comment} if comment else {"rating": rating}
    await ok(await resident.post(f"/api/orders/{order_id}/review", json=review))
    return order_id


async def queued_task(caller: Caller, township: str, order_id: str) -> Json:
    """The order's task once it is in the staff queue."""

    async def queue() -> list[Json]:
        listed = await ok(
            await caller.get(
                "/api/follow-ups", params={"status": "open", "township": township, "limit": 200}
            )
        )
        return [t for t in listed["items"] if t["order_id"] == order_id]

    [task] = await eventually(queue, bool, what=f"order {order_id} in the call-center queue")
    return task


def refused(response: httpx.Response, code: str, status: int = 409) -> str:
    """A refusal (409 unless told) with ``code``; its detail."""
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    detail: str = response.json()["detail"]
    return detail


async def follow_up_notes(database: Database, order_id: str) -> list[str]:
    """The follow-up notes stored for an order (a refused result must leave none)."""

    def read(session: Session) -> list[str]:
        return list(
            session.scalars(
                select(OrderNote.body)
                .join(Order, Order.id == OrderNote.order_id)
                .where(Order.public_id == order_id, OrderNote.kind == "follow_up_notes")
                .order_by(OrderNote.created_at)
            )
        )

    return await database.run(read)


async def contact_readers(database: Database, order_id: str) -> list[str]:
    """Who read the order's contact, as the audit trail has it."""

    def read(session: Session) -> list[str]:
        return list(
            session.scalars(
                select(AuditEntry.actor)
                .where(
                    AuditEntry.action == "contact.read", AuditEntry.target == f"order:{order_id}"
                )
                .order_by(AuditEntry.id)
            )
        )

    return await database.run(read)


async def still_awaiting_follow_up(admin: Caller, database: Database, order_id: str) -> None:
    """Nothing reached the order: not closed, no ``followed_up`` event, no note kept."""
    order = await ok(await admin.get(f"/api/orders/{order_id}"))
    assert order["status"] == "reviewed"
    assert order["follow_up"]["status"] == "open"
    assert "followed_up" not in [e["event"] for e in order["timeline"]]
    assert await follow_up_notes(database, order_id) == []


def followed_up(order: Json) -> Json:
    """The order's one ``followed_up`` event."""
    [event] = [e for e in order["timeline"] if e["event"] == "followed_up"]
    return dict(event)


@asynccontextmanager
async def serving(temporal: Client, engine: Engine, settings: Settings) -> AsyncIterator[None]:
    """A worker on the test's task queue for as long as the block runs."""
    with ThreadPoolExecutor(max_workers=settings.worker_max_concurrent_activities) as pool:
        async with build_worker(temporal, engine, settings, executor=pool):
            yield


async def test_an_agent_claims_the_task_records_a_complaint_and_an_admin_resolves_it(
    api: httpx.AsyncClient,
    people: People,
    database: Database,
    live_settings: Settings,
    township: str,
) -> None:
    agent, other, admin = await people.agent(), await people.another_agent(), await people.admin()
    agent_id, admin_id = staff_id(agent, live_settings), staff_id(admin, live_settings)
    order_id = await reviewed_order(people, township, "average")
    task = await queued_task(agent, township, order_id)
    # No Twilio account in tests: the follow-up goes straight to staff.
    assert (task["queue_reason"], task["priority"], task["call_attempts"]) == (
        "no_automated_call",
        3,
        0,
    )
    assert task["queued_at"] is not None and task["claimable"] is True
    assert task["resident_phone"] == MASKED  # the queue never shows the number
    task_id = task["id"]

    claimed = await ok(await agent.post(f"/api/follow-ups/{task_id}/claim"))
    assert (claimed["claimed_by"], claimed["mine"]) == (agent_id, True)
    refused(await other.post(f"/api/follow-ups/{task_id}/claim"), "ClaimedByOther")

    # The holder reads whom to call and where (audited); the other agent does not.
    held = await ok(await agent.get(f"/api/follow-ups/{task_id}"))
    assert (held["resident_phone"], held["address"]) == (
        FULL_PHONE,
        submission(township)["address"],
    )
    seen = await ok(await other.get(f"/api/follow-ups/{task_id}"))
    assert (seen["resident_phone"], seen["address"], seen["mine"]) == (MASKED, None, False)
    assert await contact_readers(database, order_id) == [f"staff:{agent_id}"]

    # Another agent's result is refused and the order does not move.
    r = await other.post(
        f"/api/follow-ups/{task_id}/result", json={"method": "phone", "outcome": "confirmed"}
    )
    refused(r, "ClaimedByOther")
    await still_awaiting_follow_up(admin, database, order_id)

    order = await ok(
        await agent.post(
            f"/api/follow-ups/{task_id}/result",
            json={"method": "phone", "outcome": "complaint", "notes": "志愿者态度不好"},
        )
    )
    assert (order["id"], order["status"]) == (order_id, "closed")
    assert followed_up(order)["actor"] == f"call_center:{agent_id}"

    detail = await ok(await agent.get(f"/api/follow-ups/{task_id}"))
    assert (detail["status"], detail["outcome"], detail["settled_by"], detail["agent_id"]) == (
        "done",
        "complaint",
        "staff",
        agent_id,
    )
    # Done, the task is held by nobody: the number is masked again, even for its agent.
    assert (detail["resident_phone"], detail["address"]) == (MASKED, None)
    assert detail["notes"] == "志愿者态度不好"
    assert detail["calls"] == []
    assert (detail["claimed_by"], detail["claimable"]) == (None, False)
    refused(await agent.post(f"/api/follow-ups/{task_id}/claim"), "FollowUpNotOpen")
    r = await agent.post(
        f"/api/follow-ups/{task_id}/result", json={"method": "phone", "outcome": "confirmed"}
    )
    assert r.status_code == 409

    complaints = await ok(
        await admin.get("/api/complaints", params={"status": "open", "township": township})
    )
    [complaint] = complaints["items"]
    assert (complaint["order_id"], complaint["follow_up_id"], complaint["note"]) == (
        order_id,
        task_id,
        "志愿者态度不好",
    )
    assert detail["complaint_id"] == complaint["id"]
    # Complaints are admins': not the agent's, and not an admin's of another township.
    refused(await agent.get("/api/complaints"), "Forbidden", 403)
    outsider = await people.township_admin(OTHER_TOWNSHIP)
    theirs = await ok(await outsider.get("/api/complaints", params={"status": "open"}))
    assert complaint["id"] not in [c["id"] for c in theirs["items"]]
    refused(await outsider.get(f"/api/complaints/{complaint['id']}"), "NotFound", 404)
    r = await outsider.post(f"/api/complaints/{complaint['id']}/resolve", json={"notes": "x"})
    refused(r, "NotFound", 404)

    resolved = await ok(
        await admin.post(
            f"/api/complaints/{complaint['id']}/resolve", json={"notes": "已约谈志愿者"}
        )
    )
    assert (resolved["status"], resolved["resolved_by"], resolved["resolution"]) == (
        "resolved",
        admin_id,
        "已约谈志愿者",
    )
    r = await admin.post(f"/api/complaints/{complaint['id']}/resolve", json={"notes": "再次"})
    assert r.status_code == 409 and r.json()["code"] == "ComplaintAlreadyResolved"

    report = await ok(await admin.get("/api/reports/follow-up", params={"township": township}))
    assert (report["completed_orders"], report["follow_ups_done"], report["reached"]) == (1, 1, 1)
    assert (report["follow_up_rate"], report["automated_share"]) == (1.0, 0.0)
    assert report["by_method"] == {"phone": 1}
    assert report["by_outcome"] == {"complaint": 1}
    assert report["by_queue_reason"] == {"no_automated_call": 1}
    assert report["settled_by"] == {"staff": 1}
    assert report["hours_to_follow_up"]["count"] == 1
    refused(await agent.get("/api/reports/follow-up"), "Forbidden", 403)


async def test_a_complaint_the_agent_records_joins_the_one_the_resident_filed(
    api: httpx.AsyncClient, people: People, township: str
) -> None:
    agent, admin = await people.agent(), await people.admin()
    resident = await people.resident()
    order_id = await reviewed_order(people, township, "dissatisfied")
    await ok(
        await resident.post(f"/api/orders/{order_id}/complaint", json={"text": "药买错了"}), 201
    )
    task_id = (await queued_task(agent, township, order_id))["id"]

    # Before the call the agent sees the complaint already open, in the resident's words
    # once they hold the task (not before).
    unheld = await ok(await agent.get(f"/api/follow-ups/{task_id}"))
    assert (unheld["open_complaint"]["source"], unheld["open_complaint"]["text"]) == (
        "resident",
        None,
    )
    await ok(await agent.post(f"/api/follow-ups/{task_id}/claim"))
    held = await ok(await agent.get(f"/api/follow-ups/{task_id}"))
    assert held["open_complaint"]["text"] == "药买错了"

    await ok(
        await agent.post(
            f"/api/follow-ups/{task_id}/result",
            json={"method": "phone", "outcome": "complaint", "notes": "电话里又说了一遍：药买错了"},
        )
    )
    listed = await ok(
        await admin.get("/api/complaints", params={"status": "open", "township": township})
    )
    [complaint] = listed["items"]  # one problem, one complaint
    assert (
        complaint["id"],
        complaint["source"],
        complaint["follow_up_id"],
        complaint["note"],
        complaint["follow_up_note"],
    ) == (
        held["open_complaint"]["id"],
        "resident",
        task_id,
        "药买错了",
        "电话里又说了一遍：药买错了",
    )
    done = await ok(await agent.get(f"/api/follow-ups/{task_id}"))
    assert done["complaint_id"] == complaint["id"]


async def test_two_agents_recording_at_once_close_the_order_once(
    api: httpx.AsyncClient, people: People, live_settings: Settings, township: str
) -> None:
    agents = [await people.agent(), await people.another_agent(), await people.another_agent()]
    order_id = await reviewed_order(people, township, "satisfied")
    task = await queued_task(agents[0], township, order_id)
    responses = await asyncio.gather(
        *(
            agent.post(
                f"/api/follow-ups/{task['id']}/result",
                json={"method": "phone", "outcome": "confirmed"},
            )
            for agent in agents
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {
        "ClaimedByOther",
        "FollowUpNotOpen",
    }
    [winner] = [a for a, r in zip(agents, responses, strict=True) if r.status_code == 200]
    order = await ok(await (await people.admin()).get(f"/api/orders/{order_id}"))
    assert order["status"] == "closed"
    events = [e for e in order["timeline"] if e["event"] == "followed_up"]
    assert [e["actor"] for e in events] == [f"call_center:{staff_id(winner, live_settings)}"]


# --- who may record a result -------------------------------------------------------------


async def test_a_result_is_refused_while_another_agent_holds_the_task(
    api: httpx.AsyncClient,
    people: People,
    database: Database,
    live_settings: Settings,
    township: str,
) -> None:
    holder, other, admin = await people.agent(), await people.another_agent(), await people.admin()
    holder_id = staff_id(holder, live_settings)
    order_id = await reviewed_order(people, township, "satisfied")
    task_id = (await queued_task(holder, township, order_id))["id"]
    claimed = await ok(await holder.post(f"/api/follow-ups/{task_id}/claim"))
    held_until = claimed["claim_expires_at"]

    # Another agent does not get past the holder's claim.
    detail = refused(
        await other.post(f"/api/follow-ups/{task_id}/result", json=RESULT), "ClaimedByOther"
    )
    assert f"agent {holder_id}" in detail
    # Nor does anyone who is not an agent: the admin, the resident, the volunteer, nobody.
    volunteer_id = (await ok(await admin.get(f"/api/orders/{order_id}")))["volunteer_id"]
    for caller, status, code in (
        (admin, 403, "Forbidden"),
        (await people.resident(), 403, "Forbidden"),
        (await people.volunteer(volunteer_id), 403, "Forbidden"),
        (people.anonymous, 401, "NotSignedIn"),
    ):
        refused(await caller.post(f"/api/follow-ups/{task_id}/result", json=RESULT), code, status)
    await still_awaiting_follow_up(admin, database, order_id)
    task = await ok(await holder.get(f"/api/follow-ups/{task_id}"))
    assert (task["status"], task["claimed_by"], task["claim_expires_at"], task["mine"]) == (
        "open",
        holder_id,
        held_until,
        True,
    )

    # The holder records it, and that closes the order.
    order = await ok(await holder.post(f"/api/follow-ups/{task_id}/result", json=RESULT))
    assert (order["id"], order["status"]) == (order_id, "closed")
    summary = order["follow_up"]
    assert (summary["id"], summary["status"], summary["method"], summary["outcome"]) == (
        task_id,
        "done",
        "phone",
        "confirmed",
    )
    event = followed_up(order)
    assert (event["actor"], event["note"]) == (f"call_center:{holder_id}", "老人很满意")
    assert (event["data"]["method"], event["data"]["outcome"]) == ("phone", "confirmed")
    task = await ok(await admin.get(f"/api/follow-ups/{task_id}"))
    assert (task["status"], task["settled_by"], task["agent_id"], task["notes"]) == (
        "done",
        "staff",
        holder_id,
        "老人很满意",
    )
    assert await follow_up_notes(database, order_id) == ["老人很满意"]


async def test_an_unclaimed_task_may_be_recorded_by_any_agent(
    api: httpx.AsyncClient,
    people: People,
    database: Database,
    live_settings: Settings,
    township: str,
) -> None:
    first, fifth, sixth = (
        await people.agent(),
        await people.another_agent(),
        await people.another_agent(),
    )
    first_id = staff_id(first, live_settings)
    unclaimed = await reviewed_order(people, township, "satisfied")
    unclaimed_task = (await queued_task(first, township, unclaimed))["id"]
    lapsed = await reviewed_order(people, township, "satisfied")
    lapsed_task = (await queued_task(first, township, lapsed))["id"]

    # The first agent claims the second task on a one-second lease and lets it lapse.
    short = live_settings.model_copy(update={"claim_lease": timedelta(seconds=1)})
    async with app_client(short) as short_lease:
        claim = await Caller(short_lease, first.headers).post(
            f"/api/follow-ups/{lapsed_task}/claim"
        )
        assert (await ok(claim))["claimed_by"] == first_id
    task = await eventually(
        lambda: fifth.get(f"/api/follow-ups/{lapsed_task}"),
        lambda r: r.status_code == 200 and r.json()["claimed_by"] is None,
        what="the first agent's one-second claim lapsing",
    )
    assert task.json()["claimable"] is True

    order = await ok(await fifth.post(f"/api/follow-ups/{unclaimed_task}/result", json=RESULT))
    assert order["status"] == "closed"
    fifth_id = staff_id(fifth, live_settings)
    assert followed_up(order)["actor"] == f"call_center:{fifth_id}"
    done = await ok(await fifth.get(f"/api/follow-ups/{unclaimed_task}"))
    assert (done["status"], done["settled_by"], done["agent_id"]) == ("done", "staff", fifth_id)

    # The lapsed claim does not block another agent's result.
    order = await ok(await sixth.post(f"/api/follow-ups/{lapsed_task}/result", json=RESULT))
    assert order["status"] == "closed"
    sixth_id = staff_id(sixth, live_settings)
    assert followed_up(order)["actor"] == f"call_center:{sixth_id}"
    done = await ok(await sixth.get(f"/api/follow-ups/{lapsed_task}"))
    assert (done["status"], done["settled_by"], done["agent_id"]) == ("done", "staff", sixth_id)
    assert await follow_up_notes(database, lapsed) == ["老人很满意"]


async def test_the_agent_recording_a_result_holds_the_task_until_the_order_has_it(
    api_only: httpx.AsyncClient,
    people: People,
    temporal: Client,
    engine: Engine,
    live_settings: Settings,
    township: str,
) -> None:
    agent, other, admin = await people.agent(), await people.another_agent(), await people.admin()
    agent_id = staff_id(agent, live_settings)
    # No workflow cache, so a worker that comes back later picks the order up at once.
    uncached = live_settings.model_copy(update={"worker_max_cached_workflows": 0})
    async with serving(temporal, engine, uncached):
        order_id = await reviewed_order(people, township, "satisfied")
        task_id = (await queued_task(agent, township, order_id))["id"]

    # With no worker the order cannot take the result yet: the agent's claim covers the wait.
    recording = asyncio.create_task(agent.post(f"/api/follow-ups/{task_id}/result", json=RESULT))
    held = await eventually(
        lambda: agent.get(f"/api/follow-ups/{task_id}"),
        lambda r: r.status_code == 200 and r.json()["claimed_by"] is not None,
        what="the recording agent's claim",
    )
    task = held.json()
    assert (task["status"], task["claimed_by"], task["mine"]) == ("open", agent_id, True)
    refused(await other.post(f"/api/follow-ups/{task_id}/claim"), "ClaimedByOther")
    refused(await other.post(f"/api/follow-ups/{task_id}/result", json=RESULT), "ClaimedByOther")
    assert not recording.done()
    assert (await ok(await admin.get(f"/api/orders/{order_id}")))["status"] == "reviewed"

    async with serving(temporal, engine, uncached):
        order = await ok(await recording)
    assert order["status"] == "closed"
    assert followed_up(order)["actor"] == f"call_center:{agent_id}"


async def test_a_done_task_is_refused_without_asking_the_order(
    api: httpx.AsyncClient,
    people: People,
    database: Database,
    live_settings: Settings,
    township: str,
) -> None:
    agent, other = await people.agent(), await people.another_agent()
    agent_id = staff_id(agent, live_settings)
    order_id = await reviewed_order(people, township, "satisfied")
    task_id = (await queued_task(agent, township, order_id))["id"]
    await ok(await agent.post(f"/api/follow-ups/{task_id}/result", json=RESULT))

    again = {"method": "home_visit", "outcome": "complaint", "notes": "再记一次"}
    for caller in (agent, other):
        detail = refused(
            await caller.post(f"/api/follow-ups/{task_id}/result", json=again),
            "FollowUpNotOpen",  # the order itself would answer OrderFinished
        )
        assert "done" in detail
    r = await agent.post("/api/follow-ups/999999/result", json=RESULT)
    assert r.status_code == 404 and r.json()["code"] == "NotFound", r.text

    order = await ok(await (await people.admin()).get(f"/api/orders/{order_id}"))
    assert order["status"] == "closed"
    assert followed_up(order)["actor"] == f"call_center:{agent_id}"
    task = await ok(await agent.get(f"/api/follow-ups/{task_id}"))
    assert (task["method"], task["outcome"], task["agent_id"]) == ("phone", "confirmed", agent_id)
    assert await follow_up_notes(database, order_id) == ["老人很满意"]
