"""The call-center over HTTP with real orders: queue, claim, result, complaint, report."""

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
from core.models import OrderNote
from core.settings import Settings
from tests.integration.conftest import app_client
from tests.integration.test_http_lifecycle import ok, register, submission
from worker import build_worker

Json = dict[str, Any]

RESULT: Json = {"method": "phone", "outcome": "confirmed", "notes": "老人很满意"}


async def reviewed_order(api: httpx.AsyncClient, township: str, rating: str) -> int:
    """An order taken round the loop up to the resident's review."""
    volunteer = await register(api, township, ["care"])
    order_id = int((await ok(await api.post("/api/orders", json=submission(township)), 201))["id"])
    await ok(await api.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": volunteer}))
    await ok(await api.post(f"/api/orders/{order_id}/accept", json={"volunteer_id": volunteer}))
    await ok(
        await api.post(
            f"/api/orders/{order_id}/complete",
            json={"volunteer_id": volunteer, "summary": "帮忙买了药。", "hours": 2},
        )
    )
    await ok(await api.post(f"/api/orders/{order_id}/review", json={"rating": rating}))
    return order_id


async def queued_task(api: httpx.AsyncClient, township: str, order_id: int) -> Json:
    """The order's task once it is in the staff queue."""
    for _ in range(200):
        queue = await ok(
            await api.get("/api/follow-ups", params={"status": "open", "township": township})
        )
        for task in queue["items"]:
            if task["order_id"] == order_id:
                found: Json = task
                return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"order {order_id} never reached the call-center queue")


def refused(response: httpx.Response, code: str) -> str:
    """A 409 with ``code``; its detail."""
    assert response.status_code == 409, response.text
    assert response.json()["code"] == code, response.text
    detail: str = response.json()["detail"]
    return detail


async def follow_up_notes(database: Database, order_id: int) -> list[str]:
    """The follow-up notes stored for an order (a refused result must leave none)."""

    def read(session: Session) -> list[str]:
        return list(
            session.scalars(
                select(OrderNote.body)
                .where(OrderNote.order_id == order_id, OrderNote.kind == "follow_up_notes")
                .order_by(OrderNote.created_at)
            )
        )

    return await database.run(read)


async def still_awaiting_follow_up(
    api: httpx.AsyncClient, database: Database, order_id: int
) -> None:
    """Nothing reached the order: not closed, no ``followed_up`` event, no note kept."""
    order = await ok(await api.get(f"/api/orders/{order_id}"))
    assert order["status"] == "reviewed"
    assert order["follow_up"]["status"] == "open"
    assert "followed_up" not in [e["event"] for e in order["timeline"]]
    assert await follow_up_notes(database, order_id) == []


def followed_up(order: Json) -> Json:
    """The order's one ``followed_up`` event."""
    [event] = [e for e in order["timeline"] if e["event"] == "followed_up"]
    return event


@asynccontextmanager
async def serving(temporal: Client, engine: Engine, settings: Settings) -> AsyncIterator[None]:
    """A worker on the test's task queue for as long as the block runs."""
    with ThreadPoolExecutor(max_workers=settings.worker_max_concurrent_activities) as pool:
        async with build_worker(temporal, engine, settings, executor=pool):
            yield


async def test_an_agent_claims_the_task_records_a_complaint_and_an_admin_resolves_it(
    api: httpx.AsyncClient, township: str
) -> None:
    order_id = await reviewed_order(api, township, "average")
    task = await queued_task(api, township, order_id)
    # No Twilio account in tests: the follow-up goes straight to staff.
    assert (task["queue_reason"], task["priority"], task["call_attempts"]) == (
        "no_automated_call",
        3,
        0,
    )
    assert task["queued_at"] is not None and task["claimable"] is True
    assert task["resident_phone"] == "13800138000"
    task_id = task["id"]

    claimed = await ok(await api.post(f"/api/follow-ups/{task_id}/claim", json={"agent_id": 1}))
    assert (claimed["claimed_by"], claimed["mine"]) == (1, True)
    r = await api.post(f"/api/follow-ups/{task_id}/claim", json={"agent_id": 2})
    assert r.status_code == 409 and r.json()["code"] == "ClaimedByOther"

    # Another agent's result is refused and the order does not move.
    r = await api.post(
        f"/api/follow-ups/{task_id}/result",
        json={"method": "phone", "outcome": "confirmed", "agent_id": 2},
    )
    assert r.status_code == 409 and r.json()["code"] == "ClaimedByOther"
    order = await ok(await api.get(f"/api/orders/{order_id}"))
    assert order["status"] == "reviewed"
    assert "followed_up" not in [e["event"] for e in order["timeline"]]

    order = await ok(
        await api.post(
            f"/api/follow-ups/{task_id}/result",
            json={
                "method": "phone",
                "outcome": "complaint",
                "notes": "志愿者态度不好",
                "agent_id": 1,
            },
        )
    )
    assert order["status"] == "closed"
    followed = next(e for e in order["timeline"] if e["event"] == "followed_up")
    assert followed["actor"] == "call_center:1"

    detail = await ok(await api.get(f"/api/follow-ups/{task_id}"))
    assert (detail["status"], detail["outcome"], detail["settled_by"], detail["agent_id"]) == (
        "done",
        "complaint",
        "staff",
        1,
    )
    assert detail["resident_phone"] == "138****8000"
    assert detail["notes"] == "志愿者态度不好"
    assert detail["calls"] == []
    assert (detail["claimed_by"], detail["claimable"]) == (None, False)
    r = await api.post(f"/api/follow-ups/{task_id}/claim", json={"agent_id": 1})
    assert r.status_code == 409 and r.json()["code"] == "FollowUpNotOpen"
    r = await api.post(
        f"/api/follow-ups/{task_id}/result",
        json={"method": "phone", "outcome": "confirmed", "agent_id": 1},
    )
    assert r.status_code == 409

    complaints = await ok(
        await api.get("/api/complaints", params={"status": "open", "township": township})
    )
    [complaint] = complaints["items"]
    assert (complaint["order_id"], complaint["follow_up_id"], complaint["note"]) == (
        order_id,
        task_id,
        "志愿者态度不好",
    )
    assert detail["complaint_id"] == complaint["id"]
    resolved = await ok(
        await api.post(
            f"/api/complaints/{complaint['id']}/resolve",
            json={"admin_id": 3, "notes": "已约谈志愿者"},
        )
    )
    assert (resolved["status"], resolved["resolved_by"], resolved["resolution"]) == (
        "resolved",
        3,
        "已约谈志愿者",
    )
    r = await api.post(
        f"/api/complaints/{complaint['id']}/resolve", json={"admin_id": 3, "notes": "再次"}
    )
    assert r.status_code == 409 and r.json()["code"] == "ComplaintAlreadyResolved"

    report = await ok(await api.get("/api/reports/follow-up", params={"township": township}))
    assert (report["completed_orders"], report["follow_ups_done"], report["reached"]) == (1, 1, 1)
    assert (report["follow_up_rate"], report["automated_share"]) == (1.0, 0.0)
    assert report["by_method"] == {"phone": 1}
    assert report["by_outcome"] == {"complaint": 1}
    assert report["by_queue_reason"] == {"no_automated_call": 1}
    assert report["settled_by"] == {"staff": 1}
    assert report["hours_to_follow_up"]["count"] == 1


async def test_two_agents_recording_at_once_close_the_order_once(
    api: httpx.AsyncClient, township: str
) -> None:
    order_id = await reviewed_order(api, township, "satisfied")
    task = await queued_task(api, township, order_id)
    responses = await asyncio.gather(
        *(
            api.post(
                f"/api/follow-ups/{task['id']}/result",
                json={"method": "phone", "outcome": "confirmed", "agent_id": agent},
            )
            for agent in (1, 2, 3)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {
        "ClaimedByOther",
        "FollowUpNotOpen",
    }
    winner = next(i for i, r in enumerate(responses, start=1) if r.status_code == 200)
    order = await ok(await api.get(f"/api/orders/{order_id}"))
    assert order["status"] == "closed"
    events = [e for e in order["timeline"] if e["event"] == "followed_up"]
    assert [e["actor"] for e in events] == [f"call_center:{winner}"]


# --- who may record a result -------------------------------------------------------------


async def test_a_result_is_refused_while_another_agent_holds_the_task(
    api: httpx.AsyncClient, database: Database, township: str
) -> None:
    order_id = await reviewed_order(api, township, "satisfied")
    task_id = (await queued_task(api, township, order_id))["id"]
    claimed = await ok(await api.post(f"/api/follow-ups/{task_id}/claim", json={"agent_id": 1}))
    held_until = claimed["claim_expires_at"]

    # Neither another agent nor a result naming nobody gets past agent 1's claim.
    for agent in ({"agent_id": 2}, {}):
        detail = refused(
            await api.post(f"/api/follow-ups/{task_id}/result", json={**RESULT, **agent}),
            "ClaimedByOther",
        )
        assert "agent 1" in detail
    await still_awaiting_follow_up(api, database, order_id)
    task = await ok(await api.get(f"/api/follow-ups/{task_id}", params={"agent_id": 1}))
    assert (task["status"], task["claimed_by"], task["claim_expires_at"], task["mine"]) == (
        "open",
        1,
        held_until,
        True,
    )

    # The holder records it, and that closes the order.
    order = await ok(
        await api.post(f"/api/follow-ups/{task_id}/result", json={**RESULT, "agent_id": 1})
    )
    assert (order["id"], order["status"]) == (order_id, "closed")
    summary = order["follow_up"]
    assert (summary["id"], summary["status"], summary["method"], summary["outcome"]) == (
        task_id,
        "done",
        "phone",
        "confirmed",
    )
    event = followed_up(order)
    assert (event["actor"], event["note"]) == ("call_center:1", "老人很满意")
    assert (event["data"]["method"], event["data"]["outcome"]) == ("phone", "confirmed")
    task = await ok(await api.get(f"/api/follow-ups/{task_id}"))
    assert (task["status"], task["settled_by"], task["agent_id"], task["notes"]) == (
        "done",
        "staff",
        1,
        "老人很满意",
    )
    assert await follow_up_notes(database, order_id) == ["老人很满意"]


async def test_an_unclaimed_task_may_be_recorded_by_any_agent(
    api: httpx.AsyncClient, database: Database, live_settings: Settings, township: str
) -> None:
    unclaimed = await reviewed_order(api, township, "satisfied")
    unclaimed_task = (await queued_task(api, township, unclaimed))["id"]
    lapsed = await reviewed_order(api, township, "satisfied")
    lapsed_task = (await queued_task(api, township, lapsed))["id"]

    # Agent 1 claims the second task on a one-second lease and lets it lapse.
    short = live_settings.model_copy(update={"claim_lease": timedelta(seconds=1)})
    async with app_client(short) as short_lease:
        claim = await short_lease.post(f"/api/follow-ups/{lapsed_task}/claim", json={"agent_id": 1})
        assert (await ok(claim))["claimed_by"] == 1
    for _ in range(100):
        task = await ok(await api.get(f"/api/follow-ups/{lapsed_task}"))
        if task["claimed_by"] is None:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("agent 1's one-second claim never lapsed")
    assert task["claimable"] is True

    order = await ok(
        await api.post(f"/api/follow-ups/{unclaimed_task}/result", json={**RESULT, "agent_id": 5})
    )
    assert order["status"] == "closed"
    assert followed_up(order)["actor"] == "call_center:5"
    task = await ok(await api.get(f"/api/follow-ups/{unclaimed_task}"))
    assert (task["status"], task["settled_by"], task["agent_id"]) == ("done", "staff", 5)

    # The lapsed claim does not block a result, not even one naming no agent.
    order = await ok(await api.post(f"/api/follow-ups/{lapsed_task}/result", json=RESULT))
    assert order["status"] == "closed"
    assert followed_up(order)["actor"] == "call_center"
    task = await ok(await api.get(f"/api/follow-ups/{lapsed_task}"))
    assert (task["status"], task["settled_by"], task["agent_id"]) == ("done", "staff", None)
    assert await follow_up_notes(database, lapsed) == ["老人很满意"]


async def test_the_agent_recording_a_result_holds_the_task_until_the_order_has_it(
    api_only: httpx.AsyncClient,
    temporal: Client,
    engine: Engine,
    live_settings: Settings,
    township: str,
) -> None:
    api = api_only
    # No workflow cache, so a worker that comes back later picks the order up at once.
    uncached = live_settings.model_copy(update={"worker_max_cached_workflows": 0})
    async with serving(temporal, engine, uncached):
        order_id = await reviewed_order(api, township, "satisfied")
        task_id = (await queued_task(api, township, order_id))["id"]

    # With no worker the order cannot take the result yet: agent 5's claim covers the wait.
    recording = asyncio.create_task(
        api.post(f"/api/follow-ups/{task_id}/result", json={**RESULT, "agent_id": 5})
    )
    for _ in range(100):
        task = await ok(await api.get(f"/api/follow-ups/{task_id}", params={"agent_id": 5}))
        if task["claimed_by"] is not None:
            break
        await asyncio.sleep(0.05)
    assert (task["status"], task["claimed_by"], task["mine"]) == ("open", 5, True)
    refused(
        await api.post(f"/api/follow-ups/{task_id}/claim", json={"agent_id": 6}),
        "ClaimedByOther",
    )
    refused(
        await api.post(f"/api/follow-ups/{task_id}/result", json={**RESULT, "agent_id": 6}),
        "ClaimedByOther",
    )
    assert not recording.done()
    assert (await ok(await api.get(f"/api/orders/{order_id}")))["status"] == "reviewed"

    async with serving(temporal, engine, uncached):
        order = await ok(await recording)
    assert order["status"] == "closed"
    assert followed_up(order)["actor"] == "call_center:5"


async def test_a_done_task_is_refused_without_asking_the_order(
    api: httpx.AsyncClient, database: Database, township: str
) -> None:
    order_id = await reviewed_order(api, township, "satisfied")
    task_id = (await queued_task(api, township, order_id))["id"]
    await ok(await api.post(f"/api/follow-ups/{task_id}/result", json={**RESULT, "agent_id": 1}))

    again = {"method": "home_visit", "outcome": "complaint", "notes": "再记一次"}
    for agent in ({"agent_id": 1}, {"agent_id": 2}, {}):
        detail = refused(
            await api.post(f"/api/follow-ups/{task_id}/result", json={**again, **agent}),
            "FollowUpNotOpen",  # the order itself would answer OrderFinished
        )
        assert "done" in detail
    r = await api.post("/api/follow-ups/999999/result", json=RESULT)
    assert r.status_code == 404 and r.json()["code"] == "NotFound", r.text

    order = await ok(await api.get(f"/api/orders/{order_id}"))
    assert order["status"] == "closed"
    assert followed_up(order)["actor"] == "call_center:1"
    task = await ok(await api.get(f"/api/follow-ups/{task_id}"))
    assert (task["method"], task["outcome"], task["agent_id"]) == ("phone", "confirmed", 1)
    assert await follow_up_notes(database, order_id) == ["老人很满意"]
