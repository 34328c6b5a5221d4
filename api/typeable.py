"""Text no person types, refused wherever a request carries it (a pure ASGI middleware).

Bodies refuse it field by field (``schemas.Strict``); this refuses it in the path and the
query string, before routing, so every route has it, a route added later too, and none
hands a NUL to PostgreSQL (which refuses it: a 500). The answer is the shape of FastAPI's
own 422, without what was sent.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from api.body_limit import send_json
from api.errors import INVALID_REQUEST

# C0 controls but tab and newlines, DEL, the bidirectional overrides that make text read
# differently than it is stored, and lone surrogates (no character at all; PostgreSQL and
# UTF-8 refuse them).
UNTYPEABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# The same as a JSON Schema pattern for the API document. Lone surrogates are left out:
# ECMA regexes without the ``u`` flag would read them as refusing every emoji, and neither
# JSON nor percent-decoding can carry one to us anyway.
TYPEABLE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]*$"
UNTYPEABLE_MESSAGE = "contains control or direction-override characters"


def document_typeable(schema: dict[str, Any]) -> None:
    """A free text JSON schema (or its ``anyOf`` branches, or their items) gets the pattern
    that says it takes no untypeable text; one with a pattern, a format or a set of values
    says what it takes already."""
    for branch in schema.get("anyOf", [schema]):
        text = branch.get("items", {}) if branch.get("type") == "array" else branch
        if text.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(text):
            text["pattern"] = TYPEABLE_PATTERN


def untypeable_parameter(scope: Scope) -> list[str] | None:
    """Where a request's path or query (its names or values) holds untypeable text."""
    if UNTYPEABLE.search(scope.get("path", "")):
        return ["path"]
    for name, value in QueryParams(scope.get("query_string", b"")).multi_items():
        if UNTYPEABLE.search(name) or UNTYPEABLE.search(value):
            # The name only when it could be one of ours: nothing else is repeated back.
            named = len(name) <= 64 and not UNTYPEABLE.search(name)
            return ["query", name] if named else ["query"]
    return None


class TypeableParameters:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        where = untypeable_parameter(scope) if scope["type"] == "http" else None
        if where is None:
            await self.app(scope, receive, send)
            return
        error = {"loc": where, "msg": f"Value error, {UNTYPEABLE_MESSAGE}", "type": "value_error"}
        await send_json(send, 422, {"detail": [error], "code": INVALID_REQUEST})
