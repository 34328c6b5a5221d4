"""The registry, ranking and dispatch over HTTP, with the real worker and dev server."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import Engine

from tests.conftest import new_township
from tests.integration.test_http_lifecycle import ok, order_placed
from tests.signin import Caller, People

Json = dict[str, Any]


def phone() -> str:
    return f"136{uuid.uuid4().int % 10**8:08d}"


async def volunteer(api: Caller, township: str, **fields: Any) -> int:
    """A volunteer an admin (``api``) registered."""
    body = {"name": "龙小军", "phone": phone(), "township": township, **fields}
    return int((await ok(await api.post("/api/volunteers", json=body), 201))["id"])


async def new_team(api: Caller, township: str, leader: int, name: str) -> Json:
    """A volunteer team led by ``leader`` (who joins it)."""
    body = {"kind": "team", "name": f"{name}-{township}", "township": township, "leader_id": leader}
    created: Json = await ok(await api.post("/api/units", json=body), 201)
    return created


async def retire(api: Caller, *ids: int) -> None:
    # Ranking is county-wide: leave nobody behind to compete in other tests.
    for v in ids:
        await ok(await api.patch(f"/api/volunteers/{v}", json={"active": False}))


async def test_registration_validates_and_refuses_duplicates(people: People, township: str) -> None:
    api = await people.admin()
    place = await ok(
        await api.post(
            "/api/villages", json={"township": township, "name": "新村", "lat": 28.1, "lon": 109.2}
        ),
        201,
    )
    body = {
        "name": "杨老师",
        "phone": "+86 139 1234 5678",
        "township": township,
        "village_id": place["id"],
        "skills": ["education", "education.tutoring"],
        "trade": "education",
        "platform": "education",
        "max_open_orders": 2,
        "availability": [{"weekday": 5, "start": "09:00", "end": "17:00"}],
    }
    created = await ok(await api.post("/api/volunteers", json=body), 201)
    assert (created["lat"], created["lon"]) == (28.1, 109.2)  # from the village
    assert created["skills"] == ["education", "education.tutoring"]
    assert created["availability"] == [{"weekday": 5, "start": "09:00", "end": "17:00"}]

    again = await api.post("/api/volunteers", json={**body, "phone": "+8613912345678"})
    assert (again.status_code, again.json()["code"]) == (409, "DuplicatePhone")
    bad = {
        "trade": ("astronaut", 422),
        "skills": (["cooking"], 422),
        "village_id": (999999, 422),
        "lat": (28.0, 422),  # without lon
        "availability": ([{"weekday": 1, "start": "18:00", "end": "09:00"}], 422),
        "max_open_orders": (0, 422),
    }
    for field, (value, code) in bad.items():
        r = await api.post("/api/volunteers", json={**body, "phone": phone(), field: value})
        assert r.status_code == code, (field, r.text)
    listed = await ok(await api.get("/api/volunteers", params={"township": township}))
    assert listed["total"] == 1
    await retire(api, created["id"])


async def test_transfer_keeps_history_and_leaders_must_be_replaced_first(
    people: People, township: str
) -> None:
    api = await people.admin()
    leader = await volunteer(api, township)
    member = await volunteer(api, township)
    team = await new_team(api, township, leader, "护苗队")
    station = await ok(
        await api.post(
            "/api/units",
            json={"kind": "station", "name": f"实践站-{township}", "township": township},
        ),
        201,
    )
    assert team["members"] == 1  # the leader joined their new team
    await ok(await api.post(f"/api/volunteers/{member}/transfer", json={"unit_id": team["id"]}))
    moved = await ok(
        await api.post(
            f"/api/volunteers/{member}/transfer", json={"unit_id": station["id"], "note": "搬家"}
        )
    )
    assert moved["unit_id"] == station["id"]
    history = await ok(await api.get(f"/api/volunteers/{member}/transfers"))
    assert [(h["from_unit_id"], h["to_unit_id"]) for h in history] == [
        (None, team["id"]),
        (team["id"], station["id"]),
    ]
    same = await api.post(f"/api/volunteers/{member}/transfer", json={"unit_id": station["id"]})
    assert same.status_code == 409
    led = await api.post(f"/api/volunteers/{leader}/transfer", json={"unit_id": station["id"]})
    assert (led.status_code, led.json()["code"]) == (409, "LeaderTransfer")
    not_member = await api.patch(f"/api/units/{team['id']}", json={"leader_id": member})
    assert (not_member.status_code, not_member.json()["code"]) == (422, "NotUnitMember")
    await retire(api, leader, member)


async def test_a_unit_is_led_by_a_member_from_the_admins_own_townships(
    people: People, township: str, engine: Engine
) -> None:
    county = await people.admin()
    other = new_township(engine)
    theirs = await volunteer(county, other)
    mine, member = await volunteer(county, township), await volunteer(county, township)
    admin = await people.township_admin(township)
    first = await new_team(county, township, member, "甲队")

    def team(leader: int) -> Json:
        name = f"乙队-{uuid.uuid4().hex[:6]}"
        return {"kind": "team", "name": name, "township": township, "leader_id": leader}

    # Another township's volunteer is not this admin's to name, nor their team to join.
    foreign = await admin.post("/api/units", json=team(theirs))
    assert (foreign.status_code, foreign.json()["code"]) == (422, "UnknownReference")
    their_team = await new_team(county, other, theirs, "丙队")
    joined = await admin.post(
        f"/api/volunteers/{mine}/transfer", json={"unit_id": their_team["id"]}
    )
    assert joined.status_code == 404
    # A member (here the leader) of another unit would lead a unit they are not in.
    taken = await admin.post("/api/units", json=team(member))
    assert (taken.status_code, taken.json()["code"]) == (422, "NotUnitMember")
    # Nor may a leader leave their unit while it is inactive: reactivated, it would be led
    # by an outsider.
    await ok(await admin.patch(f"/api/units/{first['id']}", json={"active": False}))
    left = await admin.post(f"/api/volunteers/{member}/transfer", json={"unit_id": None})
    assert (left.status_code, left.json()["code"]) == (409, "LeaderTransfer")
    created = await ok(await admin.post("/api/units", json=team(mine)), 201)
    assert (created["leader_id"], created["members"]) == (mine, 1)
    await retire(county, theirs, mine, member)


async def test_candidates_explain_the_ranking_and_drop_who_declined(
    worker: None, people: People, township: str
) -> None:
    admin = await people.admin()
    best = await volunteer(admin, township, skills=["legal.mediation"], trade="law")
    other = await volunteer(admin, township, skills=["legal"])
    oid = await order_placed(people, township, item_code="legal.mediation")
    api = admin

    ranked = await ok(await api.get(f"/api/orders/{oid}/candidates"))
    assert ranked["policy"] == "manual" and ranked["preselected_volunteer_id"] is None
    assert set(ranked["weights"]) == {"proximity", "skill", "trade", "fit"}
    top = ranked["volunteers"][0]
    assert top["volunteer_id"] == best
    assert (top["proximity"], top["skill"], top["trade"]) == (0.7, 1.0, 1.0)
    assert {"fit", "open_orders", "available_now", "on_time_rate", "rating_score"} <= set(top)

    await ok(await api.post(f"/api/orders/{oid}/dispatch", json={"volunteer_id": best}))
    as_best = await people.volunteer(best)
    assert [o["id"] for o in await ok(await as_best.get(f"/api/volunteers/{best}/offers"))] == [oid]
    # Another volunteer's offers are not theirs to read.
    assert (await as_best.get(f"/api/volunteers/{other}/offers")).status_code == 404
    await ok(await as_best.post(f"/api/orders/{oid}/decline", json={"reason": "外出"}))
    again = await ok(await api.get(f"/api/orders/{oid}/candidates"))
    assert again["excluded"] == [best]
    assert [c["volunteer_id"] for c in again["volunteers"]][:1] == [other]
    assert (await api.get("/api/orders/AAAAAAAAAAAAAAAA/candidates")).status_code == 404
    # Candidates are for admins.
    assert (await as_best.get(f"/api/orders/{oid}/candidates")).status_code == 403
    await retire(api, best, other)


async def test_open_call_over_http_has_exactly_one_winner(
    worker: None, people: People, township: str
) -> None:
    admin = await people.admin()
    helpers = [await volunteer(admin, township, skills=["care"]) for _ in range(5)]
    oid = await order_placed(people, township)
    offered = await ok(await admin.post(f"/api/orders/{oid}/open-call", json={"size": 5}))
    assert sorted(offered["offered_to"]) == sorted(helpers)

    callers = [await people.volunteer(v) for v in helpers]
    answers = await asyncio.gather(*(c.post(f"/api/orders/{oid}/accept") for c in callers))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 409, 409, 409, 409]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"AlreadyTaken"}
    winner = next(v for v, r in zip(helpers, answers, strict=True) if r.status_code == 200)
    order = await ok(await admin.get(f"/api/orders/{oid}"))
    assert (order["status"], order["volunteer_id"], order["offered_to"]) == (
        "accepted",
        winner,
        [],
    )
    await retire(admin, *helpers)


async def test_an_open_call_taken_by_another_is_already_taken_not_unknown(
    worker: None, people: People, township: str
) -> None:
    """The loser of an open call who answers after the winner's acceptance was recorded (the
    offers are gone by then) hears that someone took it, not that the order does not exist."""
    admin = await people.admin()
    first, late, never = [await volunteer(admin, township, skills=["care"]) for _ in range(3)]
    oid = await order_placed(people, township)
    await ok(
        await admin.post(f"/api/orders/{oid}/open-call", json={"volunteer_ids": [first, late]})
    )
    await ok(await (await people.volunteer(first)).post(f"/api/orders/{oid}/accept"))
    answer = await (await people.volunteer(late)).post(f"/api/orders/{oid}/accept")
    assert (answer.status_code, answer.json()["code"]) == (409, "AlreadyTaken")
    # Someone never offered it still cannot tell it exists.
    stranger = await (await people.volunteer(never)).post(f"/api/orders/{oid}/accept")
    assert (stranger.status_code, stranger.json()["code"]) == (404, "NotFound")
    await retire(admin, first, late, never)


async def test_team_dispatch_leader_assigns_a_member(
    worker: None, people: People, township: str
) -> None:
    admin = await people.admin()
    leader = await volunteer(admin, township)
    member = await volunteer(admin, township)
    stranger = await volunteer(admin, township)
    unit = await new_team(admin, township, leader, "应急队")
    await ok(await admin.post(f"/api/volunteers/{member}/transfer", json={"unit_id": unit["id"]}))
    oid = await order_placed(people, township)
    order = await ok(await admin.post(f"/api/orders/{oid}/dispatch", json={"unit_id": unit["id"]}))
    assert (order["status"], order["unit_id"], order["volunteer_id"]) == (
        "dispatched",
        unit["id"],
        None,
    )
    as_leader, as_member = await people.volunteer(leader), await people.volunteer(member)
    offers = await ok(await as_leader.get(f"/api/volunteers/{leader}/offers"))
    assert oid in [o["id"] for o in offers]

    # The assign screen lists the team (its leader too), available or paused; not other teams.
    await ok(await as_member.patch(f"/api/volunteers/{member}", json={"paused": True}))
    members = await ok(await as_leader.get(f"/api/units/{unit['id']}/members"))
    assert [(m["id"], m["available"]) for m in members] == [(leader, True), (member, False)]
    elsewhere = await as_leader.get(f"/api/units/{unit['id'] + 1000}/members")
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "NotFound")
    await ok(await as_member.patch(f"/api/volunteers/{member}", json={"paused": False}))

    outsider = await as_leader.post(f"/api/orders/{oid}/assign", json={"volunteer_id": stranger})
    assert (outsider.status_code, outsider.json()["code"]) == (422, "NotUnitMember")
    # A member is no leader: the role is missing (and the order is not theirs to see yet).
    impostor = await as_member.post(f"/api/orders/{oid}/assign", json={"volunteer_id": member})
    assert impostor.status_code == 403
    await ok(await as_leader.post(f"/api/orders/{oid}/assign", json={"volunteer_id": member}))
    accepted = await ok(await as_member.post(f"/api/orders/{oid}/accept"))
    assert (accepted["status"], accepted["volunteer_id"]) == ("accepted", member)
    await retire(admin, leader, member, stranger)


async def test_dispatch_policies_are_validated(people: People, township: str) -> None:
    api = await people.admin()
    assert (
        await api.put("/api/dispatch-policies/nope", json={"policy": "auto"})
    ).status_code == 404
    assert (await api.put("/api/dispatch-policies/*", json={"policy": "magic"})).status_code == 422
    set_ = await ok(await api.put("/api/dispatch-policies/rescue", json={"policy": "suggest"}))
    assert set_["policy"] == "suggest"
    listed = {p["scope"]: p["policy"] for p in await ok(await api.get("/api/dispatch-policies"))}
    assert listed["*"] == "manual" and listed["rescue"] == "suggest"
    await ok(await api.put("/api/dispatch-policies/rescue", json={"policy": "manual"}))
    oid = await order_placed(people, township)
    both = await api.post(f"/api/orders/{oid}/dispatch", json={"volunteer_id": 1, "unit_id": 1})
    assert both.status_code == 422
    # Policies are county-wide: a township admin reads them but does not set them.
    local = await people.township_admin(township)
    assert (await local.get("/api/dispatch-policies")).status_code == 200
    refused = await local.put("/api/dispatch-policies/rescue", json={"policy": "auto"})
    assert refused.status_code == 403
