"""The HTTP API as clients see it (routes, parameters, schemas, statuses) stays as recorded.

``openapi_snapshot.json`` is the contract; a deliberate API change records it again with
``python -m tests.api.test_openapi_snapshot``. Key order is ignored, nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from api.main import create_app
from core.settings import Settings

SNAPSHOT = Path(__file__).with_name("openapi_snapshot.json")


def openapi() -> dict[str, Any]:
    # Only the routes are built: the lifespan (database, Temporal) never starts.
    # Run alone (to re-record) it has no conftest: a secret of its own, which signs nothing.
    settings = Settings(
        environment="test", database_url="sqlite:///unused.db", jwt_secret=SecretStr("s" * 32)
    )
    app = create_app(settings)
    document: dict[str, Any] = json.loads(json.dumps(app.openapi()))
    return document


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)


def test_openapi_matches_the_snapshot() -> None:
    assert _text(openapi()) == _text(json.loads(SNAPSHOT.read_text(encoding="utf-8")))


if __name__ == "__main__":
    SNAPSHOT.write_text(_text(openapi()) + "\n", encoding="utf-8")
