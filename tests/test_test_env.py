"""``make test``'s set-up (scripts/test_env.py): what it installs, and the PostgreSQL it picks."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from core.dbadmin import temporary_database
from core.settings import ROOT
from scripts import test_env
from tests.conftest import ADMIN_URL


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """What apt-get would have installed; nothing is."""
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(test_env, "apt_install", lambda *packages: calls.append(packages))
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setattr(test_env, "find_chromium", lambda: None)
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no npm either
    return calls


@pytest.mark.parametrize("root_with_apt", [True, False])
def test_a_missing_chromium_is_installed_as_root_else_named(
    monkeypatch: pytest.MonkeyPatch, installed: list[tuple[str, ...]], root_with_apt: bool
) -> None:
    monkeypatch.setattr(test_env, "can_apt", lambda: root_with_apt)
    if root_with_apt:
        test_env.ensure_chromium()
        assert installed == [("chromium", "fonts-noto-cjk")]
    else:
        with pytest.raises(test_env.SetupError, match="apt-get install chromium fonts-noto-cjk"):
            test_env.ensure_chromium()
        assert installed == []


def test_chromium_named_by_the_environment_must_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "chrome"))
    with pytest.raises(test_env.SetupError, match="does not exist"):
        test_env.ensure_chromium()


@pytest.mark.parametrize("required", ["", "1"])
def test_without_npm_the_contract_tests_skip_unless_required(
    monkeypatch: pytest.MonkeyPatch,
    installed: list[tuple[str, ...]],
    capsys: pytest.CaptureFixture[str],
    required: str,
) -> None:
    monkeypatch.setattr(test_env, "can_apt", lambda: False)
    monkeypatch.setenv("CONTRACT_TESTS_REQUIRED", required)
    if required:
        with pytest.raises(test_env.SetupError, match="npm is missing"):
            test_env.ensure_prism()
    else:
        test_env.ensure_prism()
        assert "npm is missing" in capsys.readouterr().out
    assert installed == []


@pytest.mark.parametrize(("root_with_apt", "required"), [(True, ""), (False, ""), (False, "1")])
def test_a_missing_promtool_is_installed_as_root_else_skips_unless_required(
    monkeypatch: pytest.MonkeyPatch,
    installed: list[tuple[str, ...]],
    capsys: pytest.CaptureFixture[str],
    root_with_apt: bool,
    required: str,
) -> None:
    monkeypatch.setattr(test_env, "can_apt", lambda: root_with_apt)
    monkeypatch.setenv("PROMTOOL_REQUIRED", required)
    if required:
        with pytest.raises(test_env.SetupError, match="promtool is missing"):
            test_env.ensure_promtool()
    else:
        test_env.ensure_promtool()
    assert installed == ([("prometheus",)] if root_with_apt else [])
    assert ("promtool is missing" in capsys.readouterr().out) == (
        not root_with_apt and not required
    )


def test_a_setup_failure_is_one_line_and_no_test_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing() -> None:
        raise test_env.SetupError("Chromium is missing")

    monkeypatch.setattr(test_env, "ensure_chromium", missing)
    assert test_env.main(["--collect-only"]) == 2
    assert capsys.readouterr().err == "make test: Chromium is missing\n"


def test_a_server_that_answers_is_used_as_it_is() -> None:
    with test_env.postgres(ADMIN_URL) as url:
        assert url == ADMIN_URL


@pytest.fixture
def pg_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data folder of this test's own (under the project: as root the server runs as nobody,
    who cannot enter pytest's private temp folders), never ``make test``'s own."""
    required = os.environ.get("EMBEDDED_PG_TESTS_REQUIRED", "") not in ("", "0")
    if find_spec(test_env.EmbeddedPostgres.PACKAGE) is None and not required:
        # In CI it is installed now (as make test does when it needs it), so it never rots.
        pytest.skip("the pg extra is not installed (make test installs it when it needs it)")
    (ROOT / ".tools").mkdir(exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="pg-test-", dir=ROOT / ".tools"))
    home.chmod(0o755)
    monkeypatch.setattr(test_env, "PG_HOME", home / "pg")
    yield home / "pg"
    shutil.rmtree(home, ignore_errors=True)


def test_with_no_server_at_the_url_an_embedded_one_runs_for_the_tests(pg_home: Path) -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{test_env.free_port()}/postgres"
    with test_env.postgres(nowhere) as url:
        assert url != nowhere and test_env.connect_error(url) is None
        with temporary_database(url, prefix="fourorders_embedded") as db_url:
            engine = create_engine(db_url)
            with engine.connect() as conn:
                version = conn.exec_driver_sql("show server_version").scalar()
                tables = conn.exec_driver_sql("select count(*) from alembic_version").scalar()
            engine.dispose()
        assert str(version).startswith("18.") and tables == 1
        assert (pg_home / "data" / "PG_VERSION").exists()
    assert test_env.connect_error(url)  # stopped once the tests are done
