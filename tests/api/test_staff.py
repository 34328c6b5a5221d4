"""Admins manage staff accounts over HTTP, within their townships, and every change lands in
the audit log, which county admins read and nobody (not even the database owner) edits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.database import Database
from core.db import utcnow
from core.models import AuditEntry
from core.settings import Settings
from core.vocab import Role
from tests.api.auth_app import add_staff, app_on, bearer, caller, login, refresh
from tests.api.test_call_center import body, refused
from tests.helpers import Registry
from tests.signin import STAFF_PASSWORD, refused_within

NEW_PASSWORD = "a much longer new password"


@pytest.fixture
def app(database: Database, settings: Settings) -> FastAPI:
    return app_on(database, settings)


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with caller(app, "192.0.2.7") as client:
        yield client


async def signed_in(
    api: httpx.AsyncClient,
    db: Database,
    role: Role = Role.ADMIN,
    townships: Sequence[str] | None = None,
) -> tuple[int, dict[str, str]]:
    """A new staff account, signed in through the API: its id and bearer header."""
    staff_id, username = await add_staff(db, role=role, townships=townships)
    response = await login(api, username)
    assert response.status_code == 200, response.text
    return staff_id, bearer(response.json())


def account(username: str, role: str = "agent", **fields: Any) -> dict[str, Any]:
    return {"username": username, "password": STAFF_PASSWORD, "role": role, **fields}


async def test_a_county_admin_creates_lists_and_changes_staff_and_each_change_is_audited(
    api: httpx.AsyncClient, database: Database, township: str
) -> None:
    admin_id, admin = await signed_in(api, database)
    name = f"agent-{township[-8:]}"
    created = body(
        await api.post("/api/staff", json=account(name, townships=[township]), headers=admin),
        201,
    )
    assert created["username"] == name and created["role"] == "agent"
    assert (created["townships"], created["active"], created["locked"]) == ([township], True, False)
    assert (await login(api, name)).status_code == 200

    listed = body(await api.get("/api/staff", params={"limit": 200}, headers=admin))
    assert created in listed["items"] or listed["total"] > 200
    page = body(await api.get("/api/staff", params={"limit": 1, "offset": 1}, headers=admin))
    assert len(page["items"]) == 1 and page["total"] == listed["total"]

    target = f"staff:{created['id']}"
    changed = body(
        await api.patch(f"/api/staff/{created['id']}", json={"townships": []}, headers=admin)
    )
    assert changed["townships"] is None  # the whole county
    body(await api.patch(f"/api/staff/{created['id']}", json={"active": False}, headers=admin))
    body(
        await api.patch(
            f"/api/staff/{created['id']}", json={"password": NEW_PASSWORD}, headers=admin
        )
    )

    entries = body(await api.get("/api/audit", params={"target": target}, headers=admin))
    assert [(e["action"], e["actor"], e["ip"]) for e in reversed(entries["items"])] == [
        ("staff.create", f"staff:{admin_id}", "192.0.2.7"),
        ("auth.login", target, "192.0.2.7"),
        ("staff.update", f"staff:{admin_id}", "192.0.2.7"),
        ("staff.update", f"staff:{admin_id}", "192.0.2.7"),
        ("staff.update", f"staff:{admin_id}", "192.0.2.7"),
    ]
    assert [e["detail"] for e in reversed(entries["items"])][2:] == [
        {"townships": None},
        {"active": False},
        {"password_reset": True},
    ]
    assert STAFF_PASSWORD not in str(entries) and NEW_PASSWORD not in str(entries)


async def test_what_an_admin_cannot_create(
    api: httpx.AsyncClient, database: Database, township: str
) -> None:
    _, admin = await signed_in(api, database)
    name = f"dup-{township[-8:]}"
    body(await api.post("/api/staff", json=account(name), headers=admin), 201)
    refused(
        await api.post("/api/staff", json=account(name), headers=admin), 409, "DuplicateUsername"
    )
    weak = {**account(name + "-2"), "password": "short pass"}
    refused(await api.post("/api/staff", json=weak, headers=admin), 422, "WeakPassword")
    refused(
        await api.post(
            "/api/staff", json=account(name + "-3", townships=["无此乡镇"]), headers=admin
        ),
        422,
        "UnknownReference",
    )
    refused(
        await api.post("/api/staff", json=account(name + "-4", role="resident"), headers=admin),
        422,
        "InvalidRole",
    )


async def test_only_admins_manage_staff(
    api: httpx.AsyncClient, database: Database, township: str
) -> None:
    staff_id, agent = await signed_in(api, database, Role.AGENT, [township])
    refused(await api.get("/api/staff", headers=agent), 403, "Forbidden")
    refused(await api.post("/api/staff", json=account("by-agent"), headers=agent), 403, "Forbidden")
    refused(
        await api.patch(f"/api/staff/{staff_id}", json={"active": True}, headers=agent),
        403,
        "Forbidden",
    )
    refused(await api.get("/api/audit", headers=agent), 403, "Forbidden")
    refused(await api.get("/api/staff"), 401, "NotSignedIn")


async def test_a_township_admin_manages_staff_only_within_their_townships(
    api: httpx.AsyncClient, database: Database, registry: Registry, township: str
) -> None:
    other = await registry.township()
    _, scoped = await signed_in(api, database, Role.ADMIN, [township])
    mine = body(
        await api.post(
            "/api/staff",
            json=account(f"mine-{township[-8:]}", townships=[township]),
            headers=scoped,
        ),
        201,
    )
    # A township admin of their own townships, too.
    body(
        await api.post(
            "/api/staff",
            json=account(f"sub-{township[-8:]}", role="admin", townships=[township]),
            headers=scoped,
        ),
        201,
    )
    for townships in (None, [], [other], [township, other]):
        for role in ("admin", "agent"):
            refused(
                await api.post(
                    "/api/staff",
                    json=account(f"x-{township[-8:]}", role=role, townships=townships),
                    headers=scoped,
                ),
                403,
                "Forbidden",
            )
    theirs_id, _ = await add_staff(database, role=Role.AGENT, townships=[township, other])
    county_id, _ = await add_staff(database, role=Role.AGENT)

    listed = body(await api.get("/api/staff", params={"limit": 200}, headers=scoped))
    assert {s["id"] for s in listed["items"]} >= {mine["id"]}
    assert all(set(s["townships"] or [other]) <= {township} for s in listed["items"])
    for hidden in (theirs_id, county_id):
        refused(
            await api.patch(f"/api/staff/{hidden}", json={"active": False}, headers=scoped),
            404,
            "NotFound",
        )
    for wider in ([other], [], None):
        refused(
            await api.patch(f"/api/staff/{mine['id']}", json={"townships": wider}, headers=scoped),
            403,
            "Forbidden",
        )
    refused(await api.get("/api/audit", headers=scoped), 403, "Forbidden")


async def test_disabling_resetting_and_unlocking_an_account(
    database: Database, settings: Settings
) -> None:
    strict = app_on(database, settings, login_max_failures=2, login_lockout=timedelta(hours=1))
    async with caller(strict) as api:
        _, admin = await signed_in(api, database)
        staff_id, username = await add_staff(database, role=Role.AGENT)
        tokens = body(await login(api, username))
        url = f"/api/staff/{staff_id}"

        body(await api.patch(url, json={"active": False}, headers=admin))
        refused(await login(api, username), 401, "InvalidCredentials")
        refused(await refresh(api, tokens), 401, "InvalidRefreshToken")
        body(await api.patch(url, json={"active": True}, headers=admin))
        tokens = body(await login(api, username))

        body(await api.patch(url, json={"password": NEW_PASSWORD}, headers=admin))
        refused(await login(api, username), 401, "InvalidCredentials")
        refused(await refresh(api, tokens), 401, "InvalidRefreshToken")
        refused(
            await api.patch(url, json={"password": "too short"}, headers=admin),
            422,
            "WeakPassword",
        )

        # Locked by the wrong password above and one more: the right one is refused now.
        refused(await login(api, username, "still not it!"), 401, "InvalidCredentials")
        refused(await login(api, username, NEW_PASSWORD), 401, "InvalidCredentials")
        locked = body(await api.get("/api/staff", params={"limit": 200}, headers=admin))
        assert next(s for s in locked["items"] if s["id"] == staff_id)["locked"] is True
        unlocked = body(await api.patch(url, json={"unlock": True}, headers=admin))
        assert unlocked["locked"] is False
        assert (await login(api, username, NEW_PASSWORD)).status_code == 200
        refused(
            await api.patch("/api/staff/999999999", json={"active": False}, headers=admin),
            404,
            "NotFound",
        )


async def test_a_disabled_admins_token_stops_working_within_the_stated_refresh(
    api: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    # The README ("Who may do what") promises 5 seconds: the default of PRINCIPAL_REFRESH.
    assert Settings.model_fields["principal_refresh"].default == timedelta(seconds=5)
    assert settings.principal_refresh == timedelta(seconds=5)
    _, admin = await signed_in(api, database)
    gone_id, gone = await signed_in(api, database)
    body(await api.get("/api/staff", headers=gone))  # its account is read now, and kept
    body(await api.patch(f"/api/staff/{gone_id}", json={"active": False}, headers=admin))

    answer = await refused_within(
        settings.principal_refresh, lambda: api.get("/api/staff", headers=gone)
    )
    refused(answer, 401, "InvalidToken")
    new_admin = account(f"by-disabled-{gone_id}", role="admin")
    refused(await api.post("/api/staff", json=new_admin, headers=gone), 401, "InvalidToken")
    refused(await api.get("/api/me", headers=gone), 401, "InvalidToken")


async def test_every_request_sees_the_accounts_townships_now(
    database: Database, settings: Settings, registry: Registry, township: str
) -> None:
    other = await registry.township()
    at_once = app_on(database, settings, principal_refresh=timedelta(0))
    async with caller(at_once) as api:
        _, county = await signed_in(api, database)
        scoped_id, scoped = await signed_in(api, database, Role.ADMIN, [township, other])
        here = account(f"here-{scoped_id}", townships=[township])
        body(await api.post("/api/staff", json=here, headers=scoped), 201)
        url = f"/api/staff/{scoped_id}"
        body(await api.patch(url, json={"townships": [other]}, headers=county))
        # The token still names both townships; the account has only the other one now.
        again = account(f"here-again-{scoped_id}", townships=[township])
        refused(await api.post("/api/staff", json=again, headers=scoped), 403, "Forbidden")
        me = body(await api.get("/api/me", headers=scoped))
        assert me["townships"] == [other]


async def test_the_audit_log_filters(api: httpx.AsyncClient, database: Database) -> None:
    admin_id, admin = await signed_in(api, database)
    before = utcnow()
    created = [
        body(
            await api.post("/api/staff", json=account(f"audited-{n}-{admin_id}"), headers=admin),
            201,
        )
        for n in range(3)
    ]
    mine = body(
        await api.get(
            "/api/audit",
            params={
                "actor": f"staff:{admin_id}",
                "action": "staff.create",
                "since": before.isoformat(),
            },
            headers=admin,
        )
    )
    assert [e["target"] for e in mine["items"]] == [f"staff:{s['id']}" for s in reversed(created)]
    assert mine["total"] == 3
    page = body(
        await api.get(
            "/api/audit",
            params={"actor": f"staff:{admin_id}", "limit": 1, "offset": 1},
            headers=admin,
        )
    )
    assert [e["target"] for e in page["items"]] == [f"staff:{created[1]['id']}"]
    later = body(
        await api.get(
            "/api/audit",
            params={
                "actor": f"staff:{admin_id}",
                "since": (utcnow() + timedelta(minutes=1)).isoformat(),
            },
            headers=admin,
        )
    )
    assert later["total"] == 0
    # No route edits it.
    for method in ("PUT", "PATCH", "DELETE"):
        assert (await api.request(method, "/api/audit", headers=admin)).status_code == 405


async def test_the_database_refuses_to_edit_or_delete_audit_entries(database: Database) -> None:
    def write(session: Session) -> int:
        entry = AuditEntry(actor="test", action="test.entry", target="test:1", ip=None, detail={})
        session.add(entry)
        session.flush()
        return entry.id

    entry_id = await database.run(write)

    def edit(session: Session) -> None:
        session.execute(
            update(AuditEntry).where(AuditEntry.id == entry_id).values(action="tampered")
        )

    def remove(session: Session) -> None:
        session.execute(delete(AuditEntry).where(AuditEntry.id == entry_id))

    for change in (edit, remove):
        with pytest.raises(DBAPIError, match="audit_log is append-only"):
            await database.run(change)
