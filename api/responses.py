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


VALIDATION_OR_REFUSAL = {
    "anyOf": [
        {"$ref": "#/components/schemas/HTTPValidationError"},
        {"$ref": "#/components/schemas/ErrorOut"},
    ]
}


def document_422s(document: dict[str, Any]) -> dict[str, Any]:
    """Every 422 is either the request's shape (the fields and rules, FastAPI's list) or a
    store's refusal of what the fields name (an unknown item, township …: ``ErrorOut``)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            invalid = operation.get("responses", {}).get("422")
            if invalid is not None:
                invalid["content"] = {"application/json": {"schema": VALIDATION_OR_REFUSAL}}
    return document
