"""Who may call what: every operation in the OpenAPI document × every kind of caller.

A world of one township: a resident's order accepted by a volunteer (a member of a unit with
its own leader), another order whose follow-up waits in the queue, a complaint, a staff
account. Each operation is tried by each caller; the answer must be the one its rule names:

- *allowed* callers get anything but 401, 403 and 404 (a 409 or a 422 is the operation
  judging the request, after the caller was let in);
- *hidden* callers get 404: the object is someone else's, and reads as not there;
- everyone else gets 403 (the wrong kind of account), and the anonymous caller 401.

A route without a rule here fails the test. Bodies are valid where the refusal is the
store's (it looks at the object only once the request is well formed). Operations that
would destroy the world (erasing the resident, cancelling the order) are tried only by
those who must be refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.main import create_app
from api.stores import call_requests
from api.stores.call_requests import CALLBACK
from core.db import insert_ignore
from core.models import CallRequest, HonourRoll
from core.security import CertificateClaim, certificate_code
from core.settings import Settings
from tests.integration.test_apps_api import photo_file
from tests.integration.test_dispatch_http import new_team, volunteer
from tests.integration.test_http_lifecycle import ok, order_placed, wait_for_follow_up
from tests.signin import Caller, People

ANON, RES, RES2, VOL, VOL2, LEAD, AGENT, TADMIN, ADMIN = (
    "anonymous",
    "resident",
    "other resident",
    "volunteer",
    "other volunteer",
    "leader",
    "agent",
    "admin of another township",
    "county admin",
)
RESIDENTS = {RES, RES2, VOL, VOL2, LEAD}
EVERYONE = {ANON, *RESIDENTS, AGENT, TADMIN, ADMIN}


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    hidden: frozenset[str] = frozenset()
    body: Any = None
    # Whoever is allowed would change the world the other checks stand on: not tried.
    destructive: bool = False
    # Everyone gets this (Twilio's webhooks: the signature decides, not the caller).
    everyone: int | None = None

    def expected(self, who: str) -> int | None:
        """The status ``who`` must get; ``None``: anything but 401, 403, 404."""
        if self.everyone is not None:
            return self.everyone
        if who in self.allowed:
            return None
        if who == ANON:
            return 401
        return 404 if who in self.hidden else 403


def rule(*allowed: str, hidden: set[str] | frozenset[str] = frozenset(), **kw: Any) -> Rule:
    return Rule(frozenset(allowed), frozenset(hidden), **kw)


PUBLIC = rule(*EVERYONE)
PUBLIC_FORM = rule(*EVERYONE, body={})
SIGNED_IN = rule(*(EVERYONE - {ANON}))
NOT_THE_ORDERS = {RES2, VOL2, LEAD, AGENT, TADMIN}  # who may not know order O exists
NOT_THE_VOLUNTEERS = {RES, RES2, VOL2, LEAD, AGENT, TADMIN}  # ... or volunteer V's record


def rules(ids: World) -> dict[tuple[str, str], Rule]:
    """The rule of every operation, with the bodies the world needs."""
    a = ids.township
    return {
        ("GET", "/healthz"): PUBLIC,
        ("GET", "/api/catalog"): PUBLIC,
        ("GET", "/api/townships"): PUBLIC,
        ("GET", "/api/places"): PUBLIC,
        ("POST", "/api/auth/sms-code"): PUBLIC_FORM,
        ("POST", "/api/auth/sms-login"): PUBLIC_FORM,
        ("POST", "/api/auth/login"): PUBLIC_FORM,
        ("POST", "/api/auth/token"): PUBLIC_FORM,
        ("POST", "/api/auth/refresh"): PUBLIC_FORM,
        ("DELETE", "/api/auth/refresh"): PUBLIC,
        ("POST", "/api/auth/logout"): PUBLIC_FORM,
        ("GET", "/api/me"): SIGNED_IN,
        ("GET", "/api/me/orders"): rule(*RESIDENTS),
        ("POST", "/api/orders"): rule(*(EVERYONE - {ANON}), body={}),
        ("GET", "/api/orders"): rule(AGENT, TADMIN, ADMIN),
        ("GET", "/api/orders/{order_id}"): rule(RES, VOL, ADMIN, hidden=NOT_THE_ORDERS),
        ("GET", "/api/orders/{order_id}/contact"): rule(VOL, ADMIN, hidden=NOT_THE_ORDERS),
        ("POST", "/api/orders/{order_id}/accept"): rule(VOL, hidden={VOL2, LEAD}),
        ("POST", "/api/orders/{order_id}/decline"): rule(VOL, hidden={VOL2, LEAD}, body={}),
        ("POST", "/api/orders/{order_id}/complete"): rule(VOL, hidden={VOL2, LEAD}, body={}),
        ("POST", "/api/orders/{order_id}/assign"): rule(hidden={LEAD}, body={}),
        # The volunteer holding the order hands the phone over for the on-site review.
        ("POST", "/api/orders/{order_id}/review"): rule(
            RES, VOL, hidden=NOT_THE_ORDERS, body={"rating": "satisfied"}
        ),
        ("POST", "/api/orders/{order_id}/cancel"): rule(
            RES, ADMIN, hidden=NOT_THE_ORDERS, body={"reason": "矩阵"}, destructive=True
        ),
        ("POST", "/api/orders/{order_id}/hurry"): rule(RES, hidden=NOT_THE_ORDERS),
        ("POST", "/api/orders/{order_id}/complaint"): rule(
            RES, hidden=NOT_THE_ORDERS, body={"text": "矩阵"}
        ),
        ("POST", "/api/orders/{order_id}/check-in"): rule(VOL, hidden={VOL2, LEAD}),
        ("POST", "/api/orders/{order_id}/check-out"): rule(VOL, hidden={VOL2, LEAD}),
        ("POST", "/api/orders/{order_id}/photos"): rule(VOL, hidden={VOL2, LEAD}),
        ("DELETE", "/api/orders/{order_id}/photos/{photo_id}"): rule(
            VOL, hidden={VOL2, LEAD}, destructive=True
        ),
        ("GET", "/api/orders/{order_id}/photos/{photo_id}"): rule(
            RES, VOL, ADMIN, hidden=NOT_THE_ORDERS
        ),
        ("GET", "/api/orders/{order_id}/photos/{photo_id}/thumbnail"): rule(
            RES, VOL, ADMIN, hidden=NOT_THE_ORDERS
        ),
        ("GET", "/api/me/inbox"): rule(VOL, VOL2, LEAD),
        ("GET", "/api/me/past-orders"): rule(VOL, VOL2, LEAD),
        ("GET", "/api/me/honour-roll"): rule(VOL, VOL2, LEAD),
        ("GET", "/api/units/{unit_id}/members"): rule(LEAD),
        ("GET", "/api/orders/{order_id}/candidates"): rule(ADMIN, hidden={TADMIN}),
        ("GET", "/api/orders/{order_id}/notes"): rule(ADMIN, hidden={AGENT, TADMIN}),
        ("POST", "/api/orders/{order_id}/notes"): rule(
            ADMIN, hidden={AGENT, TADMIN}, body={"text": "矩阵备注"}
        ),
        ("GET", "/api/board"): rule(TADMIN, ADMIN),
        ("GET", "/api/catalog/items"): rule(TADMIN, ADMIN),
        # An unknown category (422 once let in): the seeded menu stays as it is for other tests.
        ("POST", "/api/catalog/items"): rule(
            ADMIN,
            body={"category_code": "matrix", "code": "matrix.x", "name": "矩阵", "name_en": "M"},
        ),
        ("PATCH", "/api/catalog/items/{item_code}"): rule(ADMIN, body={"active": True}),
        ("GET", "/api/orders/{order_id}/messages"): rule(ADMIN, hidden={TADMIN}),
        ("POST", "/api/orders/{order_id}/dispatch"): rule(ADMIN, hidden={TADMIN}, body={}),
        ("POST", "/api/orders/{order_id}/open-call"): rule(ADMIN, hidden={TADMIN}, body={}),
        ("POST", "/api/orders/{order_id}/erase-resident"): rule(
            ADMIN, hidden={TADMIN}, destructive=True
        ),
        ("GET", "/api/dispatch-policies"): rule(TADMIN, ADMIN),
        ("PUT", "/api/dispatch-policies/{scope}"): rule(ADMIN, body={"policy": "manual"}),
        ("GET", "/api/escalations"): rule(TADMIN, ADMIN),
        ("GET", "/api/follow-ups"): rule(AGENT, TADMIN, ADMIN),
        ("POST", "/api/callers/lookup"): rule(AGENT, TADMIN, ADMIN, body={"phone": "13800138000"}),
        ("GET", "/api/follow-ups/{follow_up_id}"): rule(AGENT, ADMIN, hidden={TADMIN}),
        ("POST", "/api/follow-ups/{follow_up_id}/claim"): rule(AGENT),
        ("POST", "/api/follow-ups/{follow_up_id}/release"): rule(AGENT),
        ("POST", "/api/follow-ups/{follow_up_id}/result"): rule(AGENT, body={}),
        ("GET", "/api/complaints"): rule(TADMIN, ADMIN),
        ("GET", "/api/complaints/{complaint_id}"): rule(ADMIN, hidden={TADMIN}),
        ("POST", "/api/complaints/{complaint_id}/resolve"): rule(
            ADMIN, hidden={TADMIN}, body={"notes": "已致电道歉"}
        ),
        ("GET", "/api/reports/follow-up"): rule(TADMIN, ADMIN),
        ("GET", "/api/reports/overview"): rule(TADMIN, ADMIN),
        ("GET", "/api/reports/overview/export"): rule(TADMIN, ADMIN),
        ("GET", "/api/reports/orders/export"): rule(TADMIN, ADMIN),
        ("GET", "/api/volunteers/{volunteer_id}/record"): rule(
            VOL, ADMIN, hidden=NOT_THE_VOLUNTEERS
        ),
        ("GET", "/api/volunteers/{volunteer_id}/certificate.pdf"): rule(
            VOL, ADMIN, hidden=NOT_THE_VOLUNTEERS
        ),
        ("GET", "/api/units/{unit_id}/record"): rule(ADMIN, hidden={TADMIN}),
        ("GET", "/api/certificates/{code}"): PUBLIC,
        ("GET", "/api/public/totals"): PUBLIC,
        ("GET", "/api/me/standing"): rule(VOL, VOL2, LEAD),
        ("GET", "/api/rolls"): rule(TADMIN, ADMIN),
        ("GET", "/api/rolls/{period}"): rule(TADMIN, ADMIN),
        # Publishing is the county's: a township admin is refused (403).
        ("POST", "/api/rolls/{period}/publish"): rule(ADMIN),
        ("GET", "/api/audit"): rule(ADMIN),
        ("GET", "/api/staff"): rule(TADMIN, ADMIN),
        ("POST", "/api/staff"): rule(
            ADMIN,
            body={
                "username": f"m-{uuid.uuid4().hex[:6]}",
                "password": "a long enough password",
                "role": "agent",
            },
        ),
        ("PATCH", "/api/staff/{staff_id}"): rule(ADMIN, hidden={TADMIN}, body={}),
        ("POST", "/api/townships"): rule(
            ADMIN, body={"name": f"矩阵镇{uuid.uuid4().hex[:4]}", "name_en": "Matrix"}
        ),
        ("POST", "/api/villages"): rule(
            ADMIN, body={"township": a, "name": f"矩阵村{uuid.uuid4().hex[:4]}"}
        ),
        ("GET", "/api/units"): rule(TADMIN, ADMIN),
        ("POST", "/api/units"): rule(
            ADMIN, body={"kind": "team", "name": f"矩阵队{uuid.uuid4().hex[:4]}", "township": a}
        ),
        ("GET", "/api/units/{unit_id}"): rule(ADMIN, hidden={TADMIN}),
        ("PATCH", "/api/units/{unit_id}"): rule(ADMIN, hidden={TADMIN}, body={"active": True}),
        ("GET", "/api/volunteers"): rule(TADMIN, ADMIN),
        ("POST", "/api/volunteers"): rule(
            ADMIN,
            body={"name": "矩阵", "phone": f"135{uuid.uuid4().int % 10**8:08d}", "township": a},
        ),
        ("POST", "/api/volunteers/apply"): rule(*RESIDENTS, body={}),
        ("GET", "/api/volunteers/{volunteer_id}"): rule(VOL, ADMIN, hidden=NOT_THE_VOLUNTEERS),
        ("PATCH", "/api/volunteers/{volunteer_id}"): rule(
            VOL, ADMIN, hidden=NOT_THE_VOLUNTEERS, body={"paused": False}
        ),
        ("GET", "/api/volunteers/{volunteer_id}/offers"): rule(
            VOL, ADMIN, hidden=NOT_THE_VOLUNTEERS
        ),
        ("GET", "/api/volunteers/{volunteer_id}/transfers"): rule(
            VOL, ADMIN, hidden=NOT_THE_VOLUNTEERS
        ),
        ("POST", "/api/volunteers/{volunteer_id}/approve"): rule(ADMIN, hidden={TADMIN}),
        ("POST", "/api/volunteers/{volunteer_id}/refuse"): rule(ADMIN, hidden={TADMIN}),
        ("POST", "/api/volunteers/{volunteer_id}/transfer"): rule(
            ADMIN, hidden={TADMIN}, body={"unit_id": ids.unit_id}
        ),
        ("POST", "/api/twilio/calls/{call_id}/voice"): Rule(frozenset(), everyone=403),
        ("POST", "/api/twilio/calls/{call_id}/gather"): Rule(frozenset(), everyone=403),
        ("POST", "/api/twilio/calls/{call_id}/status"): Rule(frozenset(), everyone=403),
        ("POST", "/api/twilio/sms/{sms_id}/status"): Rule(frozenset(), everyone=403),
        ("POST", "/api/twilio/inbound/voice"): Rule(frozenset(), everyone=403),
        ("POST", "/api/twilio/inbound/voice/keys"): Rule(frozenset(), everyone=403),
        ("POST", "/api/twilio/inbound/voice/recorded"): Rule(frozenset(), everyone=403),
        ("POST", "/api/twilio/inbound/sms"): Rule(frozenset(), everyone=403),
        # Callers of the keypad line belong to no township: every desk sees the queue.
        ("GET", "/api/call-requests"): rule(AGENT, TADMIN, ADMIN),
        ("POST", "/api/call-requests/{request_id}/claim"): rule(AGENT),
        ("POST", "/api/call-requests/{request_id}/release"): rule(AGENT),
        ("POST", "/api/call-requests/{request_id}/done"): rule(AGENT, body={"outcome": "no_need"}),
        ("GET", "/api/call-requests/{request_id}/recording"): rule(AGENT),
    }


@dataclass
class World:
    township: str
    order_id: str  # accepted by the volunteer; no follow-up yet
    volunteer_id: int
    unit_id: int
    follow_up_id: int
    complaint_id: int
    staff_id: int
    photo_id: str
    call_request_id: int = 0
    certificate: str = ""
    callers: dict[str, Caller] = field(default_factory=dict)

    def path(self, template: str) -> str:
        return template.format(
            order_id=self.order_id,
            volunteer_id=self.volunteer_id,
            unit_id=self.unit_id,
            follow_up_id=self.follow_up_id,
            complaint_id=self.complaint_id,
            staff_id=self.staff_id,
            photo_id=self.photo_id,
            code=self.certificate,
            period=ROLL_PERIOD,
            scope="*",
            item_code="care.errands",
            call_id=1,
            sms_id=1,
            request_id=self.call_request_id,
        )


def _a_call_back(session: Session) -> int:
    """A caller of the keypad line who pressed 0: a call-back task in the agents' queue."""
    call_sid = "CA" + uuid.uuid4().hex
    call_requests.ask_for_agent(
        session, kind=CALLBACK, call_sid=call_sid, phone="+8613900007777", resident_id=None
    )
    found = session.scalar(select(CallRequest.id).where(CallRequest.call_sid == call_sid))
    assert found is not None
    return found


async def build(people: People, township: str) -> World:
    admin = await people.admin()
    agent = await people.agent()
    helper = await volunteer(admin, township, skills=["care"])
    bystander = await volunteer(admin, township, skills=["care"])
    leader = await volunteer(admin, township)
    unit = await new_team(admin, township, leader, "矩阵")
    await ok(await admin.post(f"/api/volunteers/{helper}/transfer", json={"unit_id": unit["id"]}))

    order_id = await order_placed(people, township)
    await ok(await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": helper}))
    as_helper = await people.volunteer(helper)
    await ok(await as_helper.post(f"/api/orders/{order_id}/accept"))
    photo = await ok(
        await as_helper.post(f"/api/orders/{order_id}/photos", files=photo_file()), 201
    )

    async def to_follow_up() -> tuple[str, int]:
        other = await order_placed(people, township)
        await ok(await admin.post(f"/api/orders/{other}/dispatch", json={"volunteer_id": helper}))
        await ok(await as_helper.post(f"/api/orders/{other}/accept"))
        done = {"summary": "已办", "hours": 1}
        await ok(await as_helper.post(f"/api/orders/{other}/complete", json=done))
        resident = await people.resident()
        await ok(await resident.post(f"/api/orders/{other}/review", json={"rating": "average"}))
        return other, int((await wait_for_follow_up(agent, other))["id"])

    _, waiting = await to_follow_up()
    _, complained = await to_follow_up()
    complaint = {"method": "phone", "outcome": "complaint", "notes": "态度不好"}
    closed = await ok(await agent.post(f"/api/follow-ups/{complained}/result", json=complaint))
    assert closed["status"] == "closed"
    listed = await ok(await admin.get("/api/complaints", params={"township": township}))
    staff = await ok(await admin.get("/api/staff", params={"limit": 200}))
    world = World(
        township=township,
        order_id=order_id,
        volunteer_id=helper,
        unit_id=unit["id"],
        follow_up_id=waiting,
        complaint_id=listed["items"][0]["id"],
        staff_id=staff["items"][0]["id"],
        photo_id=photo["photo_id"],
        certificate=certificate_code(
            CertificateClaim(helper, 100, date(2026, 1, 1), date(2026, 1, 31), date(2026, 2, 1)),
            secret=people.settings.signing_secret,
        ),
    )
    await people.db.run(_a_roll)
    world.call_request_id = await people.db.run(_a_call_back)
    world.callers = {
        ANON: people.anonymous,
        RES: await people.resident(),
        RES2: await people.resident("13900008888"),
        VOL: as_helper,
        VOL2: await people.volunteer(bystander),
        LEAD: await people.volunteer(leader),
        AGENT: agent,
        TADMIN: await people.township_admin("蓼皋街道"),
        ADMIN: admin,
    }
    return world


ROLL_PERIOD = "2000-01"


def _a_roll(session: Session) -> None:
    """A stored honour roll to read and publish (an empty one: nobody served in 2000)."""
    begin = datetime(2000, 1, 1, tzinfo=UTC)
    session.execute(
        insert_ignore(session, HonourRoll.__table__, ("period",)).values(
            period=ROLL_PERIOD,
            starts_at=begin,
            ends_at=begin,
            computed_at=begin,
            weights={},
            volunteers=[],
            units=[],
        )
    )


def operations(settings: Settings) -> set[tuple[str, str]]:
    document = create_app(settings).openapi()
    return {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}


async def test_every_operation_answers_every_caller_by_its_rule(
    worker: None, people: People, township: str, live_settings: Settings
) -> None:
    world = await build(people, township)
    table = rules(world)
    assert set(table) == operations(live_settings), "every operation needs a rule here"

    wrong: list[str] = []
    for (method, template), rule_ in sorted(table.items(), key=lambda kv: kv[1].destructive):
        for who, caller in world.callers.items():
            expected = rule_.expected(who)
            if expected is None and rule_.destructive:
                continue
            kwargs: dict[str, Any] = {}
            if rule_.body is not None:
                kwargs["json"] = rule_.body
            answer: httpx.Response = await caller.request(method, world.path(template), **kwargs)
            got = answer.status_code
            if (expected is None and got in (401, 403, 404)) or (
                expected is not None and got != expected
            ):
                wanted = expected or "allowed"
                wrong.append(f"{method} {template} as {who}: {got}, wanted {wanted}")
    assert wrong == [], "\n".join(wrong)
