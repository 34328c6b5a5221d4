"""The refusals a group of routes documents in OpenAPI, each with the ``ErrorOut`` body."""

from __future__ import annotations

from typing import Any

from api.schemas import ErrorOut


def refusals(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a router: each status with its description and ``ErrorOut``."""
    return {
        status: {"model": ErrorOut, "description": description}
        for status, description in descriptions.items()
    }
