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

    def recordings(self, *, settled: bool = True) -> list[dict[str, Any]]:
        if settled:
            self.wait()
        response = self.http.get("/sim/recordings")
        response.raise_for_status()
        recordings: list[dict[str, Any]] = response.json()["recordings"]
        return recordings

    def number(
        self,
        phone: str,
        *,
        voice_url: str | None = None,
        sms_url: str | None = None,
        voice_method: str = "POST",
        sms_method: str = "POST",
        status_callback: str | None = None,
    ) -> dict[str, Any]:
        """Says where inbound calls and SMS to our number ``phone`` go."""
        response = self.http.put(
            f"/sim/numbers/{phone}",
            json={
                "voice_url": voice_url,
                "voice_method": voice_method,
                "sms_url": sms_url,
                "sms_method": sms_method,
                "status_callback": status_callback,
            },
        )
        response.raise_for_status()
        number: dict[str, Any] = response.json()
        return number

    def numbers(self) -> dict[str, Any]:
        response = self.http.get("/sim/numbers")
        response.raise_for_status()
        numbers: dict[str, Any] = response.json()
        return numbers

    def forget_number(self, phone: str) -> None:
        self.http.delete(f"/sim/numbers/{phone}").raise_for_status()

    def inbound_call(
        self,
        from_: str,
        to: str,
        behaviour: str = "answer:",
        *,
        recording_seconds: int | list[int] = 5,
        record_finish: str = "",
        dial_outcome: str = "completed",
    ) -> str:
        """A resident at ``from_`` calls our number ``to``; returns the call's sid at once
        (``wait()`` or ``call(sid)`` for how it went).

        ``behaviour`` is the caller's keys at successive <Gather>s (``"answer:1,3"``);
        ``recording_seconds`` what they say at each <Record>; ``record_finish`` the key that
        ends a recording, or ``"hangup"``; ``dial_outcome`` what a <Dial>ed party does.
        """
        response = self.http.post(
            "/sim/inbound-calls",
            json={
                "from": from_,
                "to": to,
                "behaviour": behaviour,
                "recording_seconds": recording_seconds,
                "record_finish": record_finish,
                "dial_outcome": dial_outcome,
            },
        )
        response.raise_for_status()
        sid: str = response.json()["sid"]
        return sid

    def inbound_message(
        self, from_: str, to: str, body: str, *, duplicate: bool = False
    ) -> dict[str, Any]:
        """A resident at ``from_`` texts our number ``to``; returns once the application has
        answered: ``{"sid", "replies": [bodies], "reply_sids", "deliveries"}``."""
        response = self.http.post(
            "/sim/inbound-messages",
            json={"from": from_, "to": to, "body": body, "duplicate": duplicate},
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def outage(self, mode: str, seconds: float) -> None:
        """The REST API fails for ``seconds``: 500s (``"error"``) or no answer (``"hang"``)."""
        self.http.put("/sim/outage", json={"mode": mode, "seconds": seconds}).raise_for_status()

    def reset(self) -> None:
        self.http.delete("/sim/state").raise_for_status()
