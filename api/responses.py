"""The refusals a group of routes documents in OpenAPI, each with the ``ErrorOut`` body, and
those every route of a kind can answer, added to the document in one place."""

from __future__ import annotations

from typing import Any

from api.schemas import ErrorOut
from api.typeable import document_typeable


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


def document_refusals(document: dict[str, Any]) -> dict[str, Any]:
    """What the document would otherwise leave out: each 422's two shapes; the refusals that
    come before any route's own code (sign-in, the body, the database or Temporal down),
    described once in ``components/responses``; and that text parameters refuse control
    characters (``api/typeable.py``)."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    shared = document.setdefault("components", {}).setdefault("responses", {})
    for name, description in _COMMON.values():
        shared[name] = {"description": description, "content": error}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            invalid = responses.get("422")
            if invalid is not None:
                invalid["content"] = {"application/json": {"schema": VALIDATION_OR_REFUSAL}}
            common = ["503"]
            if "security" in operation:
                common += ["401", "403"]
            if "requestBody" in operation:
                common += ["400", "413"]
            for status in common:
                reference = {"$ref": f"#/components/responses/{_COMMON[status][0]}"}
                responses.setdefault(status, reference)
            for parameter in operation.get("parameters", ()):
                if parameter.get("in") in ("path", "query"):
                    document_typeable(parameter.get("schema", {}))
    return document


_COMMON = {
    "400": ("Unparsable", "The body cannot be parsed (not JSON, not UTF-8)"),
    "401": ("NotSignedIn", "Not signed in, or the sign-in has expired"),
    "403": ("Forbidden", "This account may not do this"),
    "413": ("TooLarge", "The body is over the size limit"),
    "503": ("Unavailable", "The database or the workflow service is unavailable; retry"),
}
