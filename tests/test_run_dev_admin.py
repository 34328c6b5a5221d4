"""``make run``'s first admin: the operator's bootstrap account when set, else a development
admin created once with its password kept in the data folder; the banner says how to sign in
and where every app is (``scripts/run.py``; the whole script is run by
``tests/test_run_script.py``)."""

from __future__ import annotations

import importlib.util
import stat
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.database import Database
from core.db import make_engine
from core.dbadmin import temporary_database
from core.models import StaffAccount
from core.settings import ROOT, Settings
from tests.api.auth_app import add_staff, app_on, caller
from tests.conftest import ADMIN_URL


@pytest.fixture(scope="module")
def run_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_script", ROOT / "scripts" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def county_url() -> Iterator[str]:
    with temporary_database(ADMIN_URL, prefix="fourorders_dev_admin") as url:
        yield url


def admins(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StaffAccount)) or 0


def usernames(session: Session) -> list[str]:
    return list(session.scalars(select(StaffAccount.username)))


async def test_the_dev_admin_is_made_once_and_signs_in(
    run_script: ModuleType, county_url: str, tmp_path: Path, settings: Settings
) -> None:
    first = run_script.first_admin(county_url, settings, tmp_path)
    username, password = first.username, first.password
    assert username == "admin" and len(password) >= 12
    kept = tmp_path / "dev-admin-password"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert run_script.first_admin(county_url, settings, tmp_path) == first

    engine = make_engine(county_url, pool_size=2)
    try:
        db = Database(engine)
        assert await db.run(admins) == 1
        app = app_on(db, settings.model_copy(update={"database_url": county_url}))
        async with caller(app) as api:
            signed_in = await api.post(
                "/api/auth/login", json={"username": username, "password": password}
            )
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["roles"] == ["admin"]
    finally:
        engine.dispose()

    text = run_script.banner("http://127.0.0.1:8000", "http://localhost:8233", None, first)
    assert "http://127.0.0.1:8000/docs → Authorize" in text
    assert f"username admin  password {password}" in text
    for page in ("/volunteer/", "/call-center/", "/console/", "/console/supervision"):
        assert f"http://127.0.0.1:8000{page}\n" in text


async def test_the_bootstrap_admin_is_the_first_and_no_dev_admin_is_made(
    run_script: ModuleType, county_url: str, tmp_path: Path, settings: Settings
) -> None:
    secret = "a-long-operator-password"
    bootstrap = settings.model_copy(
        update={
            "bootstrap_admin_username": "chief",
            "bootstrap_admin_password": SecretStr(secret),
        }
    )
    first = run_script.first_admin(county_url, bootstrap, tmp_path)
    assert (first.username, first.password) == ("chief", None)
    assert not (tmp_path / "dev-admin-password").exists()
    engine = make_engine(county_url, pool_size=2)
    try:
        assert await Database(engine).run(usernames) == ["chief"]
    finally:
        engine.dispose()
    text = run_script.banner("http://127.0.0.1:8000", "http://localhost:8233", None, first)
    assert "username chief" in text and secret not in text


async def test_no_dev_admin_beside_an_admin_made_otherwise(
    run_script: ModuleType, county_url: str, tmp_path: Path, settings: Settings
) -> None:
    engine = make_engine(county_url, pool_size=2)
    try:
        await add_staff(Database(engine))
        assert run_script.first_admin(county_url, settings, tmp_path) is None
    finally:
        engine.dispose()
    text = run_script.banner("http://127.0.0.1:8000", "http://localhost:8233", None, None)
    assert "python -m api.cli create-admin" in text and "password" not in text
