"""Clients: the simulator's ``/sim/`` control API, and the real twilio SDK pointed anywhere."""

from __future__ import annotations

from typing import Any

import httpx
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client


def twilio_client_for(
    base_url: str,
    account_sid: str,
    auth_token: str,
    *,
    http_client: TwilioHttpClient | None = None,
) -> Client:
    """The real twilio SDK client, with its REST API (api.twilio.com) replaced by ``base_url``.

    twilio-python 9 builds every Calls/Messages URL from ``client.api.base_url`` (the Api
    domain), so replacing it redirects ``client.calls`` and ``client.messages`` and nothing
    else. A ``TWILIO_EDGE`` / ``TWILIO_REGION`` environment would rewrite the host again, so
    both are cleared on this client.
    """
    client = Client(account_sid, auth_token, http_client=http_client)
    client.edge = None
    client.region = None
    client.api.base_url = base_url.rstrip("/")
    return client


# twilio-python ships no type information: its client is Any to mypy.
class RecordingHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """The SDK's default HTTP client, keeping every response (for assertion messages)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.responses: list[Response] = []

    def request(self, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().request(*args, **kwargs)
        self.responses.append(response)
        return response


class SimControl:
    """The ``/sim/`` API of a running simulator, for tests and scripts.

    Example:
        >>> sim = SimControl("http://127.0.0.1:8091")
        >>> sim.script("+8613800000001", ["no-answer", "answer:2"])
        >>> ...  # place calls through the real SDK
        >>> calls = sim.calls(settled=True)
    """

    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def script(
        self,
        phone: str,
        behaviours: list[str] | None = None,
        *,
        messages: list[str] | None = None,
        duplicate_callbacks: bool = False,
        append: bool = False,
    ) -> dict[str, Any]:
        """Queues what ``phone`` does on its next calls (and SMS outcomes)."""
        response = self.http.put(
            f"/sim/scripts/{phone}",
            json={
                "behaviours": behaviours or [],
                "messages": messages or [],
                "duplicate_callbacks": duplicate_callbacks,
                "append": append,
            },
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def wait(self, timeout: float = 30.0) -> None:
        """Blocks until every call and message has played out.

        Raises:
            TimeoutError: If work is still running after ``timeout`` seconds.
        """
        response = self.http.post("/sim/wait", params={"max_wait": timeout})
        response.raise_for_status()
        body = response.json()
        if not body["settled"]:
            raise TimeoutError(f"simulator still busy after {timeout}s: {body}")

    def calls(self, *, settled: bool = True) -> list[dict[str, Any]]:
        if settled:
            self.wait()
        response = self.http.get("/sim/calls")
        response.raise_for_status()
        calls: list[dict[str, Any]] = response.json()["calls"]
        return calls

    def call(self, sid: str, *, settled: bool = True) -> dict[str, Any]:
        if settled:
            self.wait()
        response = self.http.get(f"/sim/calls/{sid}")
        response.raise_for_status()
        call: dict[str, Any] = response.json()
        return call

    def messages(self, *, settled: bool = True) -> list[dict[str, Any]]:
        if settled:
            self.wait()
        response = self.http.get("/sim/messages")
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    def message(self, sid: str, *, settled: bool = True) -> dict[str, Any]:
        if settled:
            self.wait()
        response = self.http.get(f"/sim/messages/{sid}")
        response.raise_for_status()
        message: dict[str, Any] = response.json()
        return message

    def outage(self, mode: str, seconds: float) -> None:
        """The REST API fails for ``seconds``: 500s (``"error"``) or no answer (``"hang"``)."""
        self.http.put("/sim/outage", json={"mode": mode, "seconds": seconds}).raise_for_status()

    def reset(self) -> None:
        self.http.delete("/sim/state").raise_for_status()
