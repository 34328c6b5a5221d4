"""The call-center queue over HTTP: order, claims and their leases, details, complaints.

The app runs on the database only, without Temporal, with rows written as the worker writes
them. Recording a result goes to the order's workflow, so it is tested with real orders in
``tests/integration/test_call_center_http.py``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.database import Database
from api.stores import follow_ups
from api.stores.errors import Conflict
from core.db import make_sessionmaker, transaction, utcnow
from core.models import OrderNote
from core.settings import Settings
from core.vocab import FollowUpStatus, OrderStatus, QueueReason
from tests.api.follow_up_data import (
    BASE,
    MASKED,
    PHONE,
    add_call,
    add_complaint,
    add_follow_up,
    add_order,
    add_township,
    api_client,
    follow_up_row,
    set_claim,
)

LEASE = timedelta(minutes=10)


@pytest.fixture
def lease_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"claim_lease": LEASE})


@pytest.fixture
async def api(database: Database, lease_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(database, lease_settings) as client:
        yield client


def body(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    detail: str = response.json()["detail"]
    return detail


async def open_task(db: Database, township: str, **fields: Any) -> int:
    def make(session: Session) -> int:
        order_id = add_order(session, township)
        return add_follow_up(session, order_id, **fields)

    return await db.run(make)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- the queue -------------------------------------------------------------------------


async def test_the_queue_serves_dissatisfied_residents_first_then_the_longest_waiting(
    each_database: Database, lease_settings: Settings
) -> None:
    db = each_database

    def seed(session: Session) -> tuple[str, dict[str, int]]:
        township = add_township(session)
        ids: dict[str, int] = {}
        plan: list[tuple[str, dict[str, Any]]] = [
            ("none", {"queue_reason": QueueReason.NO_AUTOMATED_CALL, "queued_at": BASE}),
            (
                "unhappy_late",
                {
                    "queue_reason": QueueReason.DISSATISFIED,
                    "queued_at": BASE + timedelta(hours=2),
                    "call_rating": "dissatisfied",
                    "call_attempts": 1,
                },
            ),
            (
                "unhappy_early",
                {"queue_reason": QueueReason.DISSATISFIED, "queued_at": BASE + timedelta(hours=1)},
            ),
            (
                "exhausted",
                {
                    "queue_reason": QueueReason.ATTEMPTS_EXHAUSTED,
                    "queued_at": BASE - timedelta(hours=1),
                    "call_attempts": 3,
                },
            ),
            (
                "asked",
                {
                    "queue_reason": QueueReason.STAFF_REQUESTED,
                    "queued_at": BASE + timedelta(hours=3),
                },
            ),
            ("calling", {"status": FollowUpStatus.CALLING, "call_attempts": 1}),
            (
                "done_early",
                {
                    "status": FollowUpStatus.DONE,
                    "done_at": BASE + timedelta(hours=5),
                    "method": "phone",
                    "outcome": "confirmed",
                    "settled_by": "automated_call",
                },
            ),
            (
                "done_late",
                {
                    "status": FollowUpStatus.DONE,
                    "done_at": BASE + timedelta(hours=6),
                    "method": "home_visit",
                    "outcome": "confirmed",
                    "settled_by": "staff",
                    "agent_id": 7,
                },
            ),
        ]
        for name, fields in plan:
            ids[name] = add_follow_up(session, add_order(session, township), **fields)
        return township, ids

    township, ids = await db.run(seed)
    async with api_client(db, lease_settings) as api:
        queue = body(
            await api.get("/api/follow-ups", params={"status": "open", "township": township})
        )
        assert [t["id"] for t in queue["items"]] == [
            ids["unhappy_early"],
            ids["unhappy_late"],
            ids["asked"],
            ids["exhausted"],
            ids["none"],
        ]
        assert queue["total"] == 5
        first = queue["items"][1]
        assert first["queue_reason"] == "dissatisfied"
        assert first["priority"] == 0
        assert at(first["queued_at"]) == BASE + timedelta(hours=2)
        assert (first["call_rating"], first["call_attempts"]) == ("dissatisfied", 1)
        assert first["resident_phone"] == PHONE
        assert (first["claimed_by"], first["claim_expires_at"]) == (None, None)
        assert (first["claimable"], first["mine"]) == (True, False)
        assert [t["priority"] for t in queue["items"]] == [0, 0, 1, 2, 3]

        page = body(
            await api.get(
                "/api/follow-ups",
                params={"status": "open", "township": township, "limit": 2, "offset": 1},
            )
        )
        assert [t["id"] for t in page["items"]] == [ids["unhappy_late"], ids["asked"]]
        assert page["total"] == 5

        calling = body(
            await api.get("/api/follow-ups", params={"status": "calling", "township": township})
        )
        assert [t["id"] for t in calling["items"]] == [ids["calling"]]
        assert calling["items"][0]["resident_phone"] == PHONE  # a call may still reach staff
        assert calling["items"][0]["claimable"] is False

        done = body(
            await api.get("/api/follow-ups", params={"status": "done", "township": township})
        )
        assert [t["id"] for t in done["items"]] == [ids["done_late"], ids["done_early"]]
        assert [t["resident_phone"] for t in done["items"]] == [MASKED, MASKED]
        assert [t["settled_by"] for t in done["items"]] == ["staff", "automated_call"]
        assert done["items"][0]["agent_id"] == 7
        assert done["items"][0]["claimable"] is False

        everything = body(await api.get("/api/follow-ups", params={"township": township}))
        assert everything["total"] == 8
        assert (await api.get("/api/follow-ups", params={"status": "lost"})).status_code == 422


# --- claims ----------------------------------------------------------------------------


async def test_a_claim_is_a_lease_only_its_holder_extends_or_releases(
    each_database: Database, lease_settings: Settings
) -> None:
    db = each_database
    township = await db.run(add_township)
    task = await open_task(db, township)
    other = await open_task(db, township, queued_at=BASE + timedelta(hours=1))
    async with api_client(db, lease_settings) as api:
        before = utcnow()
        claimed = body(await api.post(f"/api/follow-ups/{task}/claim", json={"agent_id": 1}))
        after = utcnow()
        assert (claimed["id"], claimed["claimed_by"], claimed["mine"]) == (task, 1, True)
        expires = at(claimed["claim_expires_at"])
        assert before + LEASE <= expires <= after + LEASE  # CLAIM_LEASE, from the settings
        row = await db.run(follow_up_row, task)
        assert (row.claimed_by, row.claim_expires_at) == (1, expires)

        def queue(agent: int) -> Any:
            return api.get(
                "/api/follow-ups",
                params={"status": "open", "township": township, "agent_id": agent},
            )

        seen_by_1 = body(await queue(1))["items"]
        assert [(t["id"], t["claimed_by"], t["mine"], t["claimable"]) for t in seen_by_1] == [
            (task, 1, True, True),
            (other, None, False, True),
        ]
        seen_by_2 = body(await queue(2))["items"]
        assert [(t["mine"], t["claimable"]) for t in seen_by_2] == [(False, False), (False, True)]

        detail = refused(
            await api.post(f"/api/follow-ups/{task}/claim", json={"agent_id": 2}),
            409,
            "ClaimedByOther",
        )
        assert "agent 1" in detail and expires.isoformat() in detail

        # The holder claiming again extends the lease.
        await db.run(set_claim, task, 1, utcnow() + timedelta(minutes=1))
        again = body(await api.post(f"/api/follow-ups/{task}/claim", json={"agent_id": 1}))
        assert at(again["claim_expires_at"]) >= after + LEASE

        refused(
            await api.post(f"/api/follow-ups/{task}/release", json={"agent_id": 2}),
            409,
            "NotClaimHolder",
        )
        assert (await db.run(follow_up_row, task)).claimed_by == 1
        released = body(await api.post(f"/api/follow-ups/{task}/release", json={"agent_id": 1}))
        assert (released["claimed_by"], released["claimable"]) == (None, True)
        assert (await db.run(follow_up_row, task)).claimed_by is None
        refused(
            await api.post(f"/api/follow-ups/{task}/release", json={"agent_id": 1}),
            409,
            "NotClaimHolder",
        )
        body(await api.post(f"/api/follow-ups/{task}/claim", json={"agent_id": 2}))

        # A lapsed lease counts as unclaimed: listed so, and anyone may claim it.
        await db.run(set_claim, task, 2, utcnow() - timedelta(seconds=1))
        lapsed = body(await queue(3))["items"][0]
        assert (lapsed["claimed_by"], lapsed["claim_expires_at"], lapsed["claimable"]) == (
            None,
            None,
            True,
        )
        taken = body(await api.post(f"/api/follow-ups/{task}/claim", json={"agent_id": 3}))
        assert taken["claimed_by"] == 3
        assert (await db.run(follow_up_row, task)).claimed_by == 3


async def test_only_open_tasks_can_be_claimed(api: httpx.AsyncClient, database: Database) -> None:
    township = await database.run(add_township)
    calling = await open_task(database, township, status=FollowUpStatus.CALLING)
    done = await open_task(
        database, township, status=FollowUpStatus.DONE, done_at=BASE, outcome="confirmed"
    )
    for task, status in ((calling, "calling"), (done, "done")):
        detail = refused(
            await api.post(f"/api/follow-ups/{task}/claim", json={"agent_id": 1}),
            409,
            "FollowUpNotOpen",
        )
        assert status in detail
        assert (await database.run(follow_up_row, task)).claimed_by is None
    refused(await api.post("/api/follow-ups/999999/claim", json={"agent_id": 1}), 404, "NotFound")
    refused(await api.post("/api/follow-ups/999999/release", json={"agent_id": 1}), 404, "NotFound")
    task = await open_task(database, township)
    for bad in ({}, {"agent_id": 0}, {"agent_id": "x"}, {"agent_id": 1, "extra": True}):
        assert (await api.post(f"/api/follow-ups/{task}/claim", json=bad)).status_code == 422
    assert (await api.post("/api/follow-ups/0/claim", json={"agent_id": 1})).status_code == 422


async def test_agents_claiming_at_once_yield_one_holder(
    api: httpx.AsyncClient, database: Database
) -> None:
    township = await database.run(add_township)
    task = await open_task(database, township)
    agents = range(1, 13)
    responses = await asyncio.gather(
        *(api.post(f"/api/follow-ups/{task}/claim", json={"agent_id": a}) for a in agents)
    )
    winners = [a for a, r in zip(agents, responses, strict=True) if r.status_code == 200]
    assert len(winners) == 1, [r.text for r in responses]
    assert sorted(r.json()["code"] for r in responses if r.status_code != 200) == [
        "ClaimedByOther"
    ] * (len(agents) - 1)
    assert (await database.run(follow_up_row, task)).claimed_by == winners[0]


def test_claims_racing_in_threads_never_make_two_holders(
    engine: Engine, lease_settings: Settings
) -> None:
    """Each round, agents released together by a barrier claim one task: one wins."""
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        township = add_township(session)
    agents = 10
    for _round in range(5):
        with transaction(sessions) as session:
            task = add_follow_up(session, add_order(session, township))
        barrier = threading.Barrier(agents)

        def claim(agent: int, task: int = task, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait()
            try:
                with transaction(sessions) as session:
                    follow_ups.claim_follow_up(
                        session, task, agent, lease=lease_settings.claim_lease
                    )
            except Conflict as exc:
                assert exc.code == "ClaimedByOther"
                return False
            return True

        with ThreadPoolExecutor(max_workers=agents) as pool:
            won = list(pool.map(claim, range(1, agents + 1)))
        assert won.count(True) == 1
        with transaction(sessions) as session:
            assert follow_up_row(session, task).claimed_by == won.index(True) + 1


# --- recording the result --------------------------------------------------------------


# --- one task in detail ------------------------------------------------------------------


async def test_a_task_shows_its_order_and_every_automated_call(
    api: httpx.AsyncClient, database: Database
) -> None:
    def seed(session: Session) -> tuple[str, int, int]:
        township = add_township(session)
        order_id = add_order(session, township, review_rating="average")
        task = add_follow_up(
            session,
            order_id,
            queue_reason=QueueReason.DISSATISFIED,
            queued_at=BASE + timedelta(hours=3),
            call_attempts=2,
            call_rating="dissatisfied",
        )
        # Written out of order: the detail lists them by attempt.
        add_call(
            session,
            order_id,
            task,
            2,
            state="ended",
            call_sid="CA" + "2" * 32,
            placed_at=BASE + timedelta(hours=2),
            ended_at=BASE + timedelta(hours=2, minutes=1),
            call_status="completed",
            answered_by="human",
            digits="4",
            outcome="rated",
        )
        add_call(
            session,
            order_id,
            task,
            1,
            state="ended",
            call_sid="CA" + "1" * 32,
            placed_at=BASE,
            ended_at=BASE + timedelta(seconds=30),
            call_status="no-answer",
            outcome="no-answer",
        )
        return township, order_id, task

    _township, order_id, task = await database.run(seed)
    await database.run(set_claim, task, 4, utcnow() + timedelta(minutes=5))
    detail = body(await api.get(f"/api/follow-ups/{task}", params={"agent_id": 4}))
    assert (detail["id"], detail["order_id"], detail["status"]) == (task, order_id, "open")
    assert (detail["item_code"], detail["item_name"], detail["category_code"]) == (
        "care.elderly_visit",
        "空巢老人探访",
        "care",
    )
    assert (detail["resident_name"], detail["resident_phone"]) == ("龙秀英", PHONE)
    assert detail["review_rating"] == "average"
    assert (detail["call_rating"], detail["call_attempts"]) == ("dissatisfied", 2)
    assert (detail["queue_reason"], detail["priority"]) == ("dissatisfied", 0)
    assert (detail["claimed_by"], detail["mine"]) == (4, True)
    calls = detail["calls"]
    assert [c["attempt"] for c in calls] == [1, 2]
    assert calls[0] == {
        "attempt": 1,
        "state": "ended",
        "placed_at": calls[0]["placed_at"],
        "ended_at": calls[0]["ended_at"],
        "call_status": "no-answer",
        "answered_by": None,
        "digits": None,
        "outcome": "no-answer",
    }
    assert at(calls[0]["placed_at"]) == BASE
    assert (calls[1]["answered_by"], calls[1]["digits"], calls[1]["outcome"]) == (
        "human",
        "4",
        "rated",
    )
    assert at(calls[1]["ended_at"]) == BASE + timedelta(hours=2, minutes=1)

    as_other = body(await api.get(f"/api/follow-ups/{task}", params={"agent_id": 5}))
    assert (as_other["claimed_by"], as_other["mine"], as_other["claimable"]) == (4, False, False)
    refused(await api.get("/api/follow-ups/999999"), 404, "NotFound")


async def test_a_done_task_masks_the_phone_and_shows_its_note_and_complaint(
    api: httpx.AsyncClient, database: Database
) -> None:
    def seed(session: Session) -> tuple[int, int]:
        township = add_township(session)
        order_id = add_order(session, township, status=OrderStatus.CLOSED)
        task = add_follow_up(
            session,
            order_id,
            status=FollowUpStatus.DONE,
            done_at=BASE,
            method="phone",
            outcome="complaint",
            settled_by="staff",
            agent_id=3,
            note="志愿者没来",
        )
        return task, add_complaint(session, order_id, task, created_at=BASE, note="志愿者没来")

    task, complaint = await database.run(seed)
    detail = body(await api.get(f"/api/follow-ups/{task}"))
    assert detail["resident_phone"] == MASKED
    assert (detail["notes"], detail["complaint_id"]) == ("志愿者没来", complaint)
    assert (detail["outcome"], detail["settled_by"], detail["agent_id"]) == (
        "complaint",
        "staff",
        3,
    )
    assert detail["calls"] == []


# --- complaints ------------------------------------------------------------------------


async def test_admins_list_complaints_and_resolve_each_once(
    each_database: Database, lease_settings: Settings
) -> None:
    db = each_database

    def seed(session: Session) -> tuple[str, list[int], list[int]]:
        township = add_township(session)
        complaints, orders = [], []
        for n, text in enumerate(("志愿者迟到", "没有打扫干净", "态度不好")):
            order_id = add_order(session, township, status=OrderStatus.CLOSED, volunteer_id=None)
            task = add_follow_up(
                session,
                order_id,
                status=FollowUpStatus.DONE,
                done_at=BASE + timedelta(hours=n),
                outcome="complaint",
            )
            created = BASE + timedelta(hours=n)
            complaints.append(add_complaint(session, order_id, task, created_at=created, note=text))
            orders.append(order_id)
        return township, complaints, orders

    township, complaints, orders = await db.run(seed)
    async with api_client(db, lease_settings) as api:

        async def listed(**params: Any) -> Any:
            return body(await api.get("/api/complaints", params={"township": township, **params}))

        page = await listed(status="open")
        assert [c["id"] for c in page["items"]] == complaints  # oldest first
        first = page["items"][0]
        assert (first["order_id"], first["item_code"], first["item_name"]) == (
            orders[0],
            "care.elderly_visit",
            "空巢老人探访",
        )
        assert (first["township"], first["note"], first["status"]) == (
            township,
            "志愿者迟到",
            "open",
        )
        assert at(first["created_at"]) == BASE
        assert (first["resolved_at"], first["resolved_by"], first["resolution"]) == (
            None,
            None,
            None,
        )
        paged = await listed(status="open", limit=1, offset=1)
        assert ([c["id"] for c in paged["items"]], paged["total"]) == ([complaints[1]], 3)

        resolved = body(
            await api.post(
                f"/api/complaints/{complaints[1]}/resolve",
                json={"admin_id": 9, "notes": "已约谈志愿者，重新上门打扫"},
            )
        )
        assert (resolved["status"], resolved["resolved_by"]) == ("resolved", 9)
        assert resolved["resolution"] == "已约谈志愿者，重新上门打扫"
        assert resolved["note"] == "没有打扫干净"
        assert at(resolved["resolved_at"]) <= utcnow()

        detail = refused(
            await api.post(
                f"/api/complaints/{complaints[1]}/resolve", json={"admin_id": 8, "notes": "再次"}
            ),
            409,
            "ComplaintAlreadyResolved",
        )
        assert "admin 9" in detail
        assert [c["id"] for c in (await listed(status="open"))["items"]] == [
            complaints[0],
            complaints[2],
        ]
        done = await listed(status="resolved")
        assert [(c["id"], c["resolved_by"]) for c in done["items"]] == [(complaints[1], 9)]
        assert [c["id"] for c in (await listed())["items"]] == complaints[::-1]  # newest first
        assert body(await api.get(f"/api/complaints/{complaints[1]}"))["resolved_by"] == 9

        def resolution_notes(session: Session) -> list[tuple[str, str]]:
            return [
                (n.kind, n.body)
                for n in session.scalars(
                    select(OrderNote).where(
                        OrderNote.order_id == orders[1], OrderNote.kind == "complaint_resolution"
                    )
                )
            ]

        # Only the winning note is kept: the refused second resolution rolled its note back.
        assert await db.run(resolution_notes) == [
            ("complaint_resolution", "已约谈志愿者，重新上门打扫")
        ]

        refused(
            await api.post("/api/complaints/999999/resolve", json={"admin_id": 1, "notes": "x"}),
            404,
            "NotFound",
        )
        for bad in ({"admin_id": 1}, {"admin_id": 1, "notes": "  "}, {"notes": "x"}):
            r = await api.post(f"/api/complaints/{complaints[0]}/resolve", json=bad)
            assert r.status_code == 422
        assert (await api.get("/api/complaints", params={"status": "closed"})).status_code == 422


async def test_admins_resolving_at_once_resolve_it_once(
    api: httpx.AsyncClient, database: Database
) -> None:
    def seed(session: Session) -> int:
        township = add_township(session)
        order_id = add_order(session, township, status=OrderStatus.CLOSED)
        task = add_follow_up(
            session, order_id, status=FollowUpStatus.DONE, done_at=BASE, outcome="complaint"
        )
        return add_complaint(session, order_id, task, created_at=BASE, note="投诉")

    complaint = await database.run(seed)
    responses = await asyncio.gather(
        *(
            api.post(
                f"/api/complaints/{complaint}/resolve", json={"admin_id": a, "notes": f"处理{a}"}
            )
            for a in range(1, 7)
        )
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5
    winner = next(r.json() for r in responses if r.status_code == 200)
    final = body(await api.get(f"/api/complaints/{complaint}"))
    assert (final["resolved_by"], final["resolution"]) == (
        winner["resolved_by"],
        f"处理{winner['resolved_by']}",
    )
