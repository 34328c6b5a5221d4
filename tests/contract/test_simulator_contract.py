"""The simulator against the same description: its answers have Twilio's shape.

The Prism tests check what the project *sends*; these check that what the simulator *answers*
looks like Twilio's resources, so code tested against the simulator reads real answers too.
They need only the OpenAPI description, not Prism, and cross-check one request both ways.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.contract.helpers import (
    CONTRACT_ACCOUNT_SID,
    CONTRACT_AUTH_TOKEN,
    assert_accepted,
    contract_client,
)
from tests.contract.test_twilio_requests import CALL, CALL_FOR_PRISM, MESSAGE
from twilio_sim import SimControl, ThreadedServer, create_app


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    # The requests name example.org webhooks: answer them in-process, never over the network.
    app = create_app(
        account_sid=CONTRACT_ACCOUNT_SID,
        auth_token=CONTRACT_AUTH_TOKEN,
        default_behaviour="busy",
        # Every webhook is answered with an empty TwiML document (a call then hangs up).
        transport=httpx.MockTransport(lambda request: httpx.Response(200, text="<Response/>")),
    )
    with ThreadedServer(app) as server:
        yield server.base_url
        SimControl(server.base_url).reset()


def _schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"][name]
    return schema


def _enum(spec: dict[str, Any], prop: dict[str, Any]) -> list[str]:
    ref = prop["$ref"].rsplit("/", 1)[-1]
    values: list[str] = _schema(spec, ref)["enum"]
    return values


def _check_resource(spec: dict[str, Any], schema_name: str, resource: dict[str, Any]) -> None:
    props = _schema(spec, schema_name)["properties"]
    assert set(resource) == set(props), (
        f"{schema_name}: missing {sorted(set(props) - set(resource))}, "
        f"extra {sorted(set(resource) - set(props))}"
    )
    for name, prop in props.items():
        value = resource[name]
        if value is None:
            assert prop.get("nullable") or "$ref" in prop, f"{name} is null, spec says not null"
            continue
        if "$ref" in prop:
            assert value in _enum(spec, prop), f"{name}={value!r} is not in the spec's enum"
        elif prop.get("type") == "string":
            assert isinstance(value, str), f"{name} should be a string, is {value!r}"
        elif prop.get("type") == "integer":
            assert isinstance(value, int), f"{name} should be an integer, is {value!r}"
        elif prop.get("type") == "object":
            assert isinstance(value, dict), f"{name} should be an object, is {value!r}"


def test_the_simulators_call_resource_has_twilios_properties(
    twilio_spec: dict[str, Any], sim_url: str
) -> None:
    client, http = contract_client(sim_url)
    call = client.calls.create(**CALL)
    assert_accepted(http)
    _check_resource(twilio_spec, "api.v2010.account.call", json.loads(http.responses[-1].text))
    SimControl(sim_url).wait()
    fetched = client.calls(call.sid).fetch()
    _check_resource(twilio_spec, "api.v2010.account.call", json.loads(http.responses[-1].text))
    assert fetched.status == "busy"


def test_the_simulators_message_resource_has_twilios_properties(
    twilio_spec: dict[str, Any], sim_url: str
) -> None:
    client, http = contract_client(sim_url)
    client.messages.create(**MESSAGE)
    assert_accepted(http)
    _check_resource(twilio_spec, "api.v2010.account.message", json.loads(http.responses[-1].text))


def test_the_simulator_serves_the_specs_paths(twilio_spec: dict[str, Any]) -> None:
    """Every REST path the simulator routes is one Twilio describes.

    Except a recording's audio (``.../Recordings/RE...``, ``.wav``, ``.mp3``): Twilio serves
    it at the RecordingUrl, which its API description does not list as a path.
    """
    app = create_app(account_sid=CONTRACT_ACCOUNT_SID, auth_token=CONTRACT_AUTH_TOKEN)
    paths = [str(getattr(route, "path", "")) for route in app.routes]
    media = "/2010-04-01/Accounts/{account_sid}/Recordings/{media}"
    assert media in paths
    ours = {
        path.replace("{account_sid}", "{AccountSid}").replace("{sid}", "{Sid}")
        for path in paths
        if path.startswith("/2010-04-01/") and path != media
    }
    assert ours, "no REST routes found"
    assert ours <= set(twilio_spec["paths"]), ours - set(twilio_spec["paths"])


def test_the_same_call_is_accepted_by_prism_and_the_simulator(
    prism_base_url: str, sim_url: str
) -> None:
    for base_url in (prism_base_url, sim_url):
        client, http = contract_client(base_url)
        client.calls.create(**CALL_FOR_PRISM)
        assert_accepted(http)


def _recording_sid(sim_url: str, client: Any) -> str:
    """A recording made the way the IVR makes one: a <Record> in a call."""
    control = SimControl(sim_url)
    control.script(MESSAGE["to"], ["answer:"])
    call = client.calls.create(
        to=MESSAGE["to"],
        from_=MESSAGE["from_"],
        twiml='<Response><Record action="https://example.org/recorded" maxLength="60"/></Response>',
    )
    [sid] = control.call(call.sid)["recordings"]
    recording_sid: str = sid
    return recording_sid


def test_the_simulators_recording_resource_has_twilios_properties(
    twilio_spec: dict[str, Any], sim_url: str
) -> None:
    client, http = contract_client(sim_url)
    sid = _recording_sid(sim_url, client)
    client.recordings(sid).fetch()
    _check_resource(twilio_spec, "api.v2010.account.recording", json.loads(http.responses[-1].text))
    client.recordings.list()
    listed = json.loads(http.responses[-1].text)["recordings"]
    _check_resource(twilio_spec, "api.v2010.account.recording", listed[0])


def test_inbound_and_reply_messages_have_twilios_properties(
    twilio_spec: dict[str, Any], sim_url: str
) -> None:
    control = SimControl(sim_url)
    control.number(MESSAGE["from_"], sms_url="https://example.org/api/twilio/inbound/sms")
    result = control.inbound_message(MESSAGE["to"], MESSAGE["from_"], "1")
    client, http = contract_client(sim_url)
    client.messages(result["sid"]).fetch()
    _check_resource(twilio_spec, "api.v2010.account.message", json.loads(http.responses[-1].text))
    assert json.loads(http.responses[-1].text)["direction"] == "inbound"


def test_the_same_recording_fetch_and_delete_are_accepted_by_prism_and_the_simulator(
    prism_base_url: str, sim_url: str
) -> None:
    for base_url in (prism_base_url, sim_url):
        client, http = contract_client(base_url)
        sid = _recording_sid(sim_url, client) if base_url == sim_url else "RE" + "a" * 32
        client.recordings(sid).fetch()
        assert client.recordings(sid).delete() is True
        assert_accepted(http)
