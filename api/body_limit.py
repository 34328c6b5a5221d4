"""Refuse request bodies over a size with 413 before anyone reads them (a pure ASGI middleware).

Every body this API takes is a small form or JSON document; a 100 MB one is an attack or a
mistake, and reading it would cost memory and time for nothing.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1024 * 1024
TOO_LARGE = "RequestTooLarge"
# A photo upload (a 5 MB photo in a multipart form) is the one larger body; the route
# checks the photo's own size.
UPLOADS = re.compile(r"^/api/orders/[^/]+/photos$")
MAX_UPLOAD = 5 * 1024 * 1024 + 64 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = MAX_UPLOAD if UPLOADS.match(scope.get("path", "")) else self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        received = 0
        refused = False

        async def counting() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # A body sent in chunks without a length: stop reading it here.
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused and not started:
                started = True
                await self._refuse(send, limit)
                return
            if not refused:
                started = started or message["type"] == "http.response.start"
                await send(message)

        await self.app(scope, counting, guarded_send)
        if refused and not started:
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        refusal = {"detail": f"the request body is over {limit} bytes", "code": TOO_LARGE}
        await send_json(send, 413, refusal)


async def send_json(send: Send, status: int, payload: object) -> None:
    """A whole JSON response, from a middleware that answers before the app."""
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
