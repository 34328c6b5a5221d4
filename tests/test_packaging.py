"""The project installs as a package that carries its pages, catalogs and migrations, and its
build says nothing a newcomer would have to read past (``make install`` prints only errors)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from core.settings import ROOT


def test_the_wheel_builds_without_warnings_and_ships_its_data(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"},
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert "Warning" not in built.stdout + built.stderr, built.stderr
    (wheel,) = tmp_path.glob("four_orders-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "api/web/templates/base.html",
        "api/web/locale/zh_CN/LC_MESSAGES/messages.po",
        "migrations/script.py.mako",
        "migrations/versions/0001_initial_schema.py",
        "twilio_sim/app.py",
        "worker.py",
    ):
        assert shipped in names, shipped
