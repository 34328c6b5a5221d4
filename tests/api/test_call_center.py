"""The call-center queue over HTTP: order, claims and their leases, details, complaints.

The app runs on the database only, without Temporal, with rows written as the worker writes
them. Every caller signs in: agents work the queue, admins read it and handle complaints,
nobody else gets in. Recording a result goes to the order's workflow, so it is tested with
real orders in ``tests/integration/test_call_center_http.py``; here only what refuses a
result before it reaches the order.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
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
from api.stores.errors import Conflict, found
from core.db import make_sessionmaker, transaction, utcnow
from core.models import AuditEntry, Order, OrderNote, Volunteer
from core.security import Principal, read_token
from core.settings import Settings
from core.vocab import FollowUpStatus, OrderStatus, QueueReason, Role
from tests import signin
from tests.api.follow_up_data import (
    ADDRESS,
    BASE,
    MASKED,
    PHONE,
    Staff,
    add_call,
    add_complaint,
    add_follow_up,
    add_order,
    add_township,
    api_client,
    follow_up_row,
    public_id,
    set_claim,
)

LEASE = timedelta(minutes=10)
RESULT = {"method": "phone", "outcome": "confirmed", "notes": "老人很满意"}


@pytest.fixture
def lease_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"claim_lease": LEASE})


@pytest.fixture
async def api(database: Database, lease_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(database, lease_settings) as client:
        yield client


@pytest.fixture
def staff(api: httpx.AsyncClient, database: Database, lease_settings: Settings) -> Staff:
    return Staff(api, database, lease_settings)


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


def agent_principal(agent_id: int) -> Principal:
    return Principal(subject=f"staff:{agent_id}", roles=frozenset({Role.AGENT}), staff_id=agent_id)


def add_volunteer(session: Session, township: str) -> int:
    """A volunteer whose phone (E.164, as registration stores it) signs them in as one."""
    volunteer = Volunteer(
        name="志愿者", phone=f"+86139{uuid.uuid4().int % 10**8:08d}", township=township
    )
    session.add(volunteer)
    session.flush()
    return volunteer.id


async def contact_reads(db: Database, order: str) -> list[tuple[str, str | None, Any]]:
    """The audit trail's ``contact.read`` entries for an order: (actor, ip, detail)."""

    def read(session: Session) -> list[tuple[str, str | None, Any]]:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "contact.read", AuditEntry.target == f"order:{order}")
            .order_by(AuditEntry.id)
        )
        return [(row.actor, row.ip, row.detail) for row in rows]

    return await db.run(read)


# --- the queue -------------------------------------------------------------------------


async def test_the_queue_serves_dissatisfied_residents_first_then_the_longest_waiting(
    each_database: Database, lease_settings: Settings
) -> None:
    db = each_database

    def seed(session: Session) -> tuple[str, dict[str, int], dict[str, str]]:
        township = add_township(session)
        ids: dict[str, int] = {}
        orders: dict[str, str] = {}
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
            order_id = add_order(session, township)
            ids[name] = add_follow_up(session, order_id, **fields)
            orders[name] = public_id(session, order_id)
        return township, ids, orders

    township, ids, orders = await db.run(seed)
    async with api_client(db, lease_settings) as api:
        staff = Staff(api, db, lease_settings)
        agent, admin = await staff.agent(), await staff.admin()
        queue = body(
            await agent.get("/api/follow-ups", params={"status": "open", "township": township})
        )
        in_order = ["unhappy_early", "unhappy_late", "asked", "exhausted", "none"]
        assert [t["id"] for t in queue["items"]] == [ids[name] for name in in_order]
        # Orders go by their public ids, never the internal row numbers.
        assert [t["order_id"] for t in queue["items"]] == [orders[name] for name in in_order]
        assert queue["total"] == 5
        first = queue["items"][1]
        assert first["queue_reason"] == "dissatisfied"
        assert first["priority"] == 0
        assert at(first["queued_at"]) == BASE + timedelta(hours=2)
        assert (first["call_rating"], first["call_attempts"]) == ("dissatisfied", 1)
        # Masked in the queue: only the agent holding a task reads the number, in its detail.
        assert {t["resident_phone"] for t in queue["items"]} == {MASKED}
        assert (first["claimed_by"], first["claim_expires_at"]) == (None, None)
        assert (first["claimable"], first["mine"]) == (True, False)
        assert [t["priority"] for t in queue["items"]] == [0, 0, 1, 2, 3]

        page = body(
            await agent.get(
                "/api/follow-ups",
                params={"status": "open", "township": township, "limit": 2, "offset": 1},
            )
        )
        assert [t["id"] for t in page["items"]] == [ids["unhappy_late"], ids["asked"]]
        assert page["total"] == 5

        calling = body(
            await agent.get("/api/follow-ups", params={"status": "calling", "township": township})
        )
        assert [t["id"] for t in calling["items"]] == [ids["calling"]]
        assert calling["items"][0]["resident_phone"] == MASKED
        assert calling["items"][0]["claimable"] is False

        done = body(
            await agent.get("/api/follow-ups", params={"status": "done", "township": township})
        )
        assert [t["id"] for t in done["items"]] == [ids["done_late"], ids["done_early"]]
        assert [t["resident_phone"] for t in done["items"]] == [MASKED, MASKED]
        assert [t["settled_by"] for t in done["items"]] == ["staff", "automated_call"]
        assert done["items"][0]["agent_id"] == 7
        assert done["items"][0]["claimable"] is False

        everything = body(await agent.get("/api/follow-ups", params={"township": township}))
        assert everything["total"] == 8
        # Admins read the same queue, the numbers masked just the same.
        as_admin = body(
            await admin.get("/api/follow-ups", params={"status": "open", "township": township})
        )
        assert [t["id"] for t in as_admin["items"]] == [ids[name] for name in in_order]
        assert {t["resident_phone"] for t in as_admin["items"]} == {MASKED}
        assert (await agent.get("/api/follow-ups", params={"status": "lost"})).status_code == 422


# --- who may use it --------------------------------------------------------------------


async def test_only_agents_work_the_queue_and_only_staff_read_it(
    api: httpx.AsyncClient, staff: Staff, database: Database, lease_settings: Settings
) -> None:
    township = await database.run(add_township)

    def seed(session: Session) -> tuple[int, str, int]:
        order_id = add_order(session, township)
        task = add_follow_up(session, order_id)
        return task, public_id(session, order_id), add_volunteer(session, township)

    task, order, volunteer_id = await database.run(seed)
    anonymous = signin.Caller(api, {})
    resident = signin.Caller(api, await signin.resident(database, lease_settings))
    volunteer = signin.Caller(api, await signin.volunteer(database, lease_settings, volunteer_id))
    token = volunteer.headers["Authorization"].removeprefix("Bearer ")
    signed_in = read_token(token, secret=lease_settings.signing_secret)
    assert (signed_in.volunteer_id, Role.VOLUNTEER in signed_in.roles) == (volunteer_id, True)
    # The order link from our SMS opens its own order, nothing else.
    link = signin.Caller(api, signin.order_link(order, lease_settings))
    admin = await staff.admin()

    async def each_route(caller: signin.Caller) -> list[httpx.Response]:
        return [
            await caller.get("/api/follow-ups"),
            await caller.get(f"/api/follow-ups/{task}"),
            await caller.post(f"/api/follow-ups/{task}/claim"),
            await caller.post(f"/api/follow-ups/{task}/release"),
            await caller.post(f"/api/follow-ups/{task}/result", json=RESULT),
        ]

    for response in await each_route(anonymous):
        refused(response, 401, "NotSignedIn")
    for caller in (resident, volunteer, link):
        for response in await each_route(caller):
            refused(response, 403, "Forbidden")

    # Admins read the queue and the tasks, but the calling is the agents'.
    assert body(await admin.get("/api/follow-ups", params={"township": township}))["total"] == 1
    detail = body(await admin.get(f"/api/follow-ups/{task}"))
    assert (detail["resident_phone"], detail["address"]) == (MASKED, None)
    refused(await admin.post(f"/api/follow-ups/{task}/claim"), 403, "Forbidden")
    refused(await admin.post(f"/api/follow-ups/{task}/release"), 403, "Forbidden")
    # Refused before anything reaches the order (this app has no Temporal to reach).
    refused(await admin.post(f"/api/follow-ups/{task}/result", json=RESULT), 403, "Forbidden")

    row = await database.run(follow_up_row, task)
    assert (row.status, row.claimed_by, row.agent_id) == ("open", None, None)
    assert await contact_reads(database, order) == []


async def test_an_agent_of_other_townships_finds_no_task_there(
    api: httpx.AsyncClient, staff: Staff, database: Database
) -> None:
    township = await database.run(add_township)
    elsewhere = await database.run(add_township)
    task = await open_task(database, township)
    outsider = await staff.agent(elsewhere)
    local = await staff.agent(township)

    assert body(await outsider.get("/api/follow-ups", params={"township": township}))["total"] == 0
    assert task not in [t["id"] for t in body(await outsider.get("/api/follow-ups"))["items"]]
    # Outside their townships a task reads exactly like one that does not exist.
    for path in (f"/api/follow-ups/{task}", "/api/follow-ups/999999"):
        refused(await outsider.get(path), 404, "NotFound")
    refused(await outsider.post(f"/api/follow-ups/{task}/claim"), 404, "NotFound")
    refused(await outsider.post(f"/api/follow-ups/{task}/result", json=RESULT), 404, "NotFound")
    assert (await database.run(follow_up_row, task)).claimed_by is None

    # An agent of the township works it as usual.
    listed = body(await local.get("/api/follow-ups", params={"township": township}))
    assert [t["id"] for t in listed["items"]] == [task]
    assert body(await local.post(f"/api/follow-ups/{task}/claim"))["claimed_by"] == local.id


async def test_an_agent_of_other_townships_cannot_release_a_task_there(
    api: httpx.AsyncClient, staff: Staff, database: Database
) -> None:
    township = await database.run(add_township)
    elsewhere = await database.run(add_township)
    task = await open_task(database, township)
    holder = await staff.agent(township)
    body(await holder.post(f"/api/follow-ups/{task}/claim"))
    outsider = await staff.agent(elsewhere)
    refused(await outsider.post(f"/api/follow-ups/{task}/release"), 404, "NotFound")


# --- claims ----------------------------------------------------------------------------


async def test_a_claim_is_a_lease_only_its_holder_extends_or_releases(
    each_database: Database, lease_settings: Settings
) -> None:
    db = each_database
    township = await db.run(add_township)
    task = await open_task(db, township)
    other = await open_task(db, township, queued_at=BASE + timedelta(hours=1))
    async with api_client(db, lease_settings) as api:
        staff = Staff(api, db, lease_settings)
        one, two, three = await staff.agent(), await staff.agent(), await staff.agent()
        before = utcnow()
        claimed = body(await one.post(f"/api/follow-ups/{task}/claim"))
        after = utcnow()
        assert (claimed["id"], claimed["claimed_by"], claimed["mine"]) == (task, one.id, True)
        expires = at(claimed["claim_expires_at"])
        assert before + LEASE <= expires <= after + LEASE  # CLAIM_LEASE, from the settings
        row = await db.run(follow_up_row, task)
        assert (row.claimed_by, row.claim_expires_at) == (one.id, expires)

        def queue(agent: signin.Caller, **params: Any) -> Any:
            return agent.get(
                "/api/follow-ups", params={"status": "open", "township": township, **params}
            )

        seen_by_one = body(await queue(one))["items"]
        assert [(t["id"], t["claimed_by"], t["mine"], t["claimable"]) for t in seen_by_one] == [
            (task, one.id, True, True),
            (other, None, False, True),
        ]
        seen_by_two = body(await queue(two))["items"]
        assert [(t["mine"], t["claimable"]) for t in seen_by_two] == [(False, False), (False, True)]
        # Whose the queue is comes from the sign-in: naming another agent changes nothing.
        as_if_one = body(await queue(two, agent_id=one.id))["items"]
        assert [(t["mine"], t["claimable"]) for t in as_if_one] == [(False, False), (False, True)]

        detail = refused(await two.post(f"/api/follow-ups/{task}/claim"), 409, "ClaimedByOther")
        assert f"agent {one.id}" in detail and expires.isoformat() in detail

        # The holder claiming again extends the lease.
        await db.run(set_claim, task, one.id, utcnow() + timedelta(minutes=1))
        again = body(await one.post(f"/api/follow-ups/{task}/claim"))
        assert at(again["claim_expires_at"]) >= after + LEASE

        refused(await two.post(f"/api/follow-ups/{task}/release"), 409, "NotClaimHolder")
        assert (await db.run(follow_up_row, task)).claimed_by == one.id
        released = body(await one.post(f"/api/follow-ups/{task}/release"))
        assert (released["claimed_by"], released["claimable"]) == (None, True)
        assert (await db.run(follow_up_row, task)).claimed_by is None
        refused(await one.post(f"/api/follow-ups/{task}/release"), 409, "NotClaimHolder")
        body(await two.post(f"/api/follow-ups/{task}/claim"))

        # A lapsed lease counts as unclaimed: listed so, and anyone may claim it.
        await db.run(set_claim, task, two.id, utcnow() - timedelta(seconds=1))
        lapsed = body(await queue(three))["items"][0]
        assert (lapsed["claimed_by"], lapsed["claim_expires_at"], lapsed["claimable"]) == (
            None,
            None,
            True,
        )
        taken = body(await three.post(f"/api/follow-ups/{task}/claim"))
        assert taken["claimed_by"] == three.id
        assert (await db.run(follow_up_row, task)).claimed_by == three.id


async def test_only_open_tasks_can_be_claimed(
    api: httpx.AsyncClient, staff: Staff, database: Database
) -> None:
    agent, other = await staff.agent(), await staff.agent()
    township = await database.run(add_township)
    calling = await open_task(database, township, status=FollowUpStatus.CALLING)
    done = await open_task(
        database, township, status=FollowUpStatus.DONE, done_at=BASE, outcome="confirmed"
    )
    for task, status in ((calling, "calling"), (done, "done")):
        detail = refused(await agent.post(f"/api/follow-ups/{task}/claim"), 409, "FollowUpNotOpen")
        assert status in detail
        assert (await database.run(follow_up_row, task)).claimed_by is None
    refused(await agent.post("/api/follow-ups/999999/claim"), 404, "NotFound")
    refused(await agent.post("/api/follow-ups/999999/release"), 404, "NotFound")
    assert (await agent.post("/api/follow-ups/0/claim")).status_code == 422
    # A claim has no body: whoever a body names, the claim is the signed-in agent's.
    task = await open_task(database, township)
    claimed = body(await agent.post(f"/api/follow-ups/{task}/claim", json={"agent_id": other.id}))
    assert (claimed["claimed_by"], claimed["mine"]) == (agent.id, True)
    assert (await database.run(follow_up_row, task)).claimed_by == agent.id


async def test_agents_claiming_at_once_yield_one_holder(
    api: httpx.AsyncClient, staff: Staff, database: Database
) -> None:
    township = await database.run(add_township)
    task = await open_task(database, township)
    agents = [await staff.agent() for _ in range(12)]
    responses = await asyncio.gather(
        *(agent.post(f"/api/follow-ups/{task}/claim") for agent in agents)
    )
    winners = [a.id for a, r in zip(agents, responses, strict=True) if r.status_code == 200]
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
                        session,
                        task,
                        agent,
                        lease=lease_settings.claim_lease,
                        viewer=agent_principal(agent),
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


async def test_a_result_is_refused_before_it_reaches_the_order(
    api: httpx.AsyncClient, staff: Staff, database: Database
) -> None:
    """What the queue itself refuses never reaches the order (this app has no Temporal)."""
    township = await database.run(add_township)
    holder, other = await staff.agent(), await staff.agent()
    held = await open_task(database, township)
    body(await holder.post(f"/api/follow-ups/{held}/claim"))
    detail = refused(
        await other.post(f"/api/follow-ups/{held}/result", json=RESULT), 409, "ClaimedByOther"
    )
    assert f"agent {holder.id}" in detail
    assert (await database.run(follow_up_row, held)).claimed_by == holder.id

    done = await open_task(
        database, township, status=FollowUpStatus.DONE, done_at=BASE, outcome="confirmed"
    )
    for agent in (holder, other):
        detail = refused(
            await agent.post(f"/api/follow-ups/{done}/result", json=RESULT), 409, "FollowUpNotOpen"
        )
        assert "done" in detail
    refused(await holder.post("/api/follow-ups/999999/result", json=RESULT), 404, "NotFound")
    # The agent is the signed-in one: a body naming one is not a valid result.
    r = await other.post(f"/api/follow-ups/{held}/result", json={**RESULT, "agent_id": other.id})
    assert r.status_code == 422, r.text
    row = await database.run(follow_up_row, held)
    assert (row.status, row.claimed_by, row.agent_id) == ("open", holder.id, None)


# --- one task in detail ------------------------------------------------------------------


async def test_a_task_shows_its_order_and_every_automated_call(
    api: httpx.AsyncClient, staff: Staff, database: Database
) -> None:
    def seed(session: Session) -> tuple[str, int]:
        township = add_township(session)
        phone = f"+86139{uuid.uuid4().int % 10**8:08d}"
        volunteer = Volunteer(name="吴芳", phone=phone, township=township)
        session.add(volunteer)
        session.flush()
        order_id = add_order(session, township, review_rating="average", volunteer_id=volunteer.id)
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
        return public_id(session, order_id), task

    order, task = await database.run(seed)
    holder, other, admin = await staff.agent(), await staff.agent(), await staff.admin()
    await database.run(set_claim, task, holder.id, utcnow() + timedelta(minutes=5))
    detail = body(await holder.get(f"/api/follow-ups/{task}"))
    assert (detail["id"], detail["order_id"], detail["status"]) == (task, order, "open")
    assert (detail["item_code"], detail["item_name"], detail["category_code"]) == (
        "care.elderly_visit",
        "空巢老人探访",
        "care",
    )
    # The agent holding the task is about to call: the full number and the address.
    assert (detail["resident_name"], detail["resident_phone"]) == ("龙秀英", PHONE)
    assert detail["address"] == ADDRESS
    assert detail["review_rating"] == "average"
    # The call script names who served them.
    assert detail["volunteer_name"] == "吴志愿者"  # no display name chosen: surname + 志愿者
    assert (detail["call_rating"], detail["call_attempts"]) == ("dissatisfied", 2)
    assert (detail["queue_reason"], detail["priority"]) == ("dissatisfied", 0)
    assert (detail["claimed_by"], detail["mine"]) == (holder.id, True)
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
        "confirm_rating": None,
    }
    assert at(calls[0]["placed_at"]) == BASE
    assert (calls[1]["answered_by"], calls[1]["digits"], calls[1]["outcome"]) == (
        "human",
        "4",
        "rated",
    )
    assert at(calls[1]["ended_at"]) == BASE + timedelta(hours=2, minutes=1)
    # Each read of the contact is audited: who, from where, through which screen.
    read = (f"staff:{holder.id}", "127.0.0.1", {"via": "follow-up"})
    assert await contact_reads(database, order) == [read]

    # Another agent and an admin see the task, not whom to call or where.
    as_other = body(await other.get(f"/api/follow-ups/{task}"))
    assert (as_other["claimed_by"], as_other["mine"], as_other["claimable"]) == (
        holder.id,
        False,
        False,
    )
    assert (as_other["resident_phone"], as_other["address"]) == (MASKED, None)
    as_admin = body(await admin.get(f"/api/follow-ups/{task}"))
    assert (as_admin["resident_phone"], as_admin["address"], as_admin["mine"]) == (
        MASKED,
        None,
        False,
    )
    assert as_admin["calls"] == calls
    assert await contact_reads(database, order) == [read]

    # Once the lease lapses the former holder is one more agent: masked, and nothing audited.
    await database.run(set_claim, task, holder.id, utcnow() - timedelta(seconds=1))
    lapsed = body(await holder.get(f"/api/follow-ups/{task}"))
    assert (lapsed["resident_phone"], lapsed["address"], lapsed["mine"]) == (MASKED, None, False)
    await database.run(set_claim, task, holder.id, utcnow() + timedelta(minutes=5))
    assert body(await holder.get(f"/api/follow-ups/{task}"))["resident_phone"] == PHONE
    assert await contact_reads(database, order) == [read, read]

    refused(await holder.get("/api/follow-ups/999999"), 404, "NotFound")


async def test_a_done_task_masks_the_phone_and_shows_its_note_and_complaint(
    api: httpx.AsyncClient, staff: Staff, database: Database
) -> None:
    def seed(session: Session) -> tuple[str, int, int]:
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
        complaint = add_complaint(session, order_id, task, created_at=BASE, note="志愿者没来")
        return public_id(session, order_id), task, complaint

    order, task, complaint = await database.run(seed)
    for caller in (await staff.agent(), await staff.admin()):
        detail = body(await caller.get(f"/api/follow-ups/{task}"))
        assert (detail["resident_phone"], detail["address"]) == (MASKED, None)
        assert (detail["notes"], detail["complaint_id"]) == ("志愿者没来", complaint)
        assert (detail["outcome"], detail["settled_by"], detail["agent_id"]) == (
            "complaint",
            "staff",
            3,
        )
        assert detail["calls"] == []
    assert await contact_reads(database, order) == []


PERSONAL = ("reason", "address", "resident_name", "resident_phone_masked")


async def test_an_agent_reads_whom_an_order_is_for_only_while_holding_its_follow_up(
    api: httpx.AsyncClient, staff: Staff, database: Database
) -> None:
    def seed(session: Session) -> tuple[str, int, str]:
        township = add_township(session)
        order_id = add_order(session, township)
        task = add_follow_up(session, order_id)
        closed = add_order(session, township, status=OrderStatus.CLOSED)
        add_follow_up(
            session, closed, status=FollowUpStatus.DONE, done_at=BASE, outcome="confirmed"
        )
        return public_id(session, order_id), task, public_id(session, closed)

    order, task, closed = await database.run(seed)
    holder, other, admin = await staff.agent(), await staff.agent(), await staff.admin()

    def personal(answer: httpx.Response) -> list[Any]:
        return [body(answer)[field] for field in PERSONAL]

    masked = [None] * len(PERSONAL)
    # No claim yet (nor on a closed order's): the service, the place and the times only.
    assert personal(await holder.get(f"/api/orders/{order}")) == masked
    assert personal(await holder.get(f"/api/orders/{closed}")) == masked
    assert await contact_reads(database, order) == []

    await database.run(set_claim, task, holder.id, utcnow() + timedelta(minutes=5))
    held = personal(await holder.get(f"/api/orders/{order}"))
    assert held == ["帮忙买药", ADDRESS, "龙秀英", MASKED]
    assert await contact_reads(database, order) == [
        (f"staff:{holder.id}", "127.0.0.1", {"via": "order"})
    ]
    assert personal(await other.get(f"/api/orders/{order}")) == masked
    # Admins read their townships' orders as before (the full number stays audited).
    assert personal(await admin.get(f"/api/orders/{order}")) == held

    await database.run(set_claim, task, holder.id, utcnow() - timedelta(seconds=1))
    assert personal(await holder.get(f"/api/orders/{order}")) == masked
    assert len(await contact_reads(database, order)) == 1


# --- complaints ------------------------------------------------------------------------


async def test_admins_list_complaints_and_resolve_each_once(
    each_database: Database, lease_settings: Settings
) -> None:
    db = each_database

    def seed(session: Session) -> tuple[str, list[int], list[int], list[str]]:
        township = add_township(session)
        complaints, orders, public = [], [], []
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
            public.append(public_id(session, order_id))
        return township, complaints, orders, public

    township, complaints, orders, public = await db.run(seed)
    async with api_client(db, lease_settings) as api:
        staff = Staff(api, db, lease_settings)
        admin, second = await staff.admin(), await staff.admin()

        async def listed(**params: Any) -> Any:
            return body(await admin.get("/api/complaints", params={"township": township, **params}))

        page = await listed(status="open")
        assert [c["id"] for c in page["items"]] == complaints  # oldest first
        first = page["items"][0]
        assert (first["order_id"], first["item_code"], first["item_name"]) == (
            public[0],
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

        # Resolved by the signed-in admin, whoever a body might name.
        resolved = body(
            await admin.post(
                f"/api/complaints/{complaints[1]}/resolve",
                json={"notes": "已约谈志愿者，重新上门打扫"},
            )
        )
        assert (resolved["status"], resolved["resolved_by"]) == ("resolved", admin.id)
        assert resolved["resolution"] == "已约谈志愿者，重新上门打扫"
        assert resolved["note"] == "没有打扫干净"
        assert at(resolved["resolved_at"]) <= utcnow()

        detail = refused(
            await second.post(f"/api/complaints/{complaints[1]}/resolve", json={"notes": "再次"}),
            409,
            "ComplaintAlreadyResolved",
        )
        assert f"admin {admin.id}" in detail
        assert [c["id"] for c in (await listed(status="open"))["items"]] == [
            complaints[0],
            complaints[2],
        ]
        done = await listed(status="resolved")
        assert [(c["id"], c["resolved_by"]) for c in done["items"]] == [(complaints[1], admin.id)]
        assert [c["id"] for c in (await listed())["items"]] == complaints[::-1]  # newest first
        got = body(await second.get(f"/api/complaints/{complaints[1]}"))
        assert (got["resolved_by"], got["order_id"]) == (admin.id, public[1])

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
            await admin.post("/api/complaints/999999/resolve", json={"notes": "x"}),
            404,
            "NotFound",
        )
        # The admin is the one signed in: a body naming one is refused, like any other extra.
        for bad in ({}, {"notes": "  "}, {"admin_id": admin.id, "notes": "x"}):
            r = await admin.post(f"/api/complaints/{complaints[0]}/resolve", json=bad)
            assert r.status_code == 422, r.text
        assert (await admin.get("/api/complaints", params={"status": "closed"})).status_code == 422


async def test_complaints_are_for_admins_and_only_in_their_townships(
    api: httpx.AsyncClient, staff: Staff, database: Database, lease_settings: Settings
) -> None:
    def seed(session: Session) -> tuple[str, str, int]:
        township, elsewhere = add_township(session), add_township(session)
        order_id = add_order(session, township, status=OrderStatus.CLOSED)
        task = add_follow_up(
            session, order_id, status=FollowUpStatus.DONE, done_at=BASE, outcome="complaint"
        )
        return (
            township,
            elsewhere,
            add_complaint(session, order_id, task, created_at=BASE, note="投诉"),
        )

    township, elsewhere, complaint = await database.run(seed)
    outsider = await staff.admin(elsewhere)
    local = await staff.admin(township)
    agent = await staff.agent()
    anonymous = signin.Caller(api, {})
    resident = signin.Caller(api, await signin.resident(database, lease_settings))

    # An admin of other townships neither lists it nor finds it: it reads as nonexistent.
    for params in ({"township": township}, {}):
        listed = body(await outsider.get("/api/complaints", params=params))
        assert complaint not in [c["id"] for c in listed["items"]]
    refused(await outsider.get(f"/api/complaints/{complaint}"), 404, "NotFound")
    refused(
        await outsider.post(f"/api/complaints/{complaint}/resolve", json={"notes": "不归我管"}),
        404,
        "NotFound",
    )
    # Agents, residents and nobody at all do not handle complaints.
    for caller, status, code in (
        (agent, 403, "Forbidden"),
        (resident, 403, "Forbidden"),
        (anonymous, 401, "NotSignedIn"),
    ):
        refused(await caller.get("/api/complaints"), status, code)
        refused(await caller.get(f"/api/complaints/{complaint}"), status, code)
        refused(
            await caller.post(f"/api/complaints/{complaint}/resolve", json={"notes": "x"}),
            status,
            code,
        )
    assert body(await local.get(f"/api/complaints/{complaint}"))["status"] == "open"

    # The township's own admin lists it and resolves it, in their name.
    listed = body(await local.get("/api/complaints", params={"status": "open"}))
    assert [c["id"] for c in listed["items"]] == [complaint]
    resolved = body(
        await local.post(f"/api/complaints/{complaint}/resolve", json={"notes": "已处理"})
    )
    assert (resolved["status"], resolved["resolved_by"]) == ("resolved", local.id)


async def test_admins_resolving_at_once_resolve_it_once(
    api: httpx.AsyncClient, staff: Staff, database: Database
) -> None:
    def seed(session: Session) -> int:
        township = add_township(session)
        order_id = add_order(session, township, status=OrderStatus.CLOSED)
        task = add_follow_up(
            session, order_id, status=FollowUpStatus.DONE, done_at=BASE, outcome="complaint"
        )
        return add_complaint(session, order_id, task, created_at=BASE, note="投诉")

    complaint = await database.run(seed)
    admins = [await staff.admin() for _ in range(6)]
    responses = await asyncio.gather(
        *(
            admin.post(f"/api/complaints/{complaint}/resolve", json={"notes": f"处理{admin.id}"})
            for admin in admins
        )
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert winner["resolved_by"] in [admin.id for admin in admins]
    final = body(await admins[0].get(f"/api/complaints/{complaint}"))
    assert (final["resolved_by"], final["resolution"]) == (
        winner["resolved_by"],
        f"处理{winner['resolved_by']}",
    )


async def test_an_agents_handled_list_has_the_tasks_they_settled_and_no_one_elses(
    api: httpx.AsyncClient, staff: Staff, database: Database
) -> None:
    me = await staff.agent()

    def seed(session: Session) -> tuple[str, int]:
        township = add_township(session)

        def done(agent_id: int) -> int:
            return add_follow_up(
                session,
                add_order(session, township),
                status=FollowUpStatus.DONE,
                done_at=BASE,
                outcome="confirmed",
                agent_id=agent_id,
            )

        mine = done(me.id)
        done(me.id + 1000)
        add_follow_up(session, add_order(session, township))  # open: settled by nobody yet
        return township, mine

    township, mine = await database.run(seed)
    page = body(
        await me.get(
            "/api/follow-ups", params={"status": "done", "mine": True, "township": township}
        )
    )
    assert ([t["id"] for t in page["items"]], page["total"]) == ([mine], 1)
    everyone = body(
        await me.get("/api/follow-ups", params={"status": "done", "township": township})
    )
    assert everyone["total"] == 2


async def test_a_caller_is_found_by_their_number_in_the_agents_townships_and_audited(
    api: httpx.AsyncClient, staff: Staff, database: Database
) -> None:
    def seed(session: Session) -> tuple[str, list[str]]:
        def submitted(township: str, at: datetime) -> int:
            order_id = add_order(session, township)
            found(session.get(Order, order_id), "order", order_id).submitted_at = at
            return order_id

        township, elsewhere = add_township(session), add_township(session)
        older = submitted(township, BASE - timedelta(days=3))
        newer = submitted(township, BASE)
        submitted(elsewhere, BASE + timedelta(days=1))
        return township, [public_id(session, newer), public_id(session, older)]

    township, ids = await database.run(seed)
    agent = await staff.agent(township)
    # Typed as people read it out: spaces, no country code.
    caller = body(await agent.post("/api/callers/lookup", json={"phone": "138 0013 8000"}))
    assert (caller["known"], caller["phone"], caller["resident_name"], caller["address"]) == (
        True,
        PHONE,
        "龙秀英",
        ADDRESS,
    )
    assert caller["township"] == township  # the latest in the agent's townships
    assert [o["id"] for o in caller["orders"]] == ids  # newest first; the other township's left out

    unknown = body(await agent.post("/api/callers/lookup", json={"phone": "13900000000"}))
    assert (unknown["known"], unknown["orders"], unknown["address"]) == (False, [], None)

    refused = await agent.post("/api/callers/lookup", json={"phone": "12345"})
    assert refused.status_code in (400, 422) and refused.json()["code"], refused.text

    def lookups(session: Session) -> list[tuple[str, dict[str, Any]]]:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "caller.lookup"))
        return [(row.actor, row.detail) for row in rows if row.actor == f"staff:{agent.id}"]

    # Each lookup is on the trail, without the number typed.
    assert await database.run(lookups) == [(f"staff:{agent.id}", {"by": "phone"})] * 2
    resident = await api.post(
        "/api/callers/lookup",
        json={"phone": "13800138000"},
        headers=await signin.resident(database, staff.settings),
    )
    assert resident.status_code == 403
