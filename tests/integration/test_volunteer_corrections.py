"""An admin corrects a volunteer's name, phone and home place over HTTP; bad input changes
nothing, and the volunteer themself may not."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.conftest import new_township
from tests.integration.test_dispatch_http import phone, retire, volunteer
from tests.integration.test_http_lifecycle import ok
from tests.signin import People


async def test_an_admin_corrects_a_volunteer_and_bad_corrections_change_nothing(
    people: People, township: str, engine: Engine
) -> None:
    admin = await people.admin()
    elsewhere = new_township(engine, "外镇")
    village = await ok(
        await admin.post(
            "/api/villages", json={"township": township, "name": "上村", "lat": 27.5, "lon": 109.1}
        ),
        201,
    )
    theirs = await volunteer(admin, township)
    other = await volunteer(admin, township)
    other_phone = (await ok(await (await people.volunteer(other)).get(f"/api/volunteers/{other}")))[
        "phone"
    ]
    before = await ok(await admin.get(f"/api/volunteers/{theirs}"))

    bad = {
        "phone": ({"phone": "12"}, 422, "InvalidRequest"),
        "taken phone": ({"phone": other_phone}, 409, "DuplicatePhone"),
        "unknown township": ({"township": "没有这个镇"}, 422, "UnknownReference"),
        "village elsewhere": (
            {"township": elsewhere, "village_id": village["id"]},
            422,
            "VillageOutsideTownship",
        ),
        "empty name": ({"name": " "}, 422, "InvalidRequest"),
    }
    for what, (body, status, code) in bad.items():
        r = await admin.patch(f"/api/volunteers/{theirs}", json=body)
        assert (r.status_code, r.json()["code"]) == (status, code), (what, r.text)
    assert await ok(await admin.get(f"/api/volunteers/{theirs}")) == before

    # A township admin moves nobody into a township that is not theirs.
    local = await people.township_admin(township)
    r = await local.patch(f"/api/volunteers/{theirs}", json={"township": elsewhere})
    assert r.status_code == 403, r.text
    # The volunteer corrects none of it themself.
    themself = await people.volunteer(theirs)
    r = await themself.patch(f"/api/volunteers/{theirs}", json={"name": "改名"})
    assert r.status_code == 403, r.text

    new_phone = phone()
    corrected = await ok(
        await admin.patch(
            f"/api/volunteers/{theirs}",
            json={"name": "龙小兵", "phone": new_phone, "village_id": village["id"]},
        )
    )
    assert (corrected["name"], corrected["village_id"]) == ("龙小兵", village["id"])
    assert (corrected["lat"], corrected["lon"]) == (27.5, 109.1)  # the village's
    assert corrected["phone"].endswith(new_phone[-4:]) and "*" in corrected["phone"]
    # Another township: the old village stays behind.
    moved = await ok(await admin.patch(f"/api/volunteers/{theirs}", json={"township": elsewhere}))
    assert (moved["township"], moved["village_id"]) == (elsewhere, None)
    # Their own number again is no conflict with themself.
    mine = (await ok(await themself.get(f"/api/volunteers/{theirs}")))["phone"]
    await ok(await admin.patch(f"/api/volunteers/{theirs}", json={"phone": mine}))
    await retire(admin, theirs, other)
