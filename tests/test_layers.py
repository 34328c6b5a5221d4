"""The layers ``scripts/layers.py`` states hold for our code, and the check sees a breach."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import layers

pytestmark = pytest.mark.unit


def test_no_module_imports_above_its_layer_or_round_a_cycle() -> None:
    assert layers.breaches() == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    (root / "worker.py").write_text("")
    for top in layers.SOURCES:
        (root / top).mkdir()
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_check_finds_an_upward_import_a_sibling_import_and_a_cycle(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "core/logs.py": "from workflows.order import workflow\n",
            "workflows/order/workflow.py": "",
            "api/projection.py": "def f():\n    from activities import database\n",
            "activities/database.py": "",
            "bench/run.py": "from bench import scaling\n",
            "bench/scaling.py": "from bench.run import main\n",
            # A package gathering its own submodules is no cycle.
            "twilio_sim/__init__.py": "from twilio_sim.app import create_app\n",
            "twilio_sim/app.py": "from twilio_sim import behaviour\n",
            "twilio_sim/behaviour.py": "",
        },
    )
    assert layers.breaches(root) == [
        "core.logs (core) imports workflows.order.workflow (workflows)",
        "api.projection imports activities.database: api and activities are apart",
        "import cycle among bench.run, bench.scaling",
    ]
