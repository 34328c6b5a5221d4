"""What a contract test needs besides the fixtures: the SDK client and the verdicts."""

from __future__ import annotations

import json
from typing import Any

from twilio.rest import Client

from tests.contract.prism import violations
from twilio_sim.control import RecordingHttpClient, twilio_client_for

CONTRACT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
CONTRACT_AUTH_TOKEN = "contract-token"  # Prism checks that Basic auth is present, not its value

__all__ = [
    "CONTRACT_ACCOUNT_SID",
    "CONTRACT_AUTH_TOKEN",
    "RecordingHttpClient",
    "assert_accepted",
    "contract_client",
    "twilio_client_for",
]


def contract_client(base_url: str) -> tuple[Client, RecordingHttpClient]:
    """The real twilio SDK pointed at ``base_url``, and the HTTP client that saw its answers."""
    http = RecordingHttpClient()
    client = twilio_client_for(
        base_url, CONTRACT_ACCOUNT_SID, CONTRACT_AUTH_TOKEN, http_client=http
    )
    return client, http


def assert_accepted(http: RecordingHttpClient) -> None:
    """Every request the SDK made was accepted (2xx) by Prism."""
    assert http.responses, "the SDK sent no request"
    for response in http.responses:
        assert 200 <= response.status_code < 300, (
            f"Prism refused a request ({response.status_code}): "
            f"{json.dumps(violations(response.text), ensure_ascii=False) or response.text}"
        )


def last_violations(http: RecordingHttpClient) -> list[dict[str, Any]]:
    return violations(http.responses[-1].text) if http.responses else []
