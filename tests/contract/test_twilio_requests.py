"""The project's Twilio requests, sent by the real twilio SDK, against Twilio's own API description.

Prism (``prism mock --errors``) serves Twilio's OpenAPI description of API v2010 and answers
422 to any request the description does not allow; the SDK surfaces that as a
``TwilioRestException``. These tests send exactly the calls and messages the project makes.

Known deviations of the mock, each handled narrowly (keep this list short and current):

1. **Repeated form fields.** twilio-python sends a list parameter such as
   ``StatusCallbackEvent`` as the field repeated (``StatusCallbackEvent=initiated&
   StatusCallbackEvent=ringing...``), which is how Twilio's API takes it; Prism decodes a
   form-urlencoded array only from ``StatusCallbackEvent[]=...`` and refuses the repeated (or
   single) field with "Request body property StatusCallbackEvent must be array". So the call is
   sent to Prism without ``status_callback_event``, and a second test sends it *with* the events
   and asserts that this one violation is the *only* one Prism reports. That the events are
   understood is checked against the simulator (``tests/twilio_sim``), which reads the repeated
   field as Twilio does.
2. **Error shape.** Prism's refusals are ``422 application/problem+json`` (RFC 7807) with a
   ``validation`` list, not Twilio's ``400 {"code": 21xxx}``; the tests check the status and the
   violation, never a Twilio error code (those are checked against the simulator).
3. **Answers are the spec's examples** (sid ``CAaaaa...``, ``status: completed``), not echoes of
   the request: the tests check that a request was accepted and parses, not what came back.
4. **Credentials are not checked**, only that HTTP Basic auth is present.

Looseness of the description itself, not enforced here: ``MachineDetection`` is a free string
(no enum) and phone numbers are not checked for E.164; the simulator refuses bad values.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from tests.contract.helpers import (
    CONTRACT_ACCOUNT_SID,
    CONTRACT_AUTH_TOKEN,
    assert_accepted,
    contract_client,
    last_violations,
)

RESIDENT = "+8613800000001"
CENTER = "+15005550006"
ALL_EVENTS = ["initiated", "ringing", "answered", "completed"]

# The outbound follow-up call, exactly as the project places it.
CALL: dict[str, Any] = {
    "to": RESIDENT,
    "from_": CENTER,
    "url": "https://example.org/api/twilio/voice/1/twiml",
    "method": "POST",
    "status_callback": "https://example.org/api/twilio/voice/1/status",
    "status_callback_method": "POST",
    "status_callback_event": ALL_EVENTS,
    "machine_detection": "Enable",
    "timeout": 30,
}
# Deviation 1: everything but the repeated field goes to Prism.
CALL_FOR_PRISM = {k: v for k, v in CALL.items() if k != "status_callback_event"}

MESSAGE: dict[str, Any] = {
    "to": RESIDENT,
    "from_": CENTER,
    "body": "志愿服务提醒：…",
    "status_callback": "https://example.org/api/twilio/sms/status",
}

KNOWN_REPEATED_FIELD_VIOLATION = {
    "location": ["body", "StatusCallbackEvent"],
    "code": "type",
}


def test_the_follow_up_call_matches_twilios_spec(prism_base_url: str) -> None:
    client, http = contract_client(prism_base_url)
    call = client.calls.create(**CALL_FOR_PRISM)
    assert_accepted(http)
    assert call.sid is not None and call.sid.startswith("CA")


def test_status_callback_events_are_the_only_known_deviation(prism_base_url: str) -> None:
    """The full call, events included: Prism may refuse it only for deviation 1."""
    client, http = contract_client(prism_base_url)
    try:
        client.calls.create(**CALL)
    except TwilioRestException as exc:
        assert exc.status == 422, exc
        found = [
            {"location": v.get("location"), "code": v.get("code")} for v in last_violations(http)
        ]
        assert found == [KNOWN_REPEATED_FIELD_VIOLATION], (
            "Prism found more than the known StatusCallbackEvent deviation: "
            f"{last_violations(http)}"
        )
    else:
        # Prism learned to read repeated fields: deviation 1 can go from the docstring.
        assert_accepted(http)


def test_the_reminder_sms_matches_twilios_spec(prism_base_url: str) -> None:
    client, http = contract_client(prism_base_url)
    message = client.messages.create(**MESSAGE)
    assert_accepted(http)
    assert message.sid is not None and message.sid.startswith("SM")


def test_fetching_and_ending_a_call_and_fetching_a_message_match(prism_base_url: str) -> None:
    client, http = contract_client(prism_base_url)
    client.calls("CA" + "1" * 32).fetch()
    client.calls("CA" + "1" * 32).update(status="completed")
    client.messages("SM" + "1" * 32).fetch()
    assert_accepted(http)
    assert len(http.responses) == 3


def _raw_call(prism_base_url: str, form: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{prism_base_url}/2010-04-01/Accounts/{CONTRACT_ACCOUNT_SID}/Calls.json",
        data=form,
        auth=(CONTRACT_ACCOUNT_SID, CONTRACT_AUTH_TOKEN),
    )


@pytest.mark.parametrize(
    ("form", "where"),
    [
        ({"From": CENTER, "Url": CALL["url"]}, ["body"]),
        (
            {"To": RESIDENT, "From": CENTER, "Url": CALL["url"], "Method": "FETCH"},
            ["body", "Method"],
        ),
        (
            {"To": RESIDENT, "From": CENTER, "Url": CALL["url"], "Timeout": "soon"},
            ["body", "Timeout"],
        ),
    ],
    ids=["missing-To", "bad-Method-enum", "non-integer-Timeout"],
)
def test_a_request_violating_the_spec_is_refused(
    prism_base_url: str, form: dict[str, str], where: list[str]
) -> None:
    """The contract can fail: Prism does validate what it is sent."""
    response = _raw_call(prism_base_url, form)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert [v["location"] for v in problem["validation"]] == [where]


def test_the_sdk_surfaces_a_refusal_as_an_exception(prism_base_url: str) -> None:
    client, http = contract_client(prism_base_url)
    with pytest.raises(TwilioRestException) as info:
        client.calls.create(**{**CALL_FOR_PRISM, "method": "FETCH"})
    assert info.value.status == 422
    assert [v["location"] for v in last_violations(http)] == [["body", "Method"]]


def test_a_malformed_account_sid_is_refused(prism_base_url: str) -> None:
    response = httpx.post(
        f"{prism_base_url}/2010-04-01/Accounts/AC123/Calls.json",
        data={"To": RESIDENT, "From": CENTER, "Url": CALL["url"]},
        auth=("AC123", CONTRACT_AUTH_TOKEN),
    )
    assert response.status_code == 422
