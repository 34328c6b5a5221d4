"""The first admin of a county (each test on a database of its own, with no staff yet):
created by API replicas starting together (once), by the CLI, and never lost to a change.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.database import Database
from api.main import create_app
from core.db import make_engine
from core.dbadmin import temporary_database
from core.models import AuditEntry, StaffAccount
from core.settings import Settings
from core.vocab import Role
from tests.api.auth_app import add_staff, app_on, bearer, caller
from tests.conftest import ADMIN_URL
from tests.signin import STAFF_PASSWORD

PASSWORD = "first admin's long password"


@pytest.fixture
def county_url() -> Iterator[str]:
    """A migrated database with no staff account."""
    with temporary_database(ADMIN_URL, prefix="fourorders_first_admin") as url:
        yield url


@pytest.fixture
async def county(county_url: str) -> AsyncIterator[Database]:
    engine = make_engine(county_url, pool_size=4)
    yield Database(engine)
    engine.dispose()


def staff_rows(session: Session) -> list[tuple[str, str, list[str] | None]]:
    return [
        (a.username, a.role, a.townships)
        for a in session.scalars(select(StaffAccount).order_by(StaffAccount.id))
    ]


def audit_rows(session: Session) -> list[tuple[str, str]]:
    return [
        (e.actor, e.action) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]


async def sign_in(api: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await api.post("/api/auth/login", json={"username": username, "password": password})


async def test_replicas_starting_together_create_one_admin_and_restarts_none(
    live_settings: Settings, county_url: str, county: Database
) -> None:
    def replica(username: str) -> Settings:
        return live_settings.model_copy(
            update={
                "database_url": county_url,
                "bootstrap_admin_username": username,
                "bootstrap_admin_password": SecretStr(PASSWORD),
            }
        )

    # Different names, so that only the lock (not the unique username) can keep it to one.
    apps = [create_app(replica(f"first-{n}")) for n in range(3)]
    async with AsyncExitStack() as running:
        await asyncio.gather(
            *(running.enter_async_context(app.router.lifespan_context(app)) for app in apps)
        )
        [(username, role, townships)] = await county.run(staff_rows)
        assert (role, townships) == ("admin", None)
        async with caller(apps[0]) as api:
            signed_in = await sign_in(api, username, PASSWORD)
            assert signed_in.status_code == 200, signed_in.text
            assert signed_in.json()["roles"] == ["admin"]

    again = create_app(replica("first-again"))
    async with again.router.lifespan_context(again):
        assert [u for u, _, _ in await county.run(staff_rows)] == [username]
    assert (await county.run(audit_rows))[0] == ("bootstrap", "staff.create")


async def test_no_admin_from_half_the_bootstrap_settings(
    live_settings: Settings, county_url: str, county: Database
) -> None:
    half = live_settings.model_copy(
        update={"database_url": county_url, "bootstrap_admin_username": "half"}
    )
    app = create_app(half)
    async with app.router.lifespan_context(app):
        assert await county.run(staff_rows) == []


def cli(
    county_url: str, tmp_path: Path, *args: str, stdin: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "create-admin", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no developer's .env
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": county_url,
            "JWT_SECRET": os.environ["JWT_SECRET"],
        },
        timeout=60,
        check=False,
    )


async def test_the_cli_creates_staff_and_never_shows_the_password(
    county_url: str, county: Database, settings: Settings, tmp_path: Path
) -> None:
    done = cli(
        county_url, tmp_path, "--username", "chief", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1
    assert done.stdout.startswith("created admin 'chief' (staff:")
    assert done.stdout.endswith(") for the whole county\n")
    agent = cli(
        county_url,
        tmp_path,
        "--username",
        "hotline-1",
        "--password-stdin",
        "--role",
        "agent",
        "--townships",
        "蓼皋街道, 九江街道",
        stdin=PASSWORD + "\n",
    )
    assert agent.returncode == 0, agent.stderr
    assert agent.stdout.endswith("for 九江街道, 蓼皋街道\n")

    failures = [
        cli(county_url, tmp_path, "--username", "chief", "--password-stdin", stdin=PASSWORD),
        cli(county_url, tmp_path, "--username", "weak", "--password-stdin", stdin="short\n"),
        cli(
            county_url,
            tmp_path,
            "--username",
            "far",
            "--password-stdin",
            "--townships",
            "无此乡镇",
            stdin=PASSWORD,
        ),
    ]
    assert [f.returncode for f in failures] == [1, 1, 1]
    assert [f.stdout for f in failures] == ["", "", ""]
    assert "taken" in failures[0].stderr and "12 characters" in failures[1].stderr
    assert "无此乡镇" in failures[2].stderr
    for run in (done, agent, *failures):
        assert PASSWORD not in run.stdout + run.stderr and "short" not in run.stdout + run.stderr

    assert await county.run(staff_rows) == [
        ("chief", "admin", None),
        ("hotline-1", "agent", ["九江街道", "蓼皋街道"]),
    ]
    assert await county.run(audit_rows) == [("cli", "staff.create"), ("cli", "staff.create")]
    async with caller(
        app_on(county, settings.model_copy(update={"database_url": county_url}))
    ) as api:
        assert (await sign_in(api, "chief", PASSWORD)).status_code == 200
        assert (await sign_in(api, "hotline-1", PASSWORD)).json()["roles"] == ["agent"]


async def test_the_county_keeps_an_active_county_admin(
    county: Database, county_url: str, settings: Settings
) -> None:
    async with caller(
        app_on(county, settings.model_copy(update={"database_url": county_url}))
    ) as api:
        first_id, first = await add_staff(county)
        headers = bearer((await sign_in(api, first, STAFF_PASSWORD)).json())
        for change in ({"active": False}, {"townships": ["蓼皋街道"]}):
            refused = await api.patch(f"/api/staff/{first_id}", json=change, headers=headers)
            assert refused.status_code == 409, refused.text
            assert refused.json()["code"] == "LastCountyAdmin"
        # A township admin or a disabled one does not count; a second county admin does.
        await add_staff(county, townships=["蓼皋街道"])
        assert (
            await api.patch(f"/api/staff/{first_id}", json={"active": False}, headers=headers)
        ).status_code == 409
        await add_staff(county, role=Role.ADMIN)
        done = await api.patch(f"/api/staff/{first_id}", json={"active": False}, headers=headers)
        assert done.status_code == 200, done.text
        assert done.json()["active"] is False
