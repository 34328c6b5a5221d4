"""The Prometheus alert rules (``deploy/prometheus``) pass ``promtool``: they parse, the
config that loads them is valid, and their unit tests pass (the retry alert fires on a
synthetic series of failing projection attempts, and not on an occasional SMS failure).

``make test`` installs promtool (Debian's ``prometheus``) when it can; without it these
skip, unless ``PROMTOOL_REQUIRED`` is set (CI), when they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from core.settings import ROOT

RULES = ROOT / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        reason = "promtool is missing (Debian: apt-get install prometheus)"
        if os.environ.get("PROMTOOL_REQUIRED", "") not in ("", "0"):
            pytest.fail(f"{reason} and PROMTOOL_REQUIRED is set")
        pytest.skip(reason)
    return found


def run(promtool: str, *args: str) -> str:
    done = subprocess.run(
        [promtool, *args], cwd=RULES, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_rules_and_config_check(promtool: str) -> None:
    out = run(promtool, "check", "rules", "alerts.yml")
    assert "SUCCESS: 11 rules found" in out
    run(promtool, "check", "config", "prometheus.yml")


def test_rule_unit_tests_pass(promtool: str) -> None:
    assert "SUCCESS" in run(promtool, "test", "rules", "alerts_test.yml")


def test_a_broken_rule_fails_the_unit_test(promtool: str, tmp_path: Path) -> None:
    """The unit test can fail: with the retry alert's threshold raised past the synthetic
    failures, it no longer fires and promtool says so."""
    for name in ("alerts.yml", "alerts_test.yml"):
        text = (RULES / name).read_text()
        if name == "alerts.yml":
            text = text.replace("[10m])) > 10", "[10m])) > 1000")
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        [promtool, "test", "rules", "alerts_test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode != 0 and "ActivityRetrying" in done.stdout + done.stderr
