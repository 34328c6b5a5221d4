"""The API behind the resident and volunteer apps (docs/apps-api.md), over HTTP.

Real worker, Temporal dev server and PostgreSQL: the resident hurries and complains, the
volunteer works from their inbox, checks in and out, adds photos and hands the phone over
for the on-site review; the order view tells people who did what.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image
from sqlalchemy import select

from api.database import Database
from core.models import Complaint, Order, Photo
from core.security import volunteer_link_code
from core.settings import Settings
from tests.integration.test_dispatch_http import volunteer
from tests.integration.test_http_lifecycle import (
    Json,
    ok,
    order_placed,
    wait_for_follow_up,
)
from tests.signin import Caller, People, refused_within


def photo_bytes(kind: str = "JPEG", size: tuple[int, int] = (800, 600)) -> bytes:
    """A photo as a phone takes it: with the maker and a GPS position in its EXIF."""
    img = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = (27.0, 43.0, 12.0)  # GPSLatitude
    out = io.BytesIO()
    img.save(out, format=kind, exif=exif)
    return out.getvalue()


def photo_file(
    data: bytes | None = None, name: str = "photo.jpg", content_type: str = "image/jpeg"
) -> dict[str, Any]:
    return {"file": (name, data if data is not None else photo_bytes(), content_type)}


async def accepted_order(people: People, township: str) -> tuple[str, int, Caller]:
    """An order of the default resident, accepted by a new volunteer: its id, who, as whom."""
    admin = await people.admin()
    helper = await volunteer(admin, township, skills=["care"], name="王建国")
    order_id = await order_placed(people, township)
    await ok(await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": helper}))
    as_helper = await people.volunteer(helper)
    await ok(await as_helper.post(f"/api/orders/{order_id}/accept"))
    return order_id, helper, as_helper


async def completed_order(people: People, township: str) -> tuple[str, Caller]:
    """An accepted order its volunteer reported done: its id, and the volunteer."""
    order_id, _, as_helper = await accepted_order(people, township)
    done = {"summary": "好", "hours": 1}
    await ok(await as_helper.post(f"/api/orders/{order_id}/complete", json=done))
    return order_id, as_helper


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


def volunteer_link(
    people: People, settings: Settings, public_id: str, volunteer_id: int, **changes: Any
) -> Caller:
    """The bearer of a dispatch SMS's link (``as_order``: its order id swapped, a forgery)."""
    code = volunteer_link_code(
        public_id,
        volunteer_id,
        secret=settings.signing_secret,
        ttl=changes.get("ttl", timedelta(days=14)),
        now=datetime.now(UTC),
    )
    token = f"vl1.{changes.get('as_order', public_id)}.{code}"
    return Caller(people.client, {"Authorization": f"Bearer {token}"})


async def test_the_volunteer_inbox_lists_offers_holdings_and_open_calls(
    worker: None, people: People, township: str
) -> None:
    admin = await people.admin()
    helper = await volunteer(admin, township, skills=["care"], name="王建国")
    other = await volunteer(admin, township, skills=["care"])
    as_helper = await people.volunteer(helper)
    direct = await order_placed(people, township)
    called = await order_placed(people, township)
    await ok(await admin.post(f"/api/orders/{direct}/dispatch", json={"volunteer_id": helper}))
    await ok(
        await admin.post(f"/api/orders/{called}/open-call", json={"volunteer_ids": [helper, other]})
    )

    inbox = await ok(await as_helper.get("/api/me/inbox"))
    assert [i["order_id"] for i in inbox["offered"]] == [direct]
    assert [i["order_id"] for i in inbox["open_calls"]] == [called]
    assert inbox["assigned"] == []
    item = inbox["offered"][0]
    assert item["service"] and item["category"] == "care" and item["township"] == township
    assert item["status"] == "dispatched"
    due, accept_by = (datetime.fromisoformat(item[k]) for k in ("due_at", "accept_by"))
    assert accept_by < due
    # No resident's personal data in the inbox.
    for field in ("resident_name", "resident_phone", "address", "reason"):
        assert field not in item

    await ok(await as_helper.post(f"/api/orders/{direct}/accept"))
    inbox = await ok(await as_helper.get("/api/me/inbox"))
    assert inbox["offered"] == [] and [i["order_id"] for i in inbox["assigned"]] == [direct]
    assert inbox["assigned"][0]["accept_by"] is None
    # A resident who is not a volunteer has no inbox.
    refused(await (await people.resident()).get("/api/me/inbox"), 403, "Forbidden")


async def test_an_offer_tells_the_volunteer_enough_to_decide_and_nothing_personal(
    worker: None, people: People, township: str
) -> None:
    """Before accepting: the service, the village, the dispatcher's note, when to answer by.
    The resident's name, phone, address and own words only once accepted."""
    admin = await people.admin()
    place = await ok(
        await admin.post("/api/villages", json={"township": township, "name": "龙井村"}), 201
    )
    helper = await volunteer(admin, township, skills=["care"], name="王建国")
    bystander = await volunteer(admin, township, skills=["care"])
    order_id = await order_placed(people, township, village_id=place["id"])
    note = {"volunteer_id": helper, "reason": "老人急需降压药"}
    await ok(await admin.post(f"/api/orders/{order_id}/dispatch", json=note))

    as_helper = await people.volunteer(helper)
    offer = await ok(await as_helper.get(f"/api/orders/{order_id}"))
    assert offer["item_name"] and offer["township"] == township
    assert offer["village"] == "龙井村"
    assert offer["dispatch_note"] == "老人急需降压药"
    accept_by = datetime.fromisoformat(offer["accept_by"])
    assert datetime.now(UTC) < accept_by < datetime.fromisoformat(offer["due_at"])
    [item] = (await ok(await as_helper.get("/api/me/inbox")))["offered"]
    assert item["accept_by"] == offer["accept_by"]  # the same moment as the inbox says
    for personal in ("resident_name", "resident_phone_masked", "address", "reason"):
        assert offer[personal] is None, personal
    assert all(e.get("note") is None for e in offer["timeline"])
    refused(await as_helper.get(f"/api/orders/{order_id}/contact"), 403, "Forbidden")
    # The resident and a volunteer it does not wait on never read the dispatcher's note.
    mine = await ok(await (await people.resident()).get(f"/api/orders/{order_id}"))
    assert mine["village"] == "龙井村" and mine["dispatch_note"] is None
    assert mine["accept_by"] is None
    other = await (await people.volunteer(bystander)).get(f"/api/orders/{order_id}")
    assert other.status_code == 404 or other.json()["dispatch_note"] is None

    held = await ok(await as_helper.post(f"/api/orders/{order_id}/accept"))
    assert held["reason"] and held["address"] and held["resident_name"]
    assert held["dispatch_note"] == "老人急需降压药" and held["accept_by"] is None
    contact = await ok(await as_helper.get(f"/api/orders/{order_id}/contact"))
    assert contact["resident_phone"].startswith("+86")
    staff = await ok(await admin.get(f"/api/orders/{order_id}"))
    assert staff["dispatch_note"] == "老人急需降压药"


async def test_a_volunteer_reads_the_orders_they_did_and_nobody_else_does(
    worker: None, people: People, township: str
) -> None:
    order_id, as_helper = await completed_order(people, township)
    [past] = await ok(await as_helper.get("/api/me/past-orders"))
    assert (past["order_id"], past["status"], past["hours"]) == (order_id, "completed", 1.0)
    assert past["on_time"] is True and past["hours_counted"] is False  # not yet verified
    assert past["service"] and past["township"] == township and past["number"]
    for personal in ("resident_name", "resident_phone", "address", "reason"):
        assert personal not in past
    # Another volunteer sees none of it; a resident has no such list, nor the roll.
    admin = await people.admin()
    other = await people.volunteer(await volunteer(admin, township))
    assert await ok(await other.get("/api/me/past-orders")) == []
    resident = await people.resident()
    refused(await resident.get("/api/me/past-orders"), 403, "Forbidden")
    refused(await resident.get("/api/me/honour-roll"), 403, "Forbidden")


async def test_a_volunteer_link_acts_as_its_volunteer_on_its_order_only(
    worker: None, people: People, township: str, live_settings: Any
) -> None:
    admin = await people.admin()
    helper = await volunteer(admin, township, skills=["care"], name="王建国")
    order_id = await order_placed(people, township)
    other = await order_placed(people, township)
    for public_id in (order_id, other):
        body = {"volunteer_id": helper}
        await ok(await admin.post(f"/api/orders/{public_id}/dispatch", json=body))

    def link(public_id: str, volunteer_id: int, **changes: Any) -> Caller:
        return volunteer_link(people, live_settings, public_id, volunteer_id, **changes)

    as_link = link(order_id, helper)
    seen = await ok(await as_link.get(f"/api/orders/{order_id}"))
    assert seen["status"] == "dispatched" and seen["resident_name"] is None
    accepted = await ok(await as_link.post(f"/api/orders/{order_id}/accept"))
    assert accepted["status"] == "accepted" and accepted["address"] is not None
    # Nothing beyond its order: not the other one, not the inbox, not the profile.
    refused(await as_link.get(f"/api/orders/{other}"), 403, "Forbidden")
    refused(await as_link.get("/api/me/inbox"), 403, "Forbidden")
    refused(await as_link.get(f"/api/volunteers/{helper}"), 403, "Forbidden")
    # Signed for another volunteer, another order, or expired: refused.
    stranger = await volunteer(admin, township)
    refused(await link(order_id, stranger).get(f"/api/orders/{order_id}"), 404, "NotFound")
    forged = link(order_id, helper, as_order=other)
    refused(await forged.get(f"/api/orders/{other}"), 401, "InvalidToken")
    expired = link(order_id, helper, ttl=timedelta(seconds=-1))
    refused(await expired.get(f"/api/orders/{order_id}"), 401, "InvalidToken")


async def test_a_deactivated_or_replaced_volunteer_reaches_the_order_no_more(
    worker: None, people: People, township: str, live_settings: Settings
) -> None:
    admin = await people.admin()
    helper = await volunteer(admin, township, skills=["care"])
    order_id = await order_placed(people, township)
    await ok(await admin.post(f"/api/orders/{order_id}/dispatch", json={"volunteer_id": helper}))
    as_link = volunteer_link(people, live_settings, order_id, helper)
    as_helper = await people.volunteer(helper)  # signed in with their phone
    await ok(await as_link.post(f"/api/orders/{order_id}/accept"))
    contact, check_in = f"/api/orders/{order_id}/contact", f"/api/orders/{order_id}/check-in"
    assert (await ok(await as_link.get(contact)))["address"]
    assert (await ok(await as_helper.get(contact)))["address"]

    await ok(await admin.patch(f"/api/volunteers/{helper}", json={"active": False}))
    # Within the refresh the README states: the link gets nothing, not even its order.
    within = live_settings.principal_refresh
    refused(await refused_within(within, lambda: as_link.get(contact)), 401, "InvalidToken")
    refused(await as_link.post(check_in), 401, "InvalidToken")
    refused(await as_link.get(f"/api/orders/{order_id}"), 401, "InvalidToken")
    # Signed in by phone they are a resident still, and a volunteer no more.
    refused(await refused_within(within, lambda: as_helper.get(contact)), 404, "NotFound")
    refused(await as_helper.post(check_in), 403, "Forbidden")
    me = await ok(await as_helper.get("/api/me"))
    assert (me["roles"], me["volunteer_id"]) == (["resident"], None)

    # Re-dispatched to someone else, the order is no longer the first volunteer's.
    first, second = [await volunteer(admin, township, skills=["care"]) for _ in range(2)]
    other_id = await order_placed(people, township)
    await ok(await admin.post(f"/api/orders/{other_id}/dispatch", json={"volunteer_id": first}))
    first_link = volunteer_link(people, live_settings, other_id, first)
    await ok(await first_link.post(f"/api/orders/{other_id}/accept"))
    await ok(await admin.post(f"/api/orders/{other_id}/dispatch", json={"volunteer_id": second}))
    for answer in (
        await first_link.get(f"/api/orders/{other_id}/contact"),
        await first_link.post(f"/api/orders/{other_id}/check-in"),
        await first_link.get(f"/api/orders/{other_id}"),
    ):
        refused(answer, 404, "NotFound")


async def test_the_resident_hurries_at_most_once_an_hour_and_admins_see_it(
    worker: None, people: People, township: str
) -> None:
    resident, admin = await people.resident(), await people.admin()
    order_id = await order_placed(people, township)
    order = await ok(await resident.post(f"/api/orders/{order_id}/hurry"))
    hurried = [e for e in order["events"] if e["type"] == "hurried"]
    assert len(hurried) == 1 and hurried[0]["actor"] == {"kind": "resident", "name": None}
    assert order["hurry_count"] == 1

    refused(await resident.post(f"/api/orders/{order_id}/hurry"), 409, "HurryTooSoon")
    seen = await ok(await admin.get(f"/api/orders/{order_id}"))
    assert seen["hurry_count"] == 1 and seen["last_hurried_at"] is not None
    assert [e["event"] for e in seen["timeline"]].count("hurried") == 1
    listed = await ok(await admin.get("/api/orders", params={"township": township}))
    assert next(o for o in listed["items"] if o["id"] == order_id)["hurry_count"] == 1
    # Only the resident hurries: staff who see the order may not.
    refused(await admin.post(f"/api/orders/{order_id}/hurry"), 403, "Forbidden")

    await ok(await resident.post(f"/api/orders/{order_id}/cancel", json={"reason": "家人回来了"}))
    refused(await resident.post(f"/api/orders/{order_id}/hurry"), 409, "OrderFinished")
    cancelled = await ok(await resident.get(f"/api/orders/{order_id}"))
    assert cancelled["cancel_reason"] == "家人回来了" and cancelled["due_at"] is None
    assert cancelled["events"][-1]["type"] == "cancelled"
    assert cancelled["events"][-1]["reason"] == "家人回来了"


async def test_a_completed_order_cannot_be_hurried(
    worker: None, people: People, township: str
) -> None:
    order_id, _ = await completed_order(people, township)
    resident = await people.resident()
    refused(await resident.post(f"/api/orders/{order_id}/hurry"), 409, "InvalidTransition")


async def test_the_resident_complains_once_while_it_is_open(
    worker: None, people: People, township: str, database: Database
) -> None:
    resident, admin = await people.resident(), await people.admin()
    order_id = await order_placed(people, township)
    refused(
        await resident.post(f"/api/orders/{order_id}/complaint", json={"text": ""}),
        422,
        "InvalidRequest",
    )
    order = await ok(
        await resident.post(f"/api/orders/{order_id}/complaint", json={"text": "一直没人来"}), 201
    )
    assert order["complaint_open"] is True
    [made] = order["complaints"]
    assert (made["status"], made["text"], made["resolution"]) == ("open", "一直没人来", None)
    refused(
        await resident.post(f"/api/orders/{order_id}/complaint", json={"text": "还是没人来"}),
        409,
        "ComplaintOpen",
    )
    listed = await ok(await admin.get("/api/complaints", params={"township": township}))
    mine = [c for c in listed["items"] if c["order_id"] == order_id]
    assert len(mine) == 1
    assert (mine[0]["source"], mine[0]["follow_up_id"], mine[0]["note"]) == (
        "resident",
        None,
        "一直没人来",
    )

    def count(session: Any) -> int:
        return len(
            session.scalars(
                select(Complaint.id).join(Order).where(Order.public_id == order_id)
            ).all()
        )

    assert await database.run(count) == 1  # the refused one left nothing behind
    await ok(await admin.post(f"/api/complaints/{mine[0]['id']}/resolve", json={"notes": "已派人"}))
    settled = await ok(await resident.get(f"/api/orders/{order_id}"))
    assert settled["complaint_open"] is False
    # The resident reads what they said and what the center did about it.
    [made] = settled["complaints"]
    assert (made["status"], made["text"], made["resolution"]) == (
        "resolved",
        "一直没人来",
        "已派人",
    )
    assert made["resolved_at"] is not None


async def test_the_volunteer_holding_the_order_reads_the_request_but_not_the_complaint(
    worker: None, people: People, township: str
) -> None:
    order_id, _, as_helper = await accepted_order(people, township)
    resident = await people.resident()
    complained = f"/api/orders/{order_id}/complaint"
    await ok(await resident.post(complained, json={"text": "约好的时间没来"}), 201)
    held = await ok(await as_helper.get(f"/api/orders/{order_id}"))
    assert held["reason"] and held["address"]  # what they came for, where
    assert held["complaints"] == []  # the resident's complaint is for the center
    own = await ok(await resident.get(f"/api/orders/{order_id}"))
    assert [c["text"] for c in own["complaints"]] == ["约好的时间没来"]


async def test_check_in_and_out_propose_the_hours(
    worker: None, people: People, township: str
) -> None:
    order_id, _, as_helper = await accepted_order(people, township)
    refused(await as_helper.post(f"/api/orders/{order_id}/check-out"), 409, "NotCheckedIn")
    first = await ok(await as_helper.post(f"/api/orders/{order_id}/check-in"))
    again = await ok(await as_helper.post(f"/api/orders/{order_id}/check-in"))
    assert first["checked_in_at"] is not None
    assert again["checked_in_at"] == first["checked_in_at"]  # idempotent: the first time stays
    assert first["proposed_hours"] is None
    out = await ok(await as_helper.post(f"/api/orders/{order_id}/check-out"))
    assert out["checked_out_at"] is not None and out["proposed_hours"] == 0.5
    steps = [e for e in out["events"] if e["type"] in ("checked_in", "checked_out")]
    assert [e["type"] for e in steps] == ["checked_in", "checked_out"]
    assert steps[0]["actor"] == {"kind": "volunteer", "name": "王志愿者"}

    # Anyone else: the resident is no volunteer, another volunteer does not see the order.
    resident = await people.resident()
    refused(await resident.post(f"/api/orders/{order_id}/check-in"), 403, "Forbidden")
    admin = await people.admin()
    stranger = await people.volunteer(await volunteer(admin, township))
    refused(await stranger.post(f"/api/orders/{order_id}/check-in"), 404, "NotFound")
    # Once completed, there is nothing to check into.
    await ok(
        await as_helper.post(f"/api/orders/{order_id}/complete", json={"summary": "好", "hours": 1})
    )
    refused(await as_helper.post(f"/api/orders/{order_id}/check-in"), 409, "InvalidTransition")


async def test_a_photo_taken_back_before_completing_is_gone_for_everyone(
    worker: None, people: People, township: str, live_settings: Any
) -> None:
    order_id, _, as_helper = await accepted_order(people, township)
    kept, wrong = [
        await ok(await as_helper.post(f"/api/orders/{order_id}/photos", files=photo_file()), 201)
        for _ in range(2)
    ]
    folder = live_settings.media_dir / order_id
    assert len(list(folder.iterdir())) == 4  # each picture and its thumbnail
    # Nobody but the holder takes a photo back.
    admin = await people.admin()
    stranger = await people.volunteer(await volunteer(admin, township))
    refused(await stranger.delete(wrong["url"]), 404, "NotFound")
    refused(await (await people.resident()).delete(wrong["url"]), 403, "Forbidden")

    gone = await as_helper.delete(wrong["url"])
    assert gone.status_code == 204, gone.text
    refused(await as_helper.delete(wrong["url"]), 404, "NotFound")
    refused(await (await people.resident()).get(wrong["url"]), 404, "NotFound")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{kept['photo_id']}{suffix}.jpg" for suffix in ("", ".thumb")
    )
    view = await ok(await as_helper.get(f"/api/orders/{order_id}"))
    assert [p["photo_id"] for p in view["photos"]] == [kept["photo_id"]]
    # A completion cannot name it any more; the one it names stays.
    done = {"summary": "好", "hours": 1, "photo_ids": [wrong["photo_id"]]}
    refused(
        await as_helper.post(f"/api/orders/{order_id}/complete", json=done), 422, "UnknownPhoto"
    )
    done["photo_ids"] = [kept["photo_id"]]
    await ok(await as_helper.post(f"/api/orders/{order_id}/complete", json=done))
    refused(await as_helper.delete(kept["url"]), 409, "InvalidTransition")


async def test_photos_are_cleaned_and_shown_to_the_orders_people_only(
    worker: None, people: People, township: str, database: Database
) -> None:
    order_id, _, as_helper = await accepted_order(people, township)
    uploaded = await ok(
        await as_helper.post(f"/api/orders/{order_id}/photos", files=photo_file()), 201
    )
    photo_id = uploaded["photo_id"]
    assert uploaded["url"] == f"/api/orders/{order_id}/photos/{photo_id}"

    resident = await people.resident()
    served = await resident.get(uploaded["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as img:
        assert img.size == (800, 600)
        assert dict(img.getexif()) == {}  # no maker, no GPS position
    assert b"PhoneMaker" not in served.content
    thumb = await resident.get(uploaded["thumbnail_url"])
    with Image.open(io.BytesIO(thumb.content)) as img:
        assert max(img.size) == 320

    # Only the order's people see it.
    admin = await people.admin()
    stranger = await people.volunteer(await volunteer(admin, township))
    refused(await stranger.get(uploaded["url"]), 404, "NotFound")
    other_resident = await people.resident("13900007777")
    refused(await other_resident.get(uploaded["url"]), 404, "NotFound")

    # Bad input changes nothing: the bytes decide the type, not the name; size is bounded.
    refused(
        await as_helper.post(
            f"/api/orders/{order_id}/photos", files=photo_file(b"GIF89a" + b"\0" * 100)
        ),
        422,
        "UnsupportedPhoto",
    )
    refused(
        await as_helper.post(
            f"/api/orders/{order_id}/photos", files=photo_file(b"\xff\xd8\xff" + b"\0" * 100)
        ),
        422,
        "UnsupportedPhoto",
    )
    big = b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024)
    refused(
        await as_helper.post(f"/api/orders/{order_id}/photos", files=photo_file(big)),
        413,
        "PhotoTooLarge",
    )
    png = await ok(
        await as_helper.post(
            f"/api/orders/{order_id}/photos",
            files=photo_file(photo_bytes("PNG", (200, 100)), "x.jpg", "image/jpeg"),
        ),
        201,
    )
    assert (await resident.get(png["url"])).headers["content-type"] == "image/png"
    refused(
        await resident.post(f"/api/orders/{order_id}/photos", files=photo_file()), 403, "Forbidden"
    )

    def stored(session: Any) -> list[str]:
        return list(
            session.scalars(
                select(Photo.id).join(Order).where(Order.public_id == order_id).order_by(Photo.id)
            )
        )

    assert sorted(await database.run(stored)) == sorted([photo_id, png["photo_id"]])

    # The completion names the photos to show; an unknown one refuses it, and nothing changes.
    done = {"summary": "打扫了厨房", "hours": 1.5, "photo_ids": ["ph_0000000000000000"]}
    refused(
        await as_helper.post(f"/api/orders/{order_id}/complete", json=done), 422, "UnknownPhoto"
    )
    assert (await ok(await resident.get(f"/api/orders/{order_id}")))["status"] == "accepted"
    done["photo_ids"] = [photo_id]
    completed = await ok(await as_helper.post(f"/api/orders/{order_id}/complete", json=done))
    assert [p["photo_id"] for p in completed["photos"]] == [photo_id]
    theirs = await ok(await resident.get(f"/api/orders/{order_id}"))
    assert [p["photo_id"] for p in theirs["photos"]] == [photo_id]
    step = next(e for e in theirs["events"] if e["type"] == "completed")
    assert (step["note"], step["hours"], step["photo_count"]) == ("打扫了厨房", 1.5, 1)
    assert theirs["completion_note"] == "打扫了厨房"
    # No more photos once completed.
    refused(
        await as_helper.post(f"/api/orders/{order_id}/photos", files=photo_file()),
        409,
        "InvalidTransition",
    )


async def test_the_order_view_says_who_acted_and_shows_a_corrected_rating(
    worker: None, people: People, township: str, live_settings: Any
) -> None:
    order_id, _, as_helper = await accepted_order(people, township)
    resident, agent = await people.resident(), await people.agent()
    order = await ok(await resident.get(f"/api/orders/{order_id}"))
    assert order["center_hotline"] == live_settings.center_hotline
    assert order["due_at"] == order["deadline_at"]
    by_type = {e["type"]: e for e in order["events"]}
    assert by_type["submitted"]["actor"]["kind"] == "resident"
    assert by_type["dispatched"]["actor"] == {"kind": "center", "name": live_settings.center_name}
    assert by_type["dispatched"]["volunteer"] == {"name": "王志愿者"}
    assert by_type["accepted"]["actor"] == {"kind": "volunteer", "name": "王志愿者"}
    assert "+86" not in str(order["events"])  # never a phone

    await ok(
        await as_helper.post(f"/api/orders/{order_id}/complete", json={"summary": "好", "hours": 2})
    )
    # The volunteer hands the phone over: the review is recorded as given on site.
    reviewed = await ok(
        await as_helper.post(f"/api/orders/{order_id}/review", json={"rating": "satisfied"})
    )
    assert (reviewed["review_rating"], reviewed["review_channel"]) == ("satisfied", "on_site")
    assert reviewed["due_at"] is None
    step = next(e for e in reviewed["events"] if e["type"] == "reviewed")
    assert (step["rating"], step["channel"]) == ("satisfied", "on_site")

    task = await wait_for_follow_up(agent, order_id)
    corrected = {"method": "phone", "outcome": "rating_corrected", "rating": "very_satisfied"}
    await ok(await agent.post(f"/api/follow-ups/{task['id']}/result", json=corrected))
    closed = await ok(await resident.get(f"/api/orders/{order_id}"))
    assert closed["status"] == "closed"
    assert (closed["review_rating"], closed["verified_rating"], closed["rating_corrected"]) == (
        "satisfied",
        "very_satisfied",
        True,
    )
    step = next(e for e in closed["events"] if e["type"] == "followed_up")
    assert (step["outcome"], step["rating"], step["review_rating"]) == (
        "rating_corrected",
        "very_satisfied",
        "satisfied",
    )
    assert step["actor"]["kind"] == "center"
    assert closed["complaint_open"] is False


async def test_an_online_review_stays_online_and_strangers_may_not_review(
    worker: None, people: People, township: str
) -> None:
    order_id, as_helper = await completed_order(people, township)
    admin = await people.admin()
    refused(
        await admin.post(f"/api/orders/{order_id}/review", json={"rating": "average"}),
        403,
        "Forbidden",
    )
    resident = await people.resident()
    order: Json = await ok(
        await resident.post(f"/api/orders/{order_id}/review", json={"rating": "average"})
    )
    assert (order["review_rating"], order["review_channel"]) == ("average", "online")
    refused(
        await as_helper.post(f"/api/orders/{order_id}/review", json={"rating": "satisfied"}),
        409,
        "InvalidTransition",
    )


async def test_an_order_takes_nine_photos_at_most(
    worker: None, people: People, township: str
) -> None:
    order_id, _, as_helper = await accepted_order(people, township)
    small = photo_bytes("PNG", (40, 30))
    for _ in range(9):
        await ok(
            await as_helper.post(f"/api/orders/{order_id}/photos", files=photo_file(small)), 201
        )
    refused(
        await as_helper.post(f"/api/orders/{order_id}/photos", files=photo_file(small)),
        409,
        "TooManyPhotos",
    )
    order = await ok(await as_helper.get(f"/api/orders/{order_id}"))
    assert len(order["photos"]) == 9


async def test_a_volunteer_may_choose_the_name_residents_see(
    worker: None, people: People, township: str
) -> None:
    order_id, helper, as_helper = await accepted_order(people, township)
    refused(
        await as_helper.patch(f"/api/volunteers/{helper}", json={"display_name": "王 138"}),
        422,
        "InvalidDisplayName",
    )
    chosen = await ok(
        await as_helper.patch(f"/api/volunteers/{helper}", json={"display_name": "小王老师"})
    )
    assert chosen["display_name"] == "小王老师"
    resident = await people.resident()
    order = await ok(await resident.get(f"/api/orders/{order_id}"))
    accepted = next(e for e in order["events"] if e["type"] == "accepted")
    assert accepted["actor"] == {"kind": "volunteer", "name": "小王老师"}
    await ok(await as_helper.patch(f"/api/volunteers/{helper}", json={"display_name": None}))
    order = await ok(await resident.get(f"/api/orders/{order_id}"))
    accepted = next(e for e in order["events"] if e["type"] == "accepted")
    assert accepted["actor"]["name"] == "王志愿者"  # back to the surname
